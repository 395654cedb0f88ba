"""A 2-D set's picture beside the loss on small terminals (issue 23): the decision regions (or, for a
regression set on the plane, the predicted value) drawn by ``unit_views.plane_text`` as the learned
panel draws them, for the unit, classes and points that panel shows. Its own small class, so that
``query_one(LearnedPlot)`` still finds the one learned panel."""

from __future__ import annotations

import numpy as np
from dltui.core.engine import curves
from dltui.tui.widgets import unit_views
from rich.text import Text
from textual.widget import Widget


class RegionsBeside(Widget):
    DEFAULT_CSS = "RegionsBeside { height: 1fr; text-wrap: nowrap; text-overflow: clip; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data, self.params, self.activations = None, None, []
        self.mode = "none"  # regions: a 2-D generator's data (the only case drawn)
        self.unit, self.discrete, self.points = None, False, "train"
        self.heat = self.decision = None

    def configure(self, data, spec) -> None:
        raw = data.raw_train
        plane = raw is not None and raw.ndim == 2 and raw.shape[1] == 2 and spec.values["data"]["kind"] != "csv"
        self.mode, self.data, self.params = ("regions" if plane else "none"), data, None
        self.activations = list(spec.activations)
        if plane:
            self.x1_range = curves.padded_range(raw[:, 0], 0.05)
            self.x2_range = curves.padded_range(raw[:, 1], 0.05)
        self.refresh()

    def show_params(self, params, like=None) -> None:
        """New weights; ``like``: the learned panel whose unit, classes and points to show."""
        if like is not None:
            self.unit, self.discrete, self.points = like.unit, like.discrete, like.points
        self.params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
        self.refresh()

    def render(self) -> Text:
        if self.mode != "regions" or self.params is None:
            return Text("")
        with np.errstate(all="ignore"):
            return unit_views.plane_text(self, self.content_size.width, self.content_size.height)

"""What the Playground loop costs the UI thread (a benchmark, run on purpose; prints, asserts nothing).

1. The 2-D plane in the learned panel (spiral, a 4-16-16-16-2 tanh net): the output shaded by confidence
   and one hidden unit's heatmap, at the panel's size at 80x24, at 100x30 and at the largest grid
   (160x80 cells), against the reference in the same run: the bare NumPy forward pass on the same grid
   (``curves.decision_grid``), so the ratio is the cost of building the styled text.
2. One editor edit, validated as the CLI validates it: a data field (the data set is rebuilt) and a
   training field (no data).

    python benchmarks/bench_playground.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from dltui.core.config.spec import load_preset  # noqa: E402
from dltui.core.engine import curves  # noqa: E402
from dltui.core.training.trainer import Trainer  # noqa: E402
from dltui.tui.screens.preset_edit import PresetEdit  # noqa: E402
from dltui.tui.widgets import unit_views  # noqa: E402
from dltui.tui.widgets.learned_plot import LearnedPlot  # noqa: E402


def timings(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def show(name: str, ms: list[float], ref: list[float] | None = None) -> None:
    med = statistics.median(ms)
    ratio = f"  {med / statistics.median(ref):5.1f}x the forward pass" if ref else ""
    print(f"{name:<44} median {med:6.2f} ms (range {min(ms):.2f}-{max(ms):.2f}){ratio}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    n = ap.parse_args().repeat
    spec = load_preset("spiral", {"model.hidden": [16, 16, 16]})
    t = Trainer(spec, "numpy")
    plot = LearnedPlot()
    plot.configure(t.data, spec)
    plot.show_params(t.backend.get_params())
    for label, (w, h) in (("80x24 panel", (80, 8)), ("100x30 panel", (54, 17)), ("largest grid", (166, 82))):
        nx, ny = min(max(w - 6, 8), 160), min(max(h - 2, 3), 80)
        ref = timings(lambda nx=nx, ny=ny: curves.decision_grid(plot.params, plot.activations, t.data.features.encode,
                                                                plot.x1_range, plot.x2_range, nx, ny), n)
        show(f"forward pass only, {nx}x{ny} cells ({label})", ref)
        plot.unit = None
        show("  output, shaded by confidence", timings(lambda w=w, h=h: unit_views.plane_text(plot, w, h), n), ref)
        plot.unit = (2, 3)
        show("  unit 3.4 heatmap", timings(lambda w=w, h=h: unit_views.plane_text(plot, w, h), n), ref)
    e = PresetEdit(load_preset("spiral"))
    labels = [r.label for r in e.rows()]
    e.cursor = labels.index("noise")
    show("editor: noise up and down (data rebuilt)", timings(lambda: (e.change(1), e.change(-1)), n))
    e.cursor = labels.index("learning rate")
    show("editor: lr up and down", timings(lambda: (e.change(1), e.change(-1)), n))


if __name__ == "__main__":
    main()

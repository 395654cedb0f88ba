"""Per-layer statistics of a ``torch.nn.Linear`` computed where its tensors are (for
``core.monitor``): the same figures as ``core.backends.base.make_layer_stats`` - mean, std, min, max
and norm of the weights and gradients, the bias norm, the update ratio, the dead/saturated share,
the small histograms - in float64, with two host transfers per record (the figures, then the
histograms over the ranges those figures give) and no copy of the weights to the host.
torch is imported only inside (the caller has it already)."""

from __future__ import annotations

import math

from .. import events as ev
from ..backends.base import HIST_BINS, hist_range


def _figures(torch, t):
    """[mean, std, min, max, norm] of a float64 tensor, on its device (std from the norm and the mean)."""
    n = t.numel()
    mean, norm = t.sum() / n, torch.linalg.vector_norm(t)
    lo, hi = torch.aminmax(t)
    std = torch.sqrt(torch.clamp(norm * norm / n - mean * mean, min=0.0))
    return torch.stack([mean, std, lo, hi, norm])


def _histogram(torch, t, lo: float, hi: float) -> list[int]:
    """``core.backends.base.histogram``'s buckets: HIST_BINS equal ones over [lo, hi] (widened by 0.5
    each side for one value); all zero when a value is not finite."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0] * HIST_BINS
    lo, hi = hist_range(lo, hi)
    return torch.histc(t, HIST_BINS, min=lo, max=hi)


def _inactive(torch, activation: str, a):
    if activation == "relu":
        return (a <= 0.0).all(dim=0).double().mean(), "dead"
    if activation in ("sigmoid", "hard_sigmoid"):
        return ((a < 0.02) | (a > 0.98)).double().mean(), "sat"
    if activation == "tanh":
        return (a.abs() > 0.96).double().mean(), "sat"
    return None, ""


def torch_layer_stats(index: int, activation: str, W, b, dW, prev_W, act_out) -> ev.LayerStats:
    """``make_layer_stats(index, activation, W, b, dW, prev_W, act_out)`` for tensors (``prev_W``
    float64, as ``Monitor`` keeps it); ``dW`` None: no gradient (NaN figures, no histogram)."""
    import torch

    with torch.no_grad():
        W = W.detach().double()
        G = dW.detach().double() if dW is not None else None
        inactive, kind = (None, "") if act_out is None or not act_out.numel() else \
            _inactive(torch, activation, act_out.detach().double())
        nan = torch.tensor(float("nan"), dtype=torch.float64, device=W.device)
        w = _figures(torch, W)
        extra = [torch.linalg.vector_norm(b.detach().double()),
                 torch.linalg.vector_norm(W - prev_W) / (w[4] + 1e-12) if prev_W is not None else nan,
                 inactive if inactive is not None else nan]
        g = _figures(torch, G) if G is not None else nan.expand(5)
        vals = torch.cat([w, torch.stack(extra), g]).tolist()  # the one transfer of the figures
        hists = [_histogram(torch, W, vals[2], vals[3])] + ([_histogram(torch, G, vals[10], vals[11])] if G is not None
                                                          else [])
        hists = [[int(c) for c in (h.tolist() if hasattr(h, "tolist") else h)] for h in hists]
    wm, ws, wlo, whi, wn, bn, ratio, inact, gm, gs, glo, ghi, gn = vals
    return ev.LayerStats(
        index=index, n_in=W.shape[1], n_out=W.shape[0], activation=activation, w_mean=wm, w_std=ws, w_min=wlo,
        w_max=whi, w_norm=wn, b_norm=bn, g_mean=gm, g_std=gs, g_min=glo, g_max=ghi, g_norm=gn,
        update_ratio=ratio if prev_W is not None else None, inactive=inact if inactive is not None else None,
        inactive_kind=kind, w_hist=tuple(hists[0]), g_hist=tuple(hists[1]) if G is not None else ())

"""The torch backend's step-through trace: hooks-free autograd on copies of the weights, recording each
layer's input, z, a and delta, the gradients, and the update a twin optimizer would apply."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from ..engine.trace import LayerTrace, Trace
from .base import optimizer_info
from .torch_ops import ACTIVATION_FUNCTIONS, STATE_NAMES, make_optimizer


def trace_step(be, x, y) -> Trace:
    """Forward + backward on (x, y) at the backend's weights with autograd, and the update its optimizer
    would apply (a twin optimizer on copies): nothing of the backend changes."""
    x = np.asarray(x, be.np_dtype)
    xt, yt = be._tensor_x(x), be._tensor_y(y)
    Ws = [lin.weight.detach().clone().requires_grad_(True) for lin in be.linears]
    bs = [lin.bias.detach().clone().requires_grad_(True) for lin in be.linears]
    a, rec = xt, []
    for i, (W, b) in enumerate(zip(Ws, bs)):
        z = F.linear(a, W, b)
        z.retain_grad()
        a_next = ACTIVATION_FUNCTIONS[be.act_names[i]](z)
        rec.append((a, z, a_next))
        a = a_next
    out = a
    out.retain_grad()
    C = be._loss_fn(out, yt)
    C.backward()

    # the update the optimizer would apply: a twin optimizer on copies, with a copy of the state
    twin_params = [p.detach().clone() for W, b in zip(Ws, bs) for p in (W, b)]
    twin = make_optimizer(be.opt_cfg, twin_params, be.dtype, capturable=be._graph_ok)
    for p, q in zip(be.params, twin_params):  # a copy of the state (load_state_dict would recast it)
        if be.opt.state.get(p):
            twin.state[q] = {k: v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v)
                             for k, v in be.opt.state[p].items()}
    for j, p in enumerate(twin_params):
        p.grad = (Ws if j % 2 == 0 else bs)[j // 2].grad.detach().clone()
    old = [p.clone() for p in twin_params]
    twin.step()
    if be.l1:  # the proximal L1 step the real update applies after the optimizer's
        be._apply_l1(twin_params[0::2])
    updates = [be._host(new - o) for new, o in zip(twin_params, old)]
    state_lists: dict[str, list[np.ndarray]] = {}
    for p in twin_params:
        for k, v in twin.state.get(p, {}).items():
            if k in STATE_NAMES and isinstance(v, torch.Tensor):
                state_lists.setdefault(STATE_NAMES[k], []).append(be._host(v))

    layers = []
    for i, (a_in, z, a_out) in enumerate(rec):
        st = {k: {"W": v[2 * i], "b": v[2 * i + 1]}
              for k, v in state_lists.items() if len(v) == len(updates)}
        layers.append(LayerTrace(
            index=i + 1, activation=be.act_names[i], W=be._host(Ws[i]), b=be._host(bs[i]),
            a_in=be._host(a_in), z=be._host(z), a=be._host(a_out), delta=be._host(z.grad),
            dW=be._host(Ws[i].grad), db=be._host(bs[i].grad),
            update={"W": updates[2 * i], "b": updates[2 * i + 1]}, optimizer_state=st))
    return Trace(x=x.copy(), y=np.asarray(y).copy(), loss=be.loss_name, C=float(C.detach()),
                 output=be._host(out), dC_dout=be._host(out.grad), layers=layers,
                 optimizer=optimizer_info(be.opt_cfg, be.steps + 1), backend=be.name)

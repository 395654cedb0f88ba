"""The torch backend's tables: activations as modules and as functions, dtypes, optimizer state names."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..engine.nn import LeakyReLU

LEAKY_SLOPE = LeakyReLU.slope  # the NumPy engine's, one copy

ACTIVATION_MODULES = {
    "sigmoid": nn.Sigmoid, "hard_sigmoid": nn.Hardsigmoid, "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(LEAKY_SLOPE), "tanh": nn.Tanh, "identity": nn.Identity,
}
ACTIVATION_FUNCTIONS = {
    "sigmoid": torch.sigmoid, "hard_sigmoid": F.hardsigmoid, "relu": F.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, LEAKY_SLOPE), "tanh": torch.tanh, "identity": lambda z: z,
}
TORCH_DTYPES = {"float32": torch.float32, "float64": torch.float64}
STATE_NAMES = {"exp_avg": "m", "exp_avg_sq": "v", "momentum_buffer": "momentum_buffer"}


def make_optimizer(c: dict, params, dtype, capturable: bool = False) -> torch.optim.Optimizer:
    """The preset's optimizer (``c``: its [optimizer] table) over ``params``; ``capturable`` for CUDA graphs."""
    if c["name"] == "sgd":
        return torch.optim.SGD(params, lr=c["lr"], momentum=c["momentum"], weight_decay=c["weight_decay"])
    cls = torch.optim.AdamW if c["name"] == "adamw" else torch.optim.Adam
    opt = cls(params, lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"],
              weight_decay=c["weight_decay"], capturable=capturable)
    # eager steps (warm-up, a last partial batch, a trace) are expected in graph mode: no warning
    opt._warned_capturable_if_run_uncaptured = True
    if capturable and dtype == torch.float64:
        # capturable Adam keeps its step count on the device, in float32 by default, and computes
        # the bias corrections from it there: start it in float64 to keep float64 runs exact
        for p in params:
            opt.state[p] = {"step": torch.zeros((), dtype=torch.float64, device=p.device),
                            "exp_avg": torch.zeros_like(p), "exp_avg_sq": torch.zeros_like(p)}
    return opt


def opt_state(opt: torch.optim.Optimizer, params, name: str) -> tuple[dict, dict]:
    """(tensors ``optim.{m,v,momentum_buffer}.{i}`` on the host, {name, t}): the names the NumPy engine uses."""
    tensors, t = {}, 0
    for i, p in enumerate(params):
        st = opt.state.get(p, {})
        for k, short in STATE_NAMES.items():
            if st.get(k) is not None:
                tensors[f"optim.{short}.{i}"] = st[k].detach().to("cpu").numpy().copy()
        if "step" in st:
            t = int(float(st["step"]))
    return tensors, {"name": name, "t": t}


def load_opt_state(opt: torch.optim.Optimizer, params, tensors: dict, facts: dict, name: str,
                   step_on_device: bool) -> None:
    """``opt_state``'s output back into ``opt``; ValueError when it belongs to another optimizer or shape."""
    if facts.get("name") != name:
        raise ValueError(f"the checkpoint's optimizer is {facts.get('name')!r}, this run's is {name!r}")
    adam = name != "sgd"
    for i, p in enumerate(params):
        st = {}
        for k, short in STATE_NAMES.items():
            a = tensors.get(f"optim.{short}.{i}")
            if a is not None:
                if tuple(a.shape) != tuple(p.shape):
                    raise ValueError(f"optimizer state optim.{short}.{i} has shape {a.shape}, the parameter "
                                     f"{tuple(p.shape)}")
                st[k] = torch.as_tensor(a, dtype=p.dtype, device=p.device).clone()
        if adam and st:
            st["step"] = torch.tensor(float(facts.get("t", 0)), dtype=torch.float64 if p.dtype == torch.float64
                                      else torch.float32, device=p.device if step_on_device else "cpu")
        if st:
            opt.state[p] = st


def warm_up_step(device: str, step) -> None:
    """An eager ``step()`` on a side stream, as CUDA graphs want before a capture."""
    with torch.cuda.device(device):
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            step()
        torch.cuda.current_stream().wait_stream(side)


def record_graph(device: str, body) -> torch.cuda.CUDAGraph:
    """Capture ``body`` in a CUDA graph. Capturing runs nothing: the caller replays it."""
    with torch.cuda.device(device):
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            body()
    return graph


def graph_setting(requested: bool, device: str) -> tuple[bool, str | None]:
    """(use CUDA graphs, a warning for the UI): ``training.graph`` works on CUDA only."""
    if requested and not device.startswith("cuda"):
        return False, (f"CUDA graphs need a CUDA GPU: training runs eagerly on {device} "
                       "(training.graph is ignored).")
    return requested, None

"""One full forward + backward record for one mini-batch, for the step-through.

Every array is a NumPy array (host copies), whatever backend produced it,
with W in the lecture's [out, in] layout. ``to_json`` writes every array with
its shape, for handouts, notebooks and tests.

Besides the record itself this module has what the step-through and ``dltui trace``
share: choosing the mini-batch (``trace_batch``), the stages in the lecture's order
with their formulas and numbers (``stages``), a plain-text rendering (``trace_text``),
and the gradient checks (``finite_difference_check``, ``torch_autograd_check``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class LayerTrace:
    index: int  # 1-based
    activation: str
    W: np.ndarray  # [out, in]
    b: np.ndarray  # [out]
    a_in: np.ndarray  # [batch, in]   a(l-1)
    z: np.ndarray  # [batch, out]  z(l) = W a(l-1) + b
    a: np.ndarray  # [batch, out]  a(l) = sigma(z(l))
    delta: np.ndarray  # [batch, out]  dC/dz(l)
    dW: np.ndarray  # [out, in]     dC/dW(l) = delta(l)^T a(l-1)
    db: np.ndarray  # [out]         dC/db(l) = sum over the batch of delta(l)
    update: dict[str, np.ndarray] = field(default_factory=dict)  # {"W": dW_applied, "b": db_applied}
    optimizer_state: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # {"m": {"W":..,"b":..}}


@dataclass
class Trace:
    x: np.ndarray
    y: np.ndarray
    loss: str  # "mse" | "cross_entropy"
    C: float  # batch-mean loss
    output: np.ndarray  # y_hat (regression) or logits (classification)
    dC_dout: np.ndarray  # dC/d(output) that starts the backward pass
    layers: list[LayerTrace]
    optimizer: dict[str, Any]  # name, lr, step, hyper-parameters
    backend: str = "numpy"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def batch_size(self) -> int:
        return len(self.x)

    def to_dict(self) -> dict:
        def arr(a):
            a = np.asarray(a)
            return {"shape": list(a.shape), "data": a.tolist()}

        layers = []
        for lt in self.layers:
            d = {"index": lt.index, "activation": lt.activation}
            for k in ("W", "b", "a_in", "z", "a", "delta", "dW", "db"):
                d[k] = arr(getattr(lt, k))
            d["sigma_prime"] = arr(sigma_prime(lt.activation, lt.z))
            d["update"] = {k: arr(v) for k, v in lt.update.items()}
            d["optimizer_state"] = {name: {k: arr(v) for k, v in t.items()}
                                    for name, t in lt.optimizer_state.items()}
            layers.append(d)
        dtype = str(np.asarray(self.layers[0].W).dtype) if self.layers else ""
        return {"backend": self.backend, "dtype": dtype,
                "x": arr(self.x), "y": arr(self.y), "loss": self.loss, "C": float(self.C),
                "output": arr(self.output), "dC_dout": arr(self.dC_dout), "layers": layers,
                "optimizer": self.optimizer, **self.extra}

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_dict(), **kw)


def sigma_prime(activation: str, z: np.ndarray) -> np.ndarray:
    """sigma'(z) for a layer's activation (1 for the identity output layer)."""
    from .nn import ACTIVATIONS

    z = np.asarray(z)
    return ACTIVATIONS[activation]().derivative(z)


# ---------------------------------------------------------------- choosing the mini-batch


def batch_rows(n: int, batch_size: int, batch: int) -> tuple[int, int]:
    """[start, stop) of mini-batch ``batch`` when n rows are cut into batches of ``batch_size``
    (0 or less: the whole set is one batch)."""
    bs = n if batch_size <= 0 else batch_size
    count = max(1, -(-n // bs))
    if not 0 <= batch < count:
        raise IndexError(f"batch {batch} does not exist: {n} rows in batches of {bs} make {count} batches "
                         f"(0..{count - 1})")
    return batch * bs, min(n, (batch + 1) * bs)


def trace_batch(source, data=None, *, batch: int | None = None, batch_size: int | None = None,
                sample: int | None = None, rows=None) -> Trace:
    """Trace one mini-batch of the training set at the current weights.

    From a Trainer with no ``batch``, ``sample`` or ``rows``: the batch its next step trains on (the
    epoch's shuffled order). ``rows``: exactly these training rows (e.g. the batch just trained).
    Otherwise mini-batch ``batch`` of the training set in its stored order.

    ``source`` is a Trainer (its backend, data and batch size; the trace runs through
    ``trainer.call`` so it reads a consistent network), a Backend (then give ``data``) or a Spec
    (a fresh network at the preset's initial weights, on its data and backend).
    ``sample`` is a row of the training set: the batch is the one holding it (unless ``batch``
    is given) and ``trace.extra["sample"]`` is its row within the batch.
    """
    from .spec import Spec

    if isinstance(source, Spec):
        from .backends import make_backend
        from .data import load_dataset

        data = data if data is not None else load_dataset(source)
        if batch_size is None:
            batch_size = source.values["training"]["batch_size"]
        source = make_backend(source.values["training"]["backend"], source, data.n_features, data.n_outputs)
    backend = getattr(source, "backend", source)
    data = data if data is not None else source.data
    if rows is not None or (hasattr(source, "next_batch_rows") and batch is None and sample is None):
        return _trace_rows(source, backend, data, rows)
    if batch_size is None:
        batch_size = getattr(source, "batch_size", 0)
    n = len(data.x_train)
    bs = n if batch_size <= 0 else min(batch_size, n)
    if sample is not None and not 0 <= sample < n:
        raise IndexError(f"sample {sample} does not exist: the training set has {n} rows (0..{n - 1})")
    if batch is None:
        batch = 0 if sample is None else sample // bs
    start, stop = batch_rows(n, bs, batch)
    row = 0 if sample is None else sample - start
    if not 0 <= row < stop - start:
        raise IndexError(f"sample {sample} is not in batch {batch} (rows {start}..{stop - 1})")
    x, y = data.x_train[start:stop], data.y_train[start:stop]
    if hasattr(source, "call"):
        tr = source.call(lambda be: be.trace(x, y)).result(timeout=30)
    else:
        tr = backend.trace(x, y)
    tr.extra["batch"] = {"index": batch, "rows": [start, stop], "size": stop - start, "n_train": n,
                         "count": -(-n // bs)}
    tr.extra["sample"] = row
    return tr


def _trace_rows(source, backend, data, rows) -> Trace:
    def work(be):
        r = np.asarray(source.next_batch_rows() if rows is None else rows)
        return r, be.trace(data.x_train[r], data.y_train[r])

    r, tr = source.call(work).result(timeout=30) if hasattr(source, "call") else work(backend)
    n = len(data.x_train)
    bs = getattr(source, "batch_size", 0)
    bs = n if bs <= 0 else bs
    # the next batch's index in the epoch; given rows are, in the app, the batch its last step trained
    index = (getattr(source, "batch", 0) - (0 if rows is None else 1)) % max(1, -(-n // bs))
    tr.extra["batch"] = {"index": index, "row_ids": [int(i) for i in r], "size": len(r), "n_train": n,
                         "count": -(-n // bs), "which": "next" if rows is None else "given"}
    tr.extra["sample"] = 0
    return tr


# ---------------------------------------------------------------- gradient checks


@dataclass(frozen=True)
class GradCheck:
    layer: int  # 1-based
    param: str  # "W" or "b"
    i: int
    j: int | None  # None for a bias
    backprop: float
    other: float  # the finite-difference (or autograd) value
    rel_err: float

    @property
    def name(self) -> str:
        return f"W({self.layer})[{self.i},{self.j}]" if self.param == "W" else f"b({self.layer})[{self.i}]"


def rel_error(a: float, b: float) -> float:
    """|a - b| / max(|a|, |b|), 0 when both are 0 (tiny values compare absolutely)."""
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0.0 else abs(a - b) / max(scale, 1e-12)


def default_picks(trace: Trace, per_layer: int = 2) -> list[tuple[int, str, int, int | None]]:
    """A few weights per layer to check: the largest gradient, one other weight, one bias."""
    picks = []
    for lt in trace.layers:
        dW = np.abs(np.asarray(lt.dW, np.float64))
        i, j = np.unravel_index(int(np.argmax(dW)), dW.shape)
        picks.append((lt.index, "W", int(i), int(j)))
        if per_layer > 1 and dW.size > 1:
            k = (lt.index * 7919) % dW.size
            if np.unravel_index(k, dW.shape) == (i, j):
                k = (k + 1) % dW.size
            i2, j2 = np.unravel_index(k, dW.shape)
            picks.append((lt.index, "W", int(i2), int(j2)))
        db = np.abs(np.asarray(lt.db, np.float64))
        picks.append((lt.index, "b", int(np.argmax(db)), None))
    return picks


def loss_at(params: list[tuple[np.ndarray, np.ndarray]], activations: list[str], loss: str,
            x: np.ndarray, y: np.ndarray) -> float:
    """The batch-mean loss of a network, forward only, in float64 with plain NumPy."""
    a = np.asarray(x, np.float64)
    for (W, b), act in zip(params, activations):
        z = a @ np.asarray(W, np.float64).T + np.asarray(b, np.float64)
        a = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0.0),
             "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh,
             "hard_sigmoid": lambda z: np.clip(z / 6.0 + 0.5, 0.0, 1.0),
             "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z)}[act](z)
    if loss == "mse":
        return float(np.mean((a - np.asarray(y, np.float64)) ** 2))
    labels = np.asarray(y).astype(int)
    shifted = a - a.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def _params_of(trace: Trace) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(lt.W, np.float64), np.array(lt.b, np.float64)) for lt in trace.layers]


def finite_difference_check(source, x=None, y=None, picks=None, eps: float = 1e-6) -> list[GradCheck]:
    """Backprop's gradient vs a central difference (C(w+eps) - C(w-eps)) / 2eps, computed in float64
    with plain NumPy from the trace's W, b, x and y.

    ``source`` is a Trace, or a Backend to trace on (x, y) first. ``picks`` are (layer, "W"|"b", i, j)
    tuples (j None for a bias); by default a few per layer (``default_picks``)."""
    trace = source if isinstance(source, Trace) else source.trace(x, y)
    picks = default_picks(trace) if picks is None else picks
    acts = [lt.activation for lt in trace.layers]
    out = []
    for layer, param, i, j in picks:
        params = _params_of(trace)
        W, b = params[layer - 1]
        arr, idx = (W, (i, j)) if param == "W" else (b, (i,))
        old = arr[idx]
        arr[idx] = old + eps
        up = loss_at(params, acts, trace.loss, trace.x, trace.y)
        arr[idx] = old - eps
        down = loss_at(params, acts, trace.loss, trace.x, trace.y)
        numeric = (up - down) / (2 * eps)
        lt = trace.layers[layer - 1]
        bp = float(np.asarray(lt.dW if param == "W" else lt.db)[idx])
        out.append(GradCheck(layer, param, i, j, bp, numeric, rel_error(bp, numeric)))
    return out


def torch_autograd_check(source, x=None, y=None, picks=None) -> list[GradCheck] | None:
    """Backprop's gradient vs PyTorch autograd (float64, CPU) on the same W, b, x and y; None
    without torch. ``source`` is a Trace or a Backend to trace on (x, y)."""
    trace = source if isinstance(source, Trace) else source.trace(x, y)
    try:
        import torch
    except ImportError:
        return None
    picks = default_picks(trace) if picks is None else picks
    params = [(torch.tensor(W, dtype=torch.float64, requires_grad=True),
               torch.tensor(b, dtype=torch.float64, requires_grad=True)) for W, b in _params_of(trace)]
    fns = {"identity": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh,
           "hard_sigmoid": torch.nn.functional.hardsigmoid,
           "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01)}
    a = torch.tensor(np.asarray(trace.x, np.float64))
    for (W, b), lt in zip(params, trace.layers):
        a = fns[lt.activation](a @ W.T + b)
    if trace.loss == "mse":
        C = torch.nn.functional.mse_loss(a, torch.tensor(np.asarray(trace.y, np.float64)))
    else:
        C = torch.nn.functional.cross_entropy(a, torch.tensor(np.asarray(trace.y).astype(np.int64)))
    C.backward()
    out = []
    for layer, param, i, j in picks:
        W, b = params[layer - 1]
        idx = (i, j) if param == "W" else (i,)
        auto = float((W.grad if param == "W" else b.grad)[idx])
        lt = trace.layers[layer - 1]
        bp = float(np.asarray(lt.dW if param == "W" else lt.db)[idx])
        out.append(GradCheck(layer, param, i, j, bp, auto, rel_error(bp, auto)))
    return out


# ---------------------------------------------------------------- the stages of the step-through


@dataclass
class Block:
    """One array a stage shows: a column vector (1-D) or a matrix (2-D)."""

    label: str
    value: np.ndarray
    scope: str = "sample"  # "sample": this sample's row; "batch": for the whole mini-batch
    new: bool = False  # computed at this stage (highlighted)


@dataclass
class Stage:
    kind: str  # forward | loss | backward | gradients | update
    layer: int | None  # 1-based; None for the loss
    key: str  # short label: F1, C, B2, G1, U1
    title: str
    formula: str  # in the lecture's notation
    blocks: list[Block]
    facts: list[str]  # the numbers that are not arrays (C, lr, t, ...)
    reading: str  # the chain rule in words


STAGE_KINDS = ("forward", "loss", "backward", "gradients", "update")


def stage_order(n_layers: int) -> list[tuple[str, int | None]]:
    """forward 1..L, loss, backward L..1, gradients 1..L, update 1..L."""
    L = n_layers
    return ([("forward", i) for i in range(1, L + 1)] + [("loss", None)]
            + [("backward", i) for i in range(L, 0, -1)]
            + [("gradients", i) for i in range(1, L + 1)] + [("update", i) for i in range(1, L + 1)])


def stages(trace: Trace, sample: int = 0) -> list[Stage]:
    return [stage(trace, kind, layer, sample) for kind, layer in stage_order(trace.n_layers)]


def _sigma_name(act: str) -> str:
    return {"identity": "identity, σ(z) = z", "relu": "ReLU, σ(z) = max(0, z)",
            "sigmoid": "sigmoid, σ(z) = 1/(1+e⁻ᶻ)", "tanh": "tanh", "hard_sigmoid": "hard sigmoid",
            "leaky_relu": "leaky ReLU"}.get(act, act)


def _g(v: float) -> str:
    return f"{v:.4g}"


def stage(trace: Trace, kind: str, layer: int | None, sample: int = 0) -> Stage:
    L = trace.n_layers
    s = sample
    if kind == "forward":
        lt = trace.layers[layer - 1]
        a_in = "x" if layer == 1 else f"a({layer - 1})"
        out = " = ŷ" if layer == L and trace.loss == "mse" else " (the logits)" if layer == L else ""
        formula = f"z({layer}) = W({layer}) a({layer - 1}) + b({layer})      a({layer}) = σ(z({layer})){out}"
        a_label = f"a({layer - 1})" + (" = x" if layer == 1 else "")
        blocks = [Block(f"W({layer})", lt.W, "batch"), Block(a_label, lt.a_in[s]),
                  Block(f"b({layer})", lt.b, "batch"), Block(f"z({layer})", lt.z[s], new=True),
                  Block(f"a({layer})", lt.a[s], new=True)]
        facts = [f"layer {layer} of {L}: {lt.W.shape[1]} → {lt.W.shape[0]} units, "
                 f"σ = {_sigma_name(lt.activation)}"]
        reading = (f"Each unit i adds up its weights times the inputs, Σ_j w_ij·{a_in}_j, plus its bias b_i: "
                   f"that is z_i. Then a = σ(z) is what the next layer receives"
                   + (" — here the output of the network." if layer == L else ".")
                   + f" The pass keeps a({layer - 1}) (the input to each weight: ∂z/∂w) and z({layer}) "
                   "(where σ'(z) is taken): the backward pass needs both.")
        return Stage(kind, layer, f"F{layer}", f"forward · layer {layer}", formula, blocks, facts, reading)
    if kind == "loss":
        last = trace.layers[-1]
        N = trace.batch_size
        if trace.loss == "mse":
            yhat, y = np.asarray(trace.output)[s], np.asarray(trace.y)[s]
            sq = (yhat - y) ** 2
            formula = f"C = mean (ŷ − y)²  over the batch      ∂C/∂ŷ = 2(ŷ − y)/{trace.output.size}"
            blocks = [Block(f"ŷ = a({L})", yhat), Block("y", np.atleast_1d(y).astype(np.float64)),
                      Block("(ŷ − y)²", sq), Block("∂C/∂ŷ", np.asarray(trace.dC_dout)[s], new=True)]
            facts = [f"C = {_g(trace.C)}  (mean over the batch of {N} samples)",
                     f"this sample's (ŷ − y)² = {_g(float(np.sum(sq)))}"]
            reading = ("The loss compares the output ŷ with the target y. Backpropagation starts from "
                       "∂C/∂ŷ: how C moves when each output moves. C is the batch mean, so every sample's "
                       f"share carries a factor 1/{trace.output.size}.")
        else:
            zL = np.asarray(last.z, np.float64)[s]
            p = np.exp(zL - zL.max())
            p /= p.sum()
            label = int(np.asarray(trace.y)[s])
            onehot = np.eye(len(zL))[label]
            formula = f"C = mean −log softmax(z({L}))_y      ∂C/∂z({L}) = (softmax(z({L})) − onehot(y)) / {N}"
            blocks = [Block(f"z({L}) logits", zL), Block("softmax", p), Block(f"onehot(y={label})", onehot),
                      Block(f"∂C/∂z({L})", np.asarray(trace.dC_dout)[s], new=True)]
            facts = [f"C = {_g(trace.C)}  (mean over the batch of {N} samples)",
                     f"this sample's −log p_y = {_g(float(-np.log(max(p[label], 1e-300))))}, class {label}"]
            reading = ("Softmax turns the logits into probabilities; the loss is −log of the probability of "
                       "the true class. Its derivative is simply p − onehot(y): push the true class up, the "
                       f"others down. C is the batch mean, so each sample's share is divided by {N}.")
        return Stage(kind, None, "C", "loss", formula, blocks, facts, reading)
    if kind == "backward":
        lt = trace.layers[layer - 1]
        sp = sigma_prime(lt.activation, np.asarray(lt.z)[s])
        if layer == L:
            src = "∂C/∂ŷ" if trace.loss == "mse" else f"∂C/∂z({L})"
            formula = f"δ({L}) = {src} ⊙ σ'(z({L}))" + ("      σ' = 1 (identity output)"
                                                        if lt.activation == "identity" else "")
            blocks = [Block(src, np.asarray(trace.dC_dout)[s]), Block(f"σ'(z({L}))", sp),
                      Block(f"δ({L})", lt.delta[s], new=True)]
            reading = ("δ = ∂C/∂z: how the loss changes with this layer's pre-activation. At the output it "
                       "is the loss's derivative (from the loss stage) times σ'(z) (z known from the forward "
                       "pass). Every other delta is built from this one.")
        else:
            nxt = trace.layers[layer]
            back = np.asarray(nxt.W).T @ np.asarray(nxt.delta)[s]
            formula = f"δ({layer}) = σ'(z({layer})) ⊙ W({layer + 1})ᵀ δ({layer + 1})"
            blocks = [Block(f"W({layer + 1})ᵀ", np.asarray(nxt.W).T, "batch"),
                      Block(f"δ({layer + 1})", np.asarray(nxt.delta)[s]),
                      Block(f"W({layer + 1})ᵀδ({layer + 1})", back), Block(f"σ'(z({layer}))", sp),
                      Block(f"δ({layer})", lt.delta[s], new=True)]
            reading = (f"∂C/∂z at this layer is σ'(z) times the weighted sum of the next layer's deltas — "
                       f"known from the backward pass: unit j of layer {layer} fed every unit k of layer "
                       f"{layer + 1} through w_kj, so ∂C/∂a_j = Σ_k w_kj·δ_k; then ∂a/∂z = σ'(z), "
                       "known from the forward pass.")
        facts = [f"σ = {_sigma_name(lt.activation)}"]
        return Stage(kind, layer, f"B{layer}", f"backward · layer {layer}", formula, blocks, facts, reading)
    if kind == "gradients":
        lt = trace.layers[layer - 1]
        d, a = np.asarray(lt.delta)[s], np.asarray(lt.a_in)[s]
        formula = (f"∂C/∂W({layer}) = δ({layer}) a({layer - 1})ᵀ      ∂C/∂b({layer}) = δ({layer})"
                   "      (summed over the batch)")
        blocks = [Block(f"δ({layer})", d), Block(f"a({layer - 1})ᵀ", a[None, :]),
                  Block(f"δ a({layer - 1})ᵀ this sample", np.outer(d, a)),
                  Block(f"∂C/∂W({layer})", lt.dW, "batch", new=True),
                  Block(f"∂C/∂b({layer})", lt.db, "batch", new=True)]
        facts = [f"‖∂C/∂W({layer})‖ = {_g(float(np.linalg.norm(lt.dW)))}   "
                 f"‖∂C/∂b({layer})‖ = {_g(float(np.linalg.norm(lt.db)))}   (batch of {trace.batch_size})"]
        reading = ("∂C/∂w_ij = ∂z_i/∂w_ij · ∂C/∂z_i = a_j · δ_i. ∂z/∂w is the input a to that weight — known "
                   "from the forward pass; ∂C/∂z is δ — known from the backward pass. The batch gradient "
                   "adds up every sample's δ aᵀ (δ already carries the 1/N of the mean).")
        return Stage(kind, layer, f"G{layer}", f"gradients · layer {layer}", formula, blocks, facts, reading)
    if kind == "update":
        lt = trace.layers[layer - 1]
        o = trace.optimizer
        name, lr, t = o["name"], o["lr"], o["step"]
        blocks = [Block(f"∂C/∂W({layer})", lt.dW, "batch")]
        facts = [f"{name}, lr = {_g(lr)}, step t = {t}"]
        if name == "sgd":
            if o.get("momentum"):
                mu = _g(o["momentum"])
                formula = f"ΔW({layer}) = −lr · v      v ← μ v + ∂C/∂W({layer})      (μ = {mu})"
                buf = lt.optimizer_state.get("momentum_buffer", {})
                if "W" in buf:
                    blocks.append(Block("v (after)", buf["W"], "batch"))
            else:
                formula = f"ΔW({layer}) = −lr · ∂C/∂W({layer})      Δb({layer}) = −lr · ∂C/∂b({layer})"
            reading = ("Gradient descent moves each weight against its gradient, scaled by the learning "
                       "rate: downhill on C for this batch.")
            if o.get("momentum"):
                reading += (" Momentum keeps a running sum of past gradients, so steps build up along a "
                            "steady direction.")
        else:
            b1, b2, eps = o["beta1"], o["beta2"], o["eps"]
            formula = f"ΔW({layer}) = −lr · m̂/(√v̂ + ε)      m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)"
            if name == "adamw":
                formula += "   (AdamW: W ← W(1 − lr·λ) first)"
            st = lt.optimizer_state
            if "m" in st and "v" in st:
                mhat = np.asarray(st["m"]["W"]) / (1 - b1**t)
                vhat = np.asarray(st["v"]["W"]) / (1 - b2**t)
                blocks += [Block("m̂", mhat, "batch"), Block("√v̂", np.sqrt(vhat), "batch")]
            facts[0] += f", β₁ = {_g(b1)}, β₂ = {_g(b2)}, ε = {_g(eps)}"
            facts.append(f"m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  with g = ∂C/∂W({layer})")
            reading = ("Adam divides a running mean of the gradient (m̂) by the root of a running mean of its "
                       "square (√v̂): each weight steps by about lr, whatever the scale of its gradient. The "
                       "hats undo the bias of starting m and v at zero.")
        penalties = []
        if o.get("l1"):
            penalties.append(f"{_g(o['l1'])}·sign(W)")
        if o.get("weight_decay") and name != "adamw":
            penalties.append(f"{_g(o['weight_decay'])}·W")
        if penalties:
            facts.append(f"the optimizer's g is ∂C/∂W({layer}) + " + " + ".join(penalties)
                         + " (regularisation; L1 acts on weights only)")
        elif o.get("weight_decay"):
            facts.append(f"weight decay λ = {_g(o['weight_decay'])}, applied to W itself (decoupled)")
        dW = np.asarray(lt.update["W"])
        blocks += [Block(f"ΔW({layer})", dW, "batch", new=True),
                   Block(f"Δb({layer})", lt.update["b"], "batch", new=True)]
        wn = float(np.linalg.norm(lt.W))
        facts.append(f"‖ΔW‖/‖W‖ = {_g(float(np.linalg.norm(dW)) / wn) if wn else '–'}   "
                     "(what a training step on this batch adds to W)")
        return Stage(kind, layer, f"U{layer}", f"update · layer {layer}", formula, blocks, facts, reading)
    raise ValueError(f"unknown stage kind {kind!r}")


# ---------------------------------------------------------------- plain-text rendering


def fmt_number(v: float) -> str:
    v = float(v)
    if v == 0.0:
        return "0"
    if 1e-3 <= abs(v) < 1e4:
        return f"{v:.4g}"
    return f"{v:.2e}"


def matrix_cells(value: np.ndarray, row0: int = 0, col0: int = 0, max_rows: int = 8,
                 max_cols: int = 6) -> tuple[list[list[str]], dict]:
    """The visible window of a vector (shown as a column) or matrix, as strings, with what was cut:
    {"rows": (first, last, total), "cols": (first, last, total)}."""
    m = np.asarray(value, np.float64)
    if m.ndim == 0:
        m = m.reshape(1, 1)
    elif m.ndim == 1:
        m = m[:, None]
    R, K = m.shape
    row0 = max(0, min(row0, R - max_rows)) if R > max_rows else 0
    col0 = max(0, min(col0, K - max_cols)) if K > max_cols else 0
    r1, c1 = min(R, row0 + max_rows), min(K, col0 + max_cols)
    cells = [[fmt_number(v) for v in m[r, col0:c1]] for r in range(row0, r1)]
    return cells, {"rows": (row0, r1, R), "cols": (col0, c1, K)}


def block_lines(block: Block, row0: int = 0, col0: int = 0, max_rows: int = 8,
                max_cols: int = 6) -> list[str]:
    """A block as aligned text lines: its label and shape, then the numbers between bars;
    rows and columns outside the window are marked with ⋮ and …."""
    cells, cut = matrix_cells(block.value, row0, col0, max_rows, max_cols)
    width = max((len(c) for row in cells for c in row), default=1)
    (r0, r1, R), (c0, c1, K) = cut["rows"], cut["cols"]
    shape = f"{R}" if np.asarray(block.value).ndim <= 1 else f"{R}×{K}"
    lines = [block.label, f"[{shape}{', batch' if block.scope == 'batch' else ''}]"]
    if r0 > 0:
        lines.append(f"⋮ {r0} above")
    for row in cells:
        left = "… " if c0 > 0 else ""
        right = " …" if c1 < K else ""
        lines.append("│" + left + " ".join(c.rjust(width) for c in row) + right + "│")
    if r1 < R:
        lines.append(f"⋮ {R - r1} more")
    return lines


def lay_out(columns: list[list[str]], width: int, gap: int = 3) -> list[list[tuple[int, int, list[str]]]]:
    """Put text columns side by side, starting a new band when ``width`` is full.
    Returns bands; each band is a list of (column index, its width, its lines)."""
    bands: list[list[tuple[int, int, list[str]]]] = [[]]
    used = 0
    for k, lines in enumerate(columns):
        w = max((len(ln) for ln in lines), default=0)
        if bands[-1] and used + gap + w > width:
            bands.append([])
            used = 0
        used += (gap if bands[-1] else 0) + w
        bands[-1].append((k, w, lines))
    return bands


def side_by_side(columns: list[list[str]], width: int, gap: int = 3, indent: str = "") -> list[str]:
    out = []
    for band in lay_out(columns, width - len(indent), gap):
        height = max(len(lines) for _, _, lines in band)
        for r in range(height):
            row = (" " * gap).join((lines[r] if r < len(lines) else "").ljust(w) for _, w, lines in band)
            out.append((indent + row).rstrip())
        out.append("")
    return out[:-1]


def _wrap(text: str, width: int, indent: str) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=indent) or [indent]


def trace_text(trace: Trace, sample: int | None = None, max_rows: int = 8, max_cols: int = 6,
               width: int = 100) -> str:
    """The step-through as plain text, one block per stage (what `dltui trace` prints).
    Arrays computed at a stage are marked with *."""
    s = trace.extra.get("sample", 0) if sample is None else sample
    b = trace.extra.get("batch")
    sizes = [trace.layers[0].W.shape[1]] + [lt.W.shape[0] for lt in trace.layers] if trace.layers else []
    head = [f"trace · {trace.backend} · net {'-'.join(map(str, sizes))} "
            f"({'/'.join(lt.activation for lt in trace.layers)}) · loss {trace.loss} · C = {_g(trace.C)}"]
    if b:
        if "row_ids" in b:
            ids = b["row_ids"]
            shown = ", ".join(map(str, ids[:8])) + (", ..." if len(ids) > 8 else "")
            head.append(f"mini-batch {b['index'] + 1} of {b['count']} in this epoch's shuffled order "
                        f"({b['size']} samples: training rows {shown}); showing sample {s} of the batch "
                        f"(training row {ids[s]})")
        else:
            r0, r1 = b["rows"]
            head.append(f"mini-batch {b['index']} of {b['count']} (training rows {r0}..{r1 - 1}, {b['size']} "
                        f"samples); showing sample {s} of the batch (training row {r0 + s})")
    head += _wrap("Vectors are this sample's column. Arrays marked 'batch' (W, b, ∂C/∂W, ∂C/∂b, the updates) "
                  "belong to the whole mini-batch, with C its mean loss. * marks what each stage computes.",
                  width, "")
    out = ["\n".join(head)]
    for n, st in enumerate(stages(trace, s), 1):
        lines = [f"── {n}. {st.title} ({st.key}) " + "─" * max(0, width - 10 - len(st.title)),
                 f"  {st.formula}"]
        lines += [f"  {f}" for f in st.facts]
        cols = []
        for blk in st.blocks:
            bl = block_lines(blk, max_rows=max_rows, max_cols=max_cols)
            cols.append([("* " if blk.new else "") + bl[0]] + bl[1:])
        lines += [""] + side_by_side(cols, width, indent="  ") + [""]
        lines += _wrap("why: " + st.reading, width, "  ")
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"

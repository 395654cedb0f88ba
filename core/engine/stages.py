"""The stages of the step-through in the lecture's order - forward 1..L (F), the loss (C), backward
L..1 (B), gradients 1..L (G), update 1..L (U) - each with its formula, its arrays and its reading."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .nn import ACTIVATIONS
from .trace import Trace, sigma_prime


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
    cls = ACTIVATIONS.get(act)
    return cls.formula if cls is not None else act


def _g(v: float) -> str:
    return f"{v:.4g}"


def stage_forward(trace: Trace, layer: int | None, s: int = 0) -> Stage:
    """F: z = W a + b and a = σ(z) for one layer."""
    kind, L = "forward", trace.n_layers
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


def stage_loss(trace: Trace, layer: int | None, s: int = 0) -> Stage:
    """C: the loss and ∂C/∂(output) that starts the backward pass."""
    kind, L = "loss", trace.n_layers
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


def stage_backward(trace: Trace, layer: int | None, s: int = 0) -> Stage:
    """B: δ = ∂C/∂z for one layer, from the next layer's δ (or the loss)."""
    kind, L = "backward", trace.n_layers
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


def stage_gradients(trace: Trace, layer: int | None, s: int = 0) -> Stage:
    """G: ∂C/∂W = δ aᵀ and ∂C/∂b = δ, summed over the batch."""
    kind = "gradients"
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


def stage_update(trace: Trace, layer: int | None, s: int = 0) -> Stage:
    """U: the step the optimizer takes on this layer."""
    lt, o = trace.layers[layer - 1], trace.optimizer
    blocks = [Block(f"∂C/∂W({layer})", lt.dW, "batch")]
    facts = [f"{o['name']}, lr = {_g(o['lr'])}, step t = {o['step']}"]
    rule = _sgd_rule if o["name"] == "sgd" else _adam_rule
    formula, reading = rule(o, lt, layer, blocks, facts)
    facts += _penalties(o, layer)
    dW = np.asarray(lt.update["W"])
    blocks += [Block(f"ΔW({layer})", dW, "batch", new=True),
               Block(f"Δb({layer})", lt.update["b"], "batch", new=True)]
    wn = float(np.linalg.norm(lt.W))
    facts.append(f"‖ΔW‖/‖W‖ = {_g(float(np.linalg.norm(dW)) / wn) if wn else '–'}   "
                 "(what a training step on this batch adds to W)")
    return Stage("update", layer, f"U{layer}", f"update · layer {layer}", formula, blocks, facts, reading)


def _sgd_rule(o: dict, lt, layer: int, blocks: list[Block], facts: list[str]) -> tuple[str, str]:
    """SGD's update (with momentum, if any): its formula and reading; adds its state to ``blocks``."""
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
    return formula, reading


def _adam_rule(o: dict, lt, layer: int, blocks: list[Block], facts: list[str]) -> tuple[str, str]:
    """Adam's (and AdamW's) update: formula and reading; adds m̂ and √v̂ to ``blocks``, β and ε to ``facts``."""
    b1, b2, eps, t = o["beta1"], o["beta2"], o["eps"], o["step"]
    formula = f"ΔW({layer}) = −lr · m̂/(√v̂ + ε)      m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)"
    if o["name"] == "adamw":
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
    return formula, reading


def _penalties(o: dict, layer: int) -> list[str]:
    """What regularisation adds to the optimizer's g (L1, weight decay), as facts."""
    penalties = []
    if o.get("l1"):
        penalties.append(f"{_g(o['l1'])}·sign(W)")
    if o.get("weight_decay") and o["name"] != "adamw":
        penalties.append(f"{_g(o['weight_decay'])}·W")
    if penalties:
        return [f"the optimizer's g is ∂C/∂W({layer}) + " + " + ".join(penalties)
                + " (regularisation; L1 acts on weights only)"]
    if o.get("weight_decay"):
        return [f"weight decay λ = {_g(o['weight_decay'])}, applied to W itself (decoupled)"]
    return []


STAGES = {"forward": stage_forward, "loss": stage_loss, "backward": stage_backward,
          "gradients": stage_gradients, "update": stage_update}


def stage(trace: Trace, kind: str, layer: int | None, sample: int = 0) -> Stage:
    """One stage of the step-through for one sample of the traced batch."""
    if kind not in STAGES:
        raise ValueError(f"unknown stage kind {kind!r}")
    return STAGES[kind](trace, layer, sample)

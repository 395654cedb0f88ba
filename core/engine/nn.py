"""The NumPy network, written by hand: each layer's backward sits beside its forward.

Notation follows the lecture: a layer computes z = W a_in + b (W has shape
[out, in]; rows of a batch are samples, so in code z = a_in @ W.T + b) and
a = sigma(z). The backward pass receives dC/da and returns dC/dz, the *delta*;
a Linear layer turns delta into dC/dW = delta^T a_in, dC/db = sum(delta) and
the delta of the layer below, dC/da_in = delta W.
Everything a step-through needs stays on the layer after a pass.
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- activations


class Activation:
    name = "identity"
    formula = "identity, σ(z) = z"  # how the step-through names it

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.z = z
        self.a = z
        return z

    def backward(self, grad_a: np.ndarray) -> np.ndarray:
        """dC/dz = sigma'(z) * dC/da."""
        return grad_a

    def derivative(self, z: np.ndarray) -> np.ndarray:
        return np.ones_like(z)


class Sigmoid(Activation):
    name = "sigmoid"
    formula = "sigmoid, σ(z) = 1/(1+e⁻ᶻ)"  # how the step-through names it

    def forward(self, z):
        self.z = z
        self.a = 1.0 / (1.0 + np.exp(-z))
        return self.a

    def backward(self, grad_a):
        a = self.a
        return grad_a * a * (1.0 - a)

    def derivative(self, z):
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1 - s)


class HardSigmoid(Activation):
    """PyTorch's hard sigmoid: 0 below -3, 1 above 3, z/6 + 1/2 between."""

    name = "hard_sigmoid"
    formula = "hard sigmoid"  # how the step-through names it

    def forward(self, z):
        self.z = z
        self.a = np.clip(z / 6.0 + 0.5, 0.0, 1.0)
        return self.a

    def backward(self, grad_a):
        return grad_a * self.derivative(self.z)

    def derivative(self, z):
        return ((z > -3.0) & (z < 3.0)) / 6.0


class ReLU(Activation):
    name = "relu"
    formula = "ReLU, σ(z) = max(0, z)"  # how the step-through names it

    def forward(self, z):
        self.z = z
        self.a = np.maximum(z, 0.0)
        return self.a

    def backward(self, grad_a):
        return grad_a * (self.z > 0)

    def derivative(self, z):
        return (z > 0).astype(z.dtype)


class LeakyReLU(Activation):
    name = "leaky_relu"
    formula = "leaky ReLU"  # how the step-through names it
    slope = 0.01

    def forward(self, z):
        self.z = z
        self.a = np.where(z > 0, z, self.slope * z)
        return self.a

    def backward(self, grad_a):
        return grad_a * self.derivative(self.z)

    def derivative(self, z):
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)


class Tanh(Activation):
    name = "tanh"
    formula = "tanh"  # how the step-through names it

    def forward(self, z):
        self.z = z
        self.a = np.tanh(z)
        return self.a

    def backward(self, grad_a):
        return grad_a * (1.0 - self.a * self.a)

    def derivative(self, z):
        return 1.0 - np.tanh(z) ** 2


ACTIVATIONS = {c.name: c for c in (Activation, Sigmoid, HardSigmoid, ReLU, LeakyReLU, Tanh)}


# ---------------------------------------------------------------- linear layer


class Linear:
    """z = a_in @ W.T + b. ``backward(delta)`` sets dW, db and returns dC/da_in."""

    def __init__(self, W: np.ndarray, b: np.ndarray):
        self.W, self.b = W, b
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)

    def forward(self, a_in: np.ndarray) -> np.ndarray:
        self.a_in = a_in
        z = a_in @ self.W.T
        z += self.b
        return z

    def backward(self, delta: np.ndarray, need_input_grad: bool = True) -> np.ndarray | None:
        np.matmul(delta.T, self.a_in, out=self.dW)
        np.sum(delta, axis=0, out=self.db)
        return delta @ self.W if need_input_grad else None


# ---------------------------------------------------------------- losses


class MSE:
    """C = mean((y_hat - y)^2) over every element (PyTorch's MSELoss)."""

    name = "mse"

    def forward(self, y_hat: np.ndarray, y: np.ndarray) -> float:
        self.diff = y_hat - y
        return float(np.mean(self.diff * self.diff))

    def backward(self) -> np.ndarray:
        return self.diff * (2.0 / self.diff.size)

    @staticmethod
    def metric(y_hat, y) -> None:
        return None


class SoftmaxCrossEntropy:
    """C = mean(-log softmax(z)[label]); dC/dz = (softmax(z) - onehot) / N."""

    name = "cross_entropy"

    def forward(self, z: np.ndarray, y: np.ndarray) -> float:
        shifted = z - z.max(axis=1, keepdims=True)
        logsum = np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        logp = shifted - logsum
        self.p = np.exp(logp)
        self.y = y
        return float(-logp[np.arange(len(y)), y].mean())

    def backward(self) -> np.ndarray:
        g = self.p.copy()
        g[np.arange(len(self.y)), self.y] -= 1.0
        g /= len(self.y)
        return g

    @staticmethod
    def metric(z, y) -> float:
        return float((z.argmax(axis=1) == y).mean())


LOSSES = {"mse": MSE, "cross_entropy": SoftmaxCrossEntropy}


# ---------------------------------------------------------------- initialisation


def init_params(sizes: list[int], init: str, scale: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Initial (W [out, in], b [out]) per layer in float64, the same for every backend.

    he: N(0, 2/fan_in), xavier: N(0, 2/(fan_in+fan_out)), biases 0, both times ``scale``;
    torch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b (PyTorch's nn.Linear default);
    normal: N(0, scale^2), biases 0.
    """
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        if init == "torch":
            bound = 1.0 / np.sqrt(n_in)
            W = rng.uniform(-bound, bound, (n_out, n_in)) * scale
            b = rng.uniform(-bound, bound, n_out) * scale
        else:
            std = {"he": np.sqrt(2.0 / n_in), "xavier": np.sqrt(2.0 / (n_in + n_out)), "normal": 1.0}[init]
            W = rng.standard_normal((n_out, n_in)) * std * scale
            b = np.zeros(n_out)
        params.append((W, b))
    return params


# ---------------------------------------------------------------- the network


class MLP:
    """A fully connected feed-forward network: Linear, activation, Linear, ..., Linear (identity)."""

    def __init__(self, params, activations: list[str], dtype=np.float32):
        self.linears = [Linear(W.astype(dtype), b.astype(dtype)) for W, b in params]
        self.acts = [ACTIVATIONS[a]() for a in activations] + [Activation()]

    @property
    def params(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, ...], the arrays the optimizer updates in place."""
        return [p for lin in self.linears for p in (lin.W, lin.b)]

    @property
    def grads(self) -> list[np.ndarray]:
        return [g for lin in self.linears for g in (lin.dW, lin.db)]

    def forward(self, x: np.ndarray) -> np.ndarray:
        a = x
        for lin, act in zip(self.linears, self.acts):
            a = act.forward(lin.forward(a))
        return a

    def backward(self, grad_out: np.ndarray) -> None:
        """From dC/d(output) to every layer's delta (kept as ``act.delta``) and dW, db."""
        g = grad_out
        last = len(self.linears) - 1
        for i in range(last, -1, -1):
            delta = self.acts[i].backward(g)
            self.acts[i].delta = delta
            g = self.linears[i].backward(delta, need_input_grad=i > 0)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Forward without touching the cached values a step-through or backward needs."""
        a = x
        for lin, act in zip(self.linears, self.acts):
            z = a @ lin.W.T + lin.b
            a = type(act)().forward(z)
        return a

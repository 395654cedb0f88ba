"""The teaching engine: the hand-written NumPy network of ``nn.py`` behind the Backend interface."""

from __future__ import annotations

import numpy as np

from ..config.spec import Spec
from ..data.batching import batch_size_for
from ..engine.nn import LOSSES, MLP
from ..engine.optim import make_optimizer
from ..engine.trace import LayerTrace, Trace
from .base import CHEAP_LOSS, GRADIENTS, Backend, initial_params, make_layer_stats, optimizer_info


class NumpyBackend(Backend):
    name = "numpy"
    device = "cpu"
    # the loss is a Python float already: the trainer checks every batch for divergence
    capabilities = frozenset({GRADIENTS, CHEAP_LOSS})

    def __init__(self, spec: Spec, n_in: int, n_out: int, params=None):
        self.spec = spec
        self.dtype = np.dtype(spec.values["training"]["dtype"])
        self.activations = spec.activations
        self.opt_cfg = dict(spec.values["optimizer"])
        params = params if params is not None else initial_params(spec, n_in, n_out)
        self.net = MLP(params, self.activations, self.dtype)
        self.loss = LOSSES[spec.values["loss"]["name"]]()
        self.eval_loss = LOSSES[spec.values["loss"]["name"]]()
        is_weight = [i % 2 == 0 for i in range(2 * len(self.net.linears))]
        self.opt = make_optimizer(self.opt_cfg, self.net.params, self.net.grads, is_weight)
        self._marked: list[np.ndarray] | None = None
        self._last = float("nan")
        self._classify, self._hits = spec.values["loss"]["name"] == "cross_entropy", 0
        self.warning = ("training.graph applies to the torch backend on a CUDA GPU; the numpy backend ignores it."
                        if spec.values["training"]["graph"] else None)

    # ------------------------------------------------------------ data and training
    def set_data(self, x_train, y_train, x_val, y_val, batch_size):
        self.x_train, self.y_train, self.x_val, self.y_val = x_train, y_train, x_val, y_val
        self.bs = batch_size_for(len(x_train), batch_size)

    def begin_epoch(self, perm):
        self.xs, self.ys = self.x_train[perm], self.y_train[perm]
        self._sum, self._n, self._hits = 0.0, 0, 0

    def train_step(self, b):
        s = b * self.bs
        xb, yb = self.xs[s:s + self.bs], self.ys[s:s + self.bs]
        net = self.net
        out = net.forward(xb)
        loss = self.loss.forward(out, yb)
        if self._classify:  # the epoch's own accuracy, batch by batch, as Keras reports it
            self._hits += int(np.count_nonzero(out.argmax(axis=1) == yb))
        net.backward(self.loss.backward())
        self.opt.step()
        self._last = loss
        self._sum += loss * len(xb)
        self._n += len(xb)

    def last_loss(self):
        return self._last

    def epoch_loss(self):
        return self._sum / max(self._n, 1)

    def epoch_metric(self):
        return self._hits / self._n if self._classify and self._n else None

    def evaluate(self, split="val"):
        x, y = (self.x_val, self.y_val) if split == "val" else (self.x_train, self.y_train)
        if len(x) == 0:
            return float("nan"), None
        out = self.net.predict(x)
        return self.eval_loss.forward(out, y), self.eval_loss.metric(out, y)

    def predict(self, x):
        return self.net.predict(np.asarray(x, self.dtype))

    # ------------------------------------------------------------ parameters
    def get_params(self):
        return [(lin.W.copy(), lin.b.copy()) for lin in self.net.linears]

    def set_params(self, params):
        for lin, (W, b) in zip(self.net.linears, params):
            lin.W[...] = W
            lin.b[...] = b

    def get_grads(self):
        return [lin.dW.copy() for lin in self.net.linears]

    def set_lr(self, lr):
        self.opt.lr = self.opt_cfg["lr"] = lr

    def refresh_grads(self):
        """Gradients (and activations) of the whole training set at the current weights, and as the
        update ratio the step the optimizer would take from them: numbers of this one moment."""
        net = self.net
        self.loss.forward(net.forward(self.x_train), self.y_train)
        net.backward(self.loss.backward())
        updates, _ = self.opt.preview()
        self._marked = [(lin.W + updates[2 * i]).astype(np.float64) for i, lin in enumerate(net.linears)]

    def get_opt_state(self):
        return self.opt.export_state()

    def set_opt_state(self, tensors, facts):
        self.opt.import_state(tensors, facts)

    def mark(self):
        self._marked = [lin.W.astype(np.float64) for lin in self.net.linears]

    def layer_stats(self):
        out = []
        for i, (lin, act) in enumerate(zip(self.net.linears, self.net.acts)):
            name = act.name if i < len(self.activations) else "identity"
            prev = self._marked[i] if self._marked else None
            out.append(make_layer_stats(i + 1, name, lin.W, lin.b, lin.dW, prev, getattr(act, "a", None)))
        self._marked = None
        return out

    # ------------------------------------------------------------ step-through
    def trace(self, x, y):
        twin = MLP(self.get_params(), self.activations, self.dtype)
        loss = LOSSES[self.spec.values["loss"]["name"]]()
        x = np.asarray(x, self.dtype)
        out = twin.forward(x)
        C = loss.forward(out, y)
        g = loss.backward()
        twin.backward(g)
        updates, state = self.opt.preview(twin.grads)
        layers = []
        for i, (lin, act) in enumerate(zip(twin.linears, twin.acts)):
            st = {k: {"W": v[2 * i], "b": v[2 * i + 1]} for k, v in state.items() if len(v) == len(updates)}
            layers.append(LayerTrace(
                index=i + 1, activation=act.name, W=lin.W.copy(), b=lin.b.copy(), a_in=lin.a_in.copy(),
                z=act.z.copy(), a=act.a.copy(), delta=act.delta.copy(), dW=lin.dW.copy(), db=lin.db.copy(),
                update={"W": updates[2 * i], "b": updates[2 * i + 1]}, optimizer_state=st))
        return Trace(x=x.copy(), y=np.asarray(y).copy(), loss=loss.name, C=C, output=out.copy(), dC_dout=g,
                     layers=layers, optimizer=optimizer_info(self.opt_cfg, self.opt.t + 1), backend=self.name)

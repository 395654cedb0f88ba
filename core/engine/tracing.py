"""Choosing the mini-batch to trace and tracing it: from a Trainer (on its training thread, through
``trainer.call``, so the network read is consistent), a Backend, or a Spec (a fresh network at its
initial weights)."""

from __future__ import annotations

from concurrent.futures import Future

import numpy as np

from ..backends import Backend
from ..config.spec import Spec
from ..data.batching import batch_bounds, batch_count, batch_size_for
from ..training.trainer import Trainer
from .trace import Trace

TRACE_TIMEOUT = 30.0  # seconds a blocking trace_batch waits for a busy trainer (never on a UI thread)


def batch_rows(n: int, batch_size: int, batch: int) -> tuple[int, int]:
    """[start, stop) of mini-batch ``batch`` when n rows are cut into batches of ``batch_size``
    (0 or less: the whole set is one batch)."""
    return batch_bounds(n, batch_size, batch)


def trace_rows(trainer: Trainer, rows=None) -> Future:
    """A future of the trace of exactly these training rows (None: the batch the trainer's next step
    trains on, in its epoch's shuffled order), taken on the training thread between batches.
    Given rows are, in the app, the batch the last step trained."""
    data = trainer.data

    def work(be: Backend) -> Trace:
        r = np.asarray(trainer.next_batch_rows() if rows is None else rows)
        tr = be.trace(data.x_train[r], data.y_train[r])
        n, bs = len(data.x_train), trainer.batch_size
        count = batch_count(n, bs)
        index = (trainer.batch - (0 if rows is None else 1)) % count
        tr.extra["batch"] = {"index": index, "row_ids": [int(i) for i in r], "size": len(r), "n_train": n,
                             "count": count, "which": "next" if rows is None else "given"}
        tr.extra["sample"] = 0
        return tr

    return trainer.call(work)


def trace_batch(source, data=None, *, batch: int | None = None, batch_size: int | None = None,
                sample: int | None = None, rows=None) -> Trace:
    """Trace one mini-batch of the training set at the current weights (blocking: for the CLI and tests;
    the app uses ``trace_rows`` and a future).

    From a Trainer with no ``batch``, ``sample`` or ``rows``: the batch its next step trains on (the
    epoch's shuffled order). ``rows``: exactly these training rows (e.g. the batch just trained).
    Otherwise mini-batch ``batch`` of the training set in its stored order.

    ``source`` is a Trainer (its backend, data and batch size), a Backend (then give ``data``) or a Spec
    (a fresh network at the preset's initial weights, on its data and backend).
    ``sample`` is a row of the training set: the batch is the one holding it (unless ``batch``
    is given) and ``trace.extra["sample"]`` is its row within the batch.
    """
    if isinstance(source, Spec):
        source, data, batch_size = _fresh(source, data, batch_size)
    trainer = source if isinstance(source, Trainer) else None
    if trainer is not None:
        if rows is not None or (batch is None and sample is None):
            return trace_rows(trainer, rows).result(timeout=TRACE_TIMEOUT)
        data = trainer.data
        batch_size = trainer.batch_size if batch_size is None else batch_size
    n = len(data.x_train)
    bs = min(batch_size_for(n, batch_size or 0), n)
    if sample is not None and not 0 <= sample < n:
        raise IndexError(f"sample {sample} does not exist: the training set has {n} rows (0..{n - 1})")
    if batch is None:
        batch = 0 if sample is None else sample // bs
    start, stop = batch_rows(n, bs, batch)
    row = 0 if sample is None else sample - start
    if not 0 <= row < stop - start:
        raise IndexError(f"sample {sample} is not in batch {batch} (rows {start}..{stop - 1})")
    x, y = data.x_train[start:stop], data.y_train[start:stop]
    if trainer is not None:
        tr = trainer.call(lambda be: be.trace(x, y)).result(timeout=TRACE_TIMEOUT)
    else:
        tr = source.trace(x, y)
    tr.extra["batch"] = {"index": batch, "rows": [start, stop], "size": stop - start, "n_train": n,
                         "count": batch_count(n, bs)}
    tr.extra["sample"] = row
    return tr


def _fresh(spec: Spec, data, batch_size):
    """A backend at the preset's initial weights, its data and batch size."""
    from ..backends.autodevice import backend_for
    from ..data.dataset import load_dataset

    data = data if data is not None else load_dataset(spec)
    if batch_size is None:
        batch_size = spec.values["training"]["batch_size"]
    be = backend_for(spec, data.n_features, data.n_outputs)
    return be, data, batch_size

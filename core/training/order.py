"""The order of the training rows, epoch by epoch: a seeded shuffle per epoch, the mini-batch the next
step trains on, and the state a resumed run needs to take the same order."""

from __future__ import annotations

import numpy as np

from ..data.batching import batch_size_for


class RowOrder:
    def __init__(self, n_rows: int, batch_size: int, seed: int):
        self.n, self.batch_size = n_rows, batch_size
        self.rng = np.random.default_rng([seed, 1])  # the epochs' shuffles
        self.perm: np.ndarray | None = None  # this epoch's order of the training rows
        self.next_perm: np.ndarray | None = None  # the next epoch's, when someone looked ahead

    def begin_epoch(self, resuming: bool) -> np.ndarray:
        """This epoch's order: drawn now (or when someone looked ahead), or the one a resumed run was in."""
        if not resuming or self.perm is None:
            perm = self.next_perm if self.next_perm is not None else self.rng.permutation(self.n)
            self.perm, self.next_perm = perm, None
        return self.perm

    def rows(self, batch: int, batches_per_epoch: int) -> np.ndarray:
        """The rows of the mini-batch after ``batch`` batches of this epoch; at the end of an epoch (or
        before the first) the next epoch's first, drawing its shuffle early (the one the loop then uses)."""
        bs = batch_size_for(self.n, self.batch_size)
        if self.perm is None or batch >= batches_per_epoch:
            if self.next_perm is None:
                self.next_perm = self.rng.permutation(self.n)
            perm, b = self.next_perm, 0
        else:
            perm, b = self.perm, batch
        return perm[b * bs:(b + 1) * bs]

    def state_dict(self) -> tuple[dict[str, np.ndarray], dict]:
        tensors = {key: np.asarray(p, dtype=np.int64) for key, p in
                   (("trainer.perm", self.perm), ("trainer.next_perm", self.next_perm)) if p is not None}
        return tensors, {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, tensors: dict, facts: dict) -> None:
        self.rng.bit_generator.state = facts["rng"]
        self.perm, self.next_perm = tensors.get("trainer.perm"), tensors.get("trainer.next_perm")

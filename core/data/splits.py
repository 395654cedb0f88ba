"""How rows are split into training, validation and (optionally) test rows.

- ``random``: shuffle with NumPy's generator seeded by the split seed (dltui's own split).
- ``course``: the ML2022 course's ``train_valid_split``: ``torch.utils.data.random_split(data,
  [n - int(ratio * n), int(ratio * n)], generator=torch.Generator().manual_seed(seed))``,
  reproduced exactly with NumPy alone. torch's CPU generator is a standard mt19937 seeded with
  ``init_genrand(seed)``; ``randperm`` on the CPU (small n) is a Fisher-Yates shuffle that swaps
  element i with element i + (next 32-bit draw) % (n - i). NumPy's ``MT19937`` with
  ``_legacy_seeding(seed)`` gives the same 32-bit stream (tests check it against torch).
- ``time``: rows are in time order (a series): train on the first part, validate on the next
  stretch, test on the stretch after that - no validation day sits between training days.

Every split returns sorted index arrays (train, val, test); ``test`` is empty unless asked for.

The seeds: ``training.seed`` draws the epochs' shuffles and, unless set apart, the split
(``data.split_seed``) and the initial weights (``training.init_seed``); -1 there (the default)
means "follow training.seed", so a preset without them runs bit-identically as before.
``data.seed`` draws the synthetic data.
"""

from __future__ import annotations

import numpy as np

SPLITS = ("random", "course", "time")
FOLLOW = -1  # data.split_seed / training.init_seed: take training.seed


def split_seed(values: dict) -> int:
    """The seed of the train/validation/test split of a preset's resolved values."""
    s = values["data"].get("split_seed", FOLLOW)
    return values["training"]["seed"] if s == FOLLOW else s


def init_seed(values: dict) -> int:
    """The seed of the initial weights of a preset's resolved values."""
    s = values["training"].get("init_seed", FOLLOW)
    return values["training"]["seed"] if s == FOLLOW else s


def torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` on the CPU, in NumPy."""
    bits = np.random.MT19937(0)
    bits._legacy_seeding(seed)
    raw = bits.random_raw(max(n - 1, 0)) if n > 1 else np.zeros(0, np.uint64)
    perm = list(range(n))
    for i in range(n - 1):
        z = i + int(raw[i]) % (n - i)
        perm[i], perm[z] = perm[z], perm[i]
    return np.asarray(perm, dtype=np.int64)


def _count(n: int, ratio: float, rounding: str) -> int:
    k = int(n * ratio) if rounding == "floor" else int(round(n * ratio))
    if ratio > 0 and k == 0 and n > 1:
        k = 1
    return k


def split_rows(n: int, valid_ratio: float, seed: int, how: str = "random",
               test_ratio: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) row indices of n rows, each sorted."""
    if how == "course":
        n_val, n_test = _count(n, valid_ratio, "floor"), _count(n, test_ratio, "floor")
        perm = torch_randperm(n, seed)  # random_split: the first lengths[0] are train, then valid, test
        tr, va, te = perm[:n - n_val - n_test], perm[n - n_val - n_test:n - n_test], perm[n - n_test:]
    elif how == "time":
        n_val, n_test = _count(n, valid_ratio, "round"), _count(n, test_ratio, "round")
        idx = np.arange(n)
        tr, va, te = idx[:n - n_val - n_test], idx[n - n_val - n_test:n - n_test], idx[n - n_test:]
    else:
        n_val, n_test = _count(n, valid_ratio, "round"), _count(n, test_ratio, "round")
        perm = np.random.default_rng(seed).permutation(n)
        va, te, tr = perm[:n_val], perm[n_val:n_val + n_test], perm[n_val + n_test:]
    return np.sort(tr), np.sort(va), np.sort(te)

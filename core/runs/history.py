"""A run's epoch rows in bounded memory: the recent ones at full resolution, older ones downsampled.

A 1M-epoch run keeps at most ``recent + older`` rows: the last ``recent`` epochs all, and before them
every ``stride``-th epoch, the stride doubling whenever the older part fills up (so the older rows stay
evenly spread over the whole run). ``total`` counts every row ever appended; ``len`` is the rows kept.
It reads like a list: iteration, ``[i]``, ``[-1]``, slices, truthiness.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from itertools import chain, islice

RECENT, OLDER = 2048, 2048


class History:
    def __init__(self, rows: Iterable = (), recent: int = RECENT, older: int = OLDER):
        self._recent: deque = deque()
        self._older: list = []
        self.recent_size, self.older_size = recent, older
        self.stride, self._since, self.total = 1, 0, 0
        for r in rows:
            self.append(r)

    def append(self, row) -> None:
        self.total += 1
        self._recent.append(row)
        if len(self._recent) > self.recent_size:
            self._to_older(self._recent.popleft())

    def _to_older(self, row) -> None:
        n, self._since = self._since, self._since + 1  # the n-th row to leave the recent part
        if n % self.stride:
            return
        self._older.append((n, row))
        if len(self._older) >= self.older_size:  # every other one (by number): evenly spread, half as many
            self.stride *= 2
            self._older = [(k, r) for k, r in self._older if k % self.stride == 0]

    def __len__(self) -> int:
        return len(self._older) + len(self._recent)

    def __iter__(self) -> Iterator:
        return chain((r for _, r in self._older), self._recent)

    def __bool__(self) -> bool:
        return bool(self._recent)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return list(self)[i]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("history index out of range")
        k = len(self._older)
        return self._older[i][1] if i < k else self._recent[i - k]

    def tail(self, n: int) -> list:
        """The last ``n`` rows kept (all at full resolution when ``n`` <= ``recent``)."""
        return list(islice(self._recent, max(len(self._recent) - n, 0), None)) if n <= len(self._recent) \
            else list(self)[-n:]

    def __repr__(self) -> str:
        return f"History({len(self)} of {self.total} rows kept)"

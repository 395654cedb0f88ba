"""The batch-size rule, once: a batch size of 0 or less means the whole set is one batch; an
epoch has ceil(n / batch size) mini-batches, the last one possibly smaller."""

from __future__ import annotations


def batch_size_for(n: int, batch_size: int) -> int:
    """The rows in one mini-batch of a set of n rows (0 or less: all of them)."""
    return n if batch_size <= 0 else batch_size


def batch_count(n: int, batch_size: int) -> int:
    """How many mini-batches one epoch of n rows has (at least one)."""
    bs = batch_size_for(n, batch_size)
    return max(1, -(-n // bs)) if bs > 0 else 1


def batch_bounds(n: int, batch_size: int, batch: int) -> tuple[int, int]:
    """[start, stop) of mini-batch ``batch``; IndexError naming the batches there are."""
    bs, count = batch_size_for(n, batch_size), batch_count(n, batch_size)
    if not 0 <= batch < count:
        raise IndexError(f"batch {batch} does not exist: {n} rows in batches of {bs} make {count} batches "
                         f"(0..{count - 1})")
    return batch * bs, min(n, (batch + 1) * bs)

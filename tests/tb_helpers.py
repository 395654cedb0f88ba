"""Shared by the TensorBoard tests: read a log folder back with TensorBoard's own reader (the test
module skips first when tensorboard is not installed)."""

from __future__ import annotations


def read_events(logdir):
    """An EventAccumulator of ``logdir`` with every scalar and histogram kept, loaded."""
    from tensorboard.backend.event_processing import event_accumulator

    acc = event_accumulator.EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0})
    acc.Reload()
    return acc

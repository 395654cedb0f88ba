"""Data sets: synthetic generators, CSV loading, splits, batching, file checks."""

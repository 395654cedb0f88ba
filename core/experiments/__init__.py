"""Sweeps, executors, claims, compare, the linear baseline."""

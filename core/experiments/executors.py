"""Where a sweep's runs go: ``concurrent.futures`` executors.

- ``local_executor(jobs)``: worker processes on this machine, one BLAS thread each.
- ``gpu_executor(["0", "1"])``: one worker process per GPU, pinned with CUDA_VISIBLE_DEVICES.
- ``dask_executor(address)``: an existing Dask distributed scheduler (``pip install dltui[cluster]``);
  Dask is imported only here. The workers need dltui installed and the presets' data files at
  the same paths; run folders are written at the (absolute) paths the sweep asks for.

Each is a context manager that yields the executor and shuts it down on exit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor

from .sweep import worker_init


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        return max(1, os.cpu_count() or 1)


def start_method() -> str:
    """fork where it is safe (fast, and scripts need no ``if __name__ == "__main__"`` guard); spawn once
    torch is loaded (a forked CUDA or OpenMP state breaks) and where there is no fork."""
    methods = multiprocessing.get_all_start_methods()
    return "fork" if "fork" in methods and "torch" not in sys.modules else "spawn"


def _pool(jobs: int, cuda_device: str | None = None) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(start_method()),
                               initializer=worker_init, initargs=(cuda_device,))


def _prestart(pool: ProcessPoolExecutor, jobs: int) -> None:
    """Start the workers now, while this process has no other threads (a progress bar's) to fork."""
    for fut in [pool.submit(os.getpid) for _ in range(jobs)]:
        fut.result()


@contextlib.contextmanager
def local_executor(jobs: int | None = None):
    jobs = jobs or default_jobs()
    pool = _pool(jobs)
    _prestart(pool, jobs)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class GpuExecutor(Executor):
    """One single-process pool per GPU; each run goes to the GPU with the fewest runs in flight."""

    def __init__(self, devices: list[str]):
        self.devices = list(devices)
        self.pools = [_pool(1, d) for d in self.devices]
        for pool in self.pools:
            _prestart(pool, 1)
        self.load = [0] * len(self.pools)
        self.lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self.lock:
            k = min(range(len(self.pools)), key=self.load.__getitem__)
            self.load[k] += 1
        fut = self.pools[k].submit(fn, *args, **kwargs)
        fut.add_done_callback(lambda _f, k=k: self._done(k))
        return fut

    def _done(self, k: int) -> None:
        with self.lock:
            self.load[k] -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in self.pools:
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


@contextlib.contextmanager
def gpu_executor(devices: list[str]):
    ex = GpuExecutor(devices)
    try:
        yield ex
    finally:
        ex.shutdown(wait=True, cancel_futures=True)


class ClusterError(RuntimeError):
    """The Dask scheduler cannot be used: not installed, or not reachable."""


@contextlib.contextmanager
def dask_executor(address, timeout: float = 10.0):
    """``address``: a scheduler address ('tcp://host:8786') or a ``distributed`` cluster object."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError("--cluster needs Dask distributed: pip install 'dltui[cluster]'.") from None
    try:
        client = Client(address, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise ClusterError(f"--cluster {address}: cannot reach the Dask scheduler ({e}).") from None
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()


def parse_gpus(text: str) -> list[str]:
    """'0,1' -> ['0', '1'] (GPU indices as CUDA_VISIBLE_DEVICES takes them)."""
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items or not all(t.isdigit() for t in items):
        raise ValueError(f"--gpus {text!r}: expected GPU indices separated by commas, e.g. --gpus 0,1.")
    return items

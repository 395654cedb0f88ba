"""One signal policy for every command: Ctrl-C, SIGTERM and SIGHUP end the command cleanly.

Outside a training loop (loading a CSV, importing torch, predict, trace) a signal raises
``Stopped``, which the CLI turns into a one-line message and exit code 128 + signal (130 for
Ctrl-C, 143 for SIGTERM, 129 for SIGHUP) without a traceback. Inside a training loop
(``stop_after_batch``) the first signal asks the trainer to stop after its batch, so the trainer
writes ``last`` and the status; a second one raises ``Stopped`` at once (atomic writes leave the
earlier files whole). ``Stopped`` derives from KeyboardInterrupt, so ``except Exception`` never
swallows it.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

SIGNALS = tuple(s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM", "SIGHUP")) if s)
NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}
if hasattr(signal, "SIGHUP"):
    NAMES[signal.SIGHUP] = "SIGHUP"


class Stopped(KeyboardInterrupt):
    """A stop signal arrived; ``code`` is the exit status (128 + signal number)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signum)
        self.signum = signum

    @property
    def code(self) -> int:
        return 128 + int(self.signum)

    @property
    def name(self) -> str:
        return NAMES.get(self.signum, f"signal {self.signum}")


def _raise(signum, frame) -> None:
    raise Stopped(signum)


def install() -> dict:
    """Every stop signal ends the command with ``Stopped`` (main thread only; elsewhere a no-op).
    Returns the handlers it replaced, for ``restore``."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {s: signal.signal(s, _raise) for s in SIGNALS}


def restore(old: dict) -> None:
    for s, h in old.items():
        signal.signal(s, h if h is not None else signal.SIG_DFL)


@contextmanager
def stop_after_batch(stop: Callable[[], None], note: Callable[[str], None] | None = None) -> Iterator[dict]:
    """While training: the first signal calls ``stop()`` (the trainer finishes its batch, writes
    ``last`` and the status); a second raises ``Stopped``. Yields a dict whose ``signum`` is the
    first signal seen (None if none)."""
    state: dict = {"signum": None}

    def handler(signum, frame):
        if state["signum"] is not None:
            raise Stopped(signum)
        state["signum"] = signum
        if note:
            note(f"{NAMES.get(signum, signum)}: stopping after this batch and saving "
                 "(Ctrl-C again to abort at once)...")
        stop()

    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    old = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield state
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def exit_code(signum: int | None) -> int | None:
    return None if signum is None else 128 + int(signum)


def stderr_note(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass

"""Shared by the Textual tests: run an async Pilot test without an asyncio pytest plugin, wait for a
condition, open the app on a live run that writes a run folder."""

from __future__ import annotations

import asyncio
import functools
import time


def sync(test):
    """Decorate an ``async def`` test so pytest runs it with ``asyncio.run``."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run


async def wait_for(pilot, cond, timeout: float = 60.0, what: str = "condition") -> None:
    """Let the app run until ``cond()`` holds; fail after ``timeout`` seconds naming ``what``."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def folder_app(spec, folder, runs_dir):
    """The app on a live run of ``spec`` that writes run folder ``folder`` (its other runs: ``runs_dir``)."""
    from dltui.core.runs import LiveRun
    from dltui.tui.app import DltuiApp

    return DltuiApp(run=LiveRun(spec, out_dir=str(folder)), scan_dir=None, freeze_clock=True, runs_dir=str(runs_dir))

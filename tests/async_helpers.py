"""Shared by the Textual tests: run an async Pilot test without an asyncio pytest plugin."""

from __future__ import annotations

import asyncio
import functools


def sync(test):
    """Decorate an ``async def`` test so pytest runs it with ``asyncio.run``."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        return asyncio.run(test(*args, **kwargs))

    return run

"""CPU-heavy work (Pillow, Argon2) off the event loop with bounded concurrency: one upload never stalls the loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

#: Threads doing CPU work at once; the rest queue. Two keeps one core free for the loop on small hosts.
CPU_WORKERS = 2

_executor = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix="siaga-cpu")


async def run_cpu(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Call fn(*args, **kwargs) in the bounded CPU pool and await its result (context variables carried)."""
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, fn, *args, **kwargs)
    return await loop.run_in_executor(_executor, call)

"""The embedded default's worker as one child process, so that processing never delays a webhook's answer.

`siaga web` with no REDIS_URL starts one `siaga worker` child and tells it of new work through a pipe: one byte
per wake-up (i = inbox, o = outbox, t = timers) wakes the matching loop at once. Locks and send limits live
only in the child (in memory is right for one worker); web-chat and sign-in limits live only in the web. The
child stops when the pipe closes, so a killed web leaves no orphan; the web restarts a child that died.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import time

import structlog

from core.coordination import LocalCoordinator

log = structlog.get_logger()

WAKE_FD_ENV = "SIAGA_WORKER_WAKE_FD"  # internal: set only by the web for its own child
TOPICS = {"inbox": b"i", "outbox": b"o", "timers": b"t"}
STEADY = 30.0  # a child that ran this long was healthy: the next restart waits 1 s again
MAX_BACKOFF = 3.0
NICENESS = 5  # the child yields the CPU to the web: on a small host acknowledging comes before processing


class SignallingCoordinator(LocalCoordinator):
    """The web's coordinator: each wake-up also reaches the worker child through the pipe (kept open across
    restarts of the child: a new child drains what the last one left, a few spurious wake-ups)."""

    def __init__(self) -> None:
        super().__init__()
        self.read_fd, self._fd = os.pipe()  # neither is inherited unless passed: the child gets the read end only
        os.set_blocking(self._fd, False)

    async def wake(self, topic: str) -> None:
        await super().wake(topic)
        byte = TOPICS.get(topic)
        if byte is None:
            return
        try:
            os.write(self._fd, byte)
        except BlockingIOError:
            pass  # the pipe is full: the child has plenty of wake-ups waiting already

    async def close(self) -> None:
        for fd in (self.read_fd, self._fd):
            os.close(fd)


class WokenCoordinator(LocalCoordinator):
    """The child's coordinator: a byte from the web wakes the loop it names; the pipe closing stops the worker."""

    def __init__(self, read_fd: int) -> None:
        super().__init__()
        self._fd = read_fd
        os.set_blocking(read_fd, False)
        os.nice(NICENESS)

    def listen(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()

        def readable() -> None:
            try:
                data = os.read(self._fd, 4096)  # every pending wake-up at once: they coalesce
            except BlockingIOError:
                return
            if not data:  # the web is gone (even kill -9): finish the current step and exit
                loop.remove_reader(self._fd)
                log.warning("worker_child_parent_gone")
                stop.set()
                return
            for topic, byte in TOPICS.items():
                if byte in data:
                    self._events[topic].set()

        loop.add_reader(self._fd, readable)

    async def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self._fd)


class ChildWorker:
    """Start, watch and stop the one worker child: restart it after a crash (1-3 s apart), SIGTERM on shutdown."""

    def __init__(self, grace: float = 10.0) -> None:
        self.coord = SignallingCoordinator()
        self.grace = grace
        self.process: asyncio.subprocess.Process | None = None

    async def spawn(self) -> asyncio.subprocess.Process:
        # A session of its own: Ctrl-C in a terminal reaches only the web, which then stops the child itself
        # (otherwise the child could exit first and be restarted during the shutdown).
        fd = self.coord.read_fd
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bots.cli", "worker",
                                                       env={**os.environ, WAKE_FD_ENV: str(fd)},
                                                       pass_fds=(fd,), start_new_session=True)
        log.info("worker_child_started", pid=process.pid)
        return process

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one child running until `stop`; then stop it gracefully."""
        failures = 0
        try:
            while not stop.is_set():
                started = time.monotonic()
                self.process = await self.spawn()
                if not await _until_either(stop, self.process.wait()):
                    break
                log.warning("worker_child_exited", pid=self.process.pid, code=self.process.returncode)
                failures = 0 if time.monotonic() - started > STEADY else failures + 1
                await _until_either(stop, asyncio.sleep(min(max(failures, 1), MAX_BACKOFF)))
        finally:
            await self.terminate()

    async def terminate(self) -> None:
        """SIGTERM, wait up to `grace` seconds for the current step to finish, then kill."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self.grace)
        except TimeoutError:
            process.kill()
            await process.wait()
        log.info("worker_child_stopped", pid=process.pid, code=process.returncode)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.returncode is None else None


async def _until_either(stop: asyncio.Event, work) -> bool:
    """Run `work` until it finishes (True) or `stop` is set first (False)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task.done():
        return True
    task.cancel()
    return False

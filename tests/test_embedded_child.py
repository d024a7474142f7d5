"""The embedded default as `make run` starts it: one `siaga web` OS process (SQLite, no REDIS_URL) whose worker
runs in one child process, woken through a pipe, restarted after a crash and stopped with the web."""
from __future__ import annotations

import os
import signal
from pathlib import Path

from bench.cluster import Embedded
from tests.conftest import fresh_database_url
from tests.e2e_support import CITIZEN, OPERATORS, last_with_button, report_fire, wait_text
from tests.harness import eventually
from tests.images import phone_jpeg


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def test_the_web_runs_its_worker_in_a_child_that_it_restarts_and_stops(fake, config, tmp_path):
    url = await fresh_database_url("sqlite", tmp_path)
    cluster = Embedded(fake, url, tmp_path / "run")
    async with cluster:
        web = cluster.webs[0].popen.pid
        first = (await eventually(lambda: children(web)))[0]
        ticket = await report_fire(fake, phone_jpeg())  # every answer comes from the child: the web only stores
        await wait_text(fake, OPERATORS, ticket)

        os.kill(first, signal.SIGKILL)
        second = (await eventually(lambda: [c for c in children(web) if c != first and running(c)], timeout=20))[0]
        since = len(fake.sent(CITIZEN))
        await fake.send_text(CITIZEN, "/start")
        await eventually(lambda: last_with_button(fake, CITIZEN, "type:fire") in fake.sent(CITIZEN)[since:],
                         timeout=20)
    assert not running(web)
    await eventually(lambda: not running(second), timeout=10)
    logs = "\n".join(cluster.log_lines())
    for event in ("worker_child_started", "worker_child_exited", "worker_child_stopped"):
        assert event in logs

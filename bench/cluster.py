"""The production shape for benchmarks: `siaga web` and `siaga worker` as OS processes that can be killed.

Each process is the installed console script with the environment of CONTRACT.md, pointed at the fake Bot
API (and fake Graph API when given); the fake delivers webhooks round-robin over the `web` instances like a
load balancer. Logs go to one file per process in `run_dir`, kept across restarts for the log check.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.harness import SECRET, SECRET_KEY, WA_VERIFY, free_port

ROOT = Path(__file__).resolve().parent.parent
# The console script of the interpreter running the bench; the processes import the code beside this file
# (PYTHONPATH=ROOT), so a read-only copy of an older commit with these bench files measures that commit.
SIAGA = Path(sys.executable).parent / "siaga"


@dataclass
class Proc:
    kind: str
    index: int
    port: int = 0
    popen: subprocess.Popen | None = None
    starts: list[float] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.kind}{self.index}"

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


class Cluster:
    """`webs` web and `workers` worker processes on one database and one Redis, restartable one by one."""

    def __init__(self, fake, db_url: str, redis_url: str, run_dir: Path, *, webs: int = 1, workers: int = 1,
                 wa=None, log_level: str = "INFO", config: Path | None = None) -> None:
        self.fake, self.db_url, self.redis_url, self.wa = fake, db_url, redis_url, wa
        self.config = config or ROOT / "config" / "sumenep.yaml"
        self.run_dir, self.log_level = run_dir, log_level
        run_dir.mkdir(parents=True, exist_ok=True)
        for old in run_dir.glob("*.log"):  # one run's logs (kept across restarts within the run)
            old.unlink()
        self.procs = [Proc("web", i, free_port()) for i in range(webs)] + [Proc("worker", i) for i in range(workers)]
        self.public = f"http://127.0.0.1:{self.procs[0].port}"

    def env(self, proc: Proc) -> dict[str, str]:
        """CONTRACT.md's environment: every instance shares the public URL (the balancer's)."""
        ours = ("TELEGRAM_", "WHATSAPP_", "DATABASE_", "REDIS_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        env.update(DATABASE_URL=self.db_url, REDIS_URL=self.redis_url,
                   SIAGA_CONFIG=str(self.config),
                   PUBLIC_BASE_URL=self.public, TELEGRAM_BOT_TOKEN=self.fake.token,
                   TELEGRAM_API_BASE_URL=self.fake.base_url, TELEGRAM_WEBHOOK_SECRET=SECRET,
                   SIAGA_SECRET_KEY=SECRET_KEY, TELEGRAM_MODE="webhook",
                   LOG_LEVEL=self.log_level, PORT=str(proc.port or 8000),
                   PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        if self.wa is not None:
            env.update(WHATSAPP_ACCESS_TOKEN=self.wa.token, WHATSAPP_PHONE_NUMBER_ID=self.wa.phone_number_id,
                       WHATSAPP_APP_SECRET=self.wa.app_secret, WHATSAPP_VERIFY_TOKEN=WA_VERIFY,
                       WHATSAPP_API_BASE_URL=self.wa.base_url, WHATSAPP_API_VERSION="v23.0",
                       WHATSAPP_USER_INTERVAL_SECONDS=str(self.wa.pair_interval))
        return env

    def code(self) -> str:
        """Which code the processes run: the package directory they import and the newest migration there."""
        probe = ("import core, alembic.config, alembic.script as s; c = alembic.config.Config('alembic.ini'); "
                 "print(core.__path__[0], s.ScriptDirectory.from_config(c).get_current_head())")
        env = self.env(Proc("web", 0))
        python = SIAGA.parent / "python"
        out = subprocess.run([str(python), "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip() or out.stderr.strip()[-300:]

    def spawn(self, proc: Proc) -> None:
        address = ["--host", "127.0.0.1", "--port", str(proc.port)] if proc.kind == "web" else []
        args = [str(SIAGA), proc.kind, *address]
        with open(self.run_dir / f"{proc.name}.log", "ab") as log:
            proc.popen = subprocess.Popen(args, env=self.env(proc), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        proc.starts.append(time.monotonic())

    async def ready(self, proc: Proc, timeout: float = 180) -> None:
        """A web instance answers /readyz; a worker counts as up once started."""
        if proc.kind != "web":
            return
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                if not proc.alive:
                    raise RuntimeError(f"{proc.name} exited: see {self.run_dir / (proc.name + '.log')}")
                try:
                    if (await client.get(f"http://127.0.0.1:{proc.port}/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{proc.name} not ready within {timeout} s")

    async def start(self) -> None:
        for proc in self.procs:
            self.spawn(proc)
        for proc in self.procs:
            await self.ready(proc)
        self.fake.webhook_targets = [f"http://127.0.0.1:{p.port}/webhooks/telegram" for p in self.webs]
        if self.wa is not None:
            self.wa.webhook_url = f"{self.public}/webhooks/whatsapp"

    @property
    def webs(self) -> list[Proc]:
        return [p for p in self.procs if p.kind == "web"]

    @property
    def workers(self) -> list[Proc]:
        return [p for p in self.procs if p.kind == "worker"]

    def kill(self, proc: Proc) -> None:
        """kill -9: no shutdown handler runs."""
        if proc.alive:
            proc.popen.send_signal(signal.SIGKILL)
            proc.popen.wait()

    async def restart(self, proc: Proc) -> None:
        self.kill(proc)
        self.spawn(proc)
        await self.ready(proc)

    async def stop(self) -> None:
        for proc in self.procs:
            if proc.alive:
                proc.popen.send_signal(signal.SIGTERM)
        for proc in self.procs:
            if proc.popen is not None:
                try:
                    await asyncio.to_thread(proc.popen.wait, 15)
                except subprocess.TimeoutExpired:
                    self.kill(proc)

    async def __aenter__(self) -> Cluster:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def log_lines(self) -> list[str]:
        return [line for path in sorted(self.run_dir.glob("*.log"))
                for line in path.read_text(errors="replace").splitlines()]


class Embedded(Cluster):
    """One `siaga web` with no REDIS_URL: the embedded default, its worker in one child process of the web."""

    def __init__(self, fake, db_url: str, run_dir: Path) -> None:
        super().__init__(fake, db_url, "", run_dir, webs=1, workers=0)

    def env(self, proc: Proc) -> dict[str, str]:
        env = super().env(proc)
        env.pop("REDIS_URL", None)
        return env

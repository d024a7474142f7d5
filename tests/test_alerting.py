"""Watching it: the alert rules and the Grafana dashboard pass promtool, every metric they name is in a real
scrape of /metrics, and the gauges the pages depend on (urgent report age, backlogs, worker heartbeats, database
and Redis) read what happened on SQLite and PostgreSQL."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import REGISTRY
from sqlalchemy import select

from bots.app import build_deps, create_app, stop_deps
from bots.pipeline.worker import Worker
from bots.web.metrics_endpoint import DatabaseGauges
from core import heartbeats
from core.clock import FakeClock
from core.models import Case, Heartbeat, InboxItem, OutboxItem, Reporter
from core.settings import load_settings
from tests.harness import SECRET_KEY, free_port, gateway, serve_app

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULES = PROMETHEUS / "siaga-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "siaga.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None,
                                    reason="promtool is not installed (Debian: apt install prometheus)")
NAME = re.compile(r"\bsiaga_[a-z0-9_]+")
UNREACHABLE_PG = "postgresql+asyncpg://postgres@127.0.0.1:1/siaga"  # nothing listens on port 1


class StoppedClock(FakeClock):
    """Time that moves only when the test moves it."""

    def __init__(self) -> None:
        super().__init__()
        self._start = super().now()

    def now(self):
        return self._start + self._offset


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *args], check=False, cwd=cwd, capture_output=True, text=True, timeout=60)


def rule_expressions() -> list[str]:
    return [rule["expr"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def dashboard_panels() -> list[dict]:
    return [p for p in json.loads(DASHBOARD.read_text())["panels"] if p["type"] != "row"]


def dashboard_expressions() -> list[str]:
    return [target["expr"] for panel in dashboard_panels() for target in panel["targets"]]


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


# --- promtool -----------------------------------------------------------------------------------------------------

@needs_promtool
def test_alert_rules_pass_promtool_check_and_page_or_ticket_with_a_runbook():
    checked = promtool("check", "rules", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    assert len(rules) >= 10
    for rule in rules:
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        assert "for" in rule and rule["annotations"]["summary"], rule["alert"]
        assert re.search(r"siaga doctor|/readyz|journalctl", rule["annotations"]["runbook"]), rule["alert"]


@needs_promtool
def test_alert_rule_unit_tests_pass_promtool_test_rules():
    tested = promtool("test", "rules", "siaga-alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    cases = yaml.safe_load((PROMETHEUS / "siaga-alerts.test.yml").read_text())["tests"]
    fired = {check["alertname"] for case in cases for check in case["alert_rule_test"] if check.get("exp_alerts")}
    quiet = {check["alertname"] for case in cases for check in case["alert_rule_test"] if not check.get("exp_alerts")}
    names = {rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]}
    assert fired == names  # every alert is shown to fire ...
    assert {"SiagaUrgentReportUnverified", "SiagaOutboxBacklog", "SiagaInboxBacklog", "SiagaWorkerLoopStopped",
            "SiagaWorkerLoopNeverBeat", "SiagaRedisDown", "SiagaWebAllDown"} <= quiet  # ... and not on healthy series


@needs_promtool
def test_example_prometheus_config_passes_promtool_check_config(tmp_path):
    for name in ("prometheus.example.yml", "siaga-alerts.yml"):
        shutil.copy(PROMETHEUS / name, tmp_path / name)
    (tmp_path / "siaga-metrics-token").write_text("scrape-token\n")  # what the install steps write
    checked = promtool("check", "config", "prometheus.example.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = yaml.safe_load((PROMETHEUS / "prometheus.example.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["authorization"]["credentials_file"] and job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:8001", "127.0.0.1:8002"]


@needs_promtool
def test_dashboard_queries_parse_and_take_the_datasource_from_a_variable(tmp_path):
    board = json.loads(DASHBOARD.read_text())
    assert [v["name"] for v in board["templating"]["list"] if v["type"] == "datasource"] == ["datasource"]
    panels = dashboard_panels()
    assert all(p["datasource"]["uid"] == "${datasource}" for p in panels)
    assert all(t["datasource"]["uid"] == "${datasource}" for p in panels for t in p["targets"])
    recording = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(dashboard_expressions())]}]}
    (tmp_path / "dashboard-queries.yml").write_text(yaml.safe_dump(recording))
    checked = promtool("check", "rules", "dashboard-queries.yml", cwd=tmp_path)  # PromQL syntax of every target
    assert checked.returncode == 0, checked.stdout + checked.stderr
    used = set(NAME.findall(" ".join(dashboard_expressions())))
    assert {"siaga_updates_received_total", "siaga_webhook_seconds_bucket", "siaga_urgent_unverified_oldest_seconds",
            "siaga_loop_heartbeat_age_seconds", "siaga_outbox_oldest_waiting_seconds"} <= used


def test_names_are_parsed_with_their_suffixes():
    assert NAME.findall('histogram_quantile(0.99, sum by (le) (rate(siaga_webhook_seconds_bucket[5m]))) > 1 '
                        'and siaga_messages_sent_total{channel="x"}') == ["siaga_webhook_seconds_bucket",
                                                                         "siaga_messages_sent_total"]


# --- a real scrape has every metric the rules and the dashboard name -----------------------------------------------

async def test_every_metric_the_rules_and_the_dashboard_name_is_in_a_scrape(fake, tmp_path, redis_url):
    from tests.conftest import fresh_database_url
    clock = FakeClock()
    url = await fresh_database_url("postgres", tmp_path)
    async with gateway(fake, url, redis_url=redis_url, run_worker=False, clock=clock) as g:
        update = await fake.send_text(5001, "halo")  # a webhook: received counter and latency histogram
        assert await fake.deliver(update) == 200  # Telegram re-delivers it: the duplicate counter
        worker = Worker(g.deps)
        for _ in range(3):  # process it, send the answer, beat every loop
            await worker.tick()
        async with httpx.AsyncClient(base_url=g.url) as client:
            scrape = (await client.get("/metrics")).text
    present = {m.group(1) for m in re.finditer(r"^(siaga_[a-z0-9_]+)[{ ]", scrape, re.MULTILINE)}
    named = set(NAME.findall(" ".join(rule_expressions() + dashboard_expressions())))
    assert len(named) >= 15
    assert named - present == set(), f"named in the rules or dashboard but not in a scrape: {named - present}"
    assert re.search(r'^siaga_loop_heartbeat_age_seconds\{loop="timers"\} ', scrape, re.MULTILINE)
    assert re.search(r"^siaga_redis_up 1\.0$", scrape, re.MULTILINE)
    assert re.search(r"^siaga_database_up 1\.0$", scrape, re.MULTILINE)
    assert '"5001"' not in scrape and "Budi" not in scrape  # no person in a label


# --- the gauges' values ----------------------------------------------------------------------------------------------

def deps_on(url: str, config, clock):
    return build_deps(load_settings(database_url=url, public_base_url=None, siaga_secret_key=SECRET_KEY),
                      config, clock)


async def read_gauges(deps) -> None:
    gauges = DatabaseGauges(deps.sessions, deps.clock, channels=("telegram", "web"),
                            health=deps.config.channel_health)
    await gauges.refresh()


async def test_an_urgent_report_left_unverified_shows_its_age_until_an_operator_acts(db_url, config):
    clock = StoppedClock()
    deps = deps_on(db_url, config, clock)
    now = clock.now()
    try:
        async with deps.sessions() as s, s.begin():
            reporter = Reporter(channel="telegram", external_id="77", name="Siti")
            s.add(reporter)
            await s.flush()
            common = {"reporter_id": reporter.id, "chat": "77", "incident_type": "fire", "urgent": True}
            s.add_all([Case(ticket="A-1", state="submitted", submitted_at=now - timedelta(seconds=400), **common),
                       Case(ticket="A-2", state="submitted", submitted_at=now - timedelta(seconds=900), drill=True,
                            **common),  # a drill's report pages nobody
                       Case(ticket="A-3", state="submitted", submitted_at=now - timedelta(seconds=1200),
                            first_action_at=now - timedelta(seconds=1100), **common),  # an operator took it
                       Case(ticket="A-4", state="verified", submitted_at=now - timedelta(seconds=3000), **common),
                       Case(ticket="A-5", state="submitted", submitted_at=now - timedelta(seconds=5000),
                            **{**common, "urgent": False})])
        await read_gauges(deps)
        assert sample("siaga_urgent_unverified_oldest_seconds") == 400
        assert sample("siaga_database_up") == 1
        async with deps.sessions() as s, s.begin():
            case = (await s.execute(select(Case).where(Case.ticket == "A-1"))).scalar_one()
            case.state = "verified"
        await read_gauges(deps)
        assert sample("siaga_urgent_unverified_oldest_seconds") == 0
    finally:
        await stop_deps(deps)


async def test_backlog_ages_count_only_what_is_due(db_url, config):
    clock = StoppedClock()
    deps = deps_on(db_url, config, clock)
    now = clock.now()
    try:
        async with deps.sessions() as s, s.begin():
            out = {"chat_id": "9", "payload": {}, "created_at": now - timedelta(hours=1)}
            s.add_all([OutboxItem(channel="telegram", status="pending", not_before=now - timedelta(seconds=200), **out),
                       OutboxItem(channel="telegram", status="pending", not_before=now + timedelta(minutes=9), **out),
                       OutboxItem(channel="telegram", status="sent", not_before=now - timedelta(hours=1), **out),
                       OutboxItem(channel="whatsapp", status="sending", not_before=now - timedelta(hours=1),
                                  lease_until=now - timedelta(seconds=50), **out),  # a dead worker's lease
                       InboxItem(channel="telegram", external_id="1", conversation_key="k", payload={},
                                 status="pending", not_before=now - timedelta(seconds=70)),
                       InboxItem(channel="telegram", external_id="2", conversation_key="k", payload={},
                                 status="done", not_before=now - timedelta(hours=2))])
        await read_gauges(deps)
        assert sample("siaga_outbox_oldest_waiting_seconds", channel="telegram") == 200
        assert sample("siaga_outbox_oldest_waiting_seconds", channel="whatsapp") == 50
        assert sample("siaga_outbox_oldest_waiting_seconds", channel="web") == 0  # configured, nothing waiting
        assert sample("siaga_inbox_oldest_pending_seconds") == 70
    finally:
        await stop_deps(deps)


async def test_a_stopped_loop_ages_and_a_working_one_stays_fresh(db_url, config):
    clock = StoppedClock()
    deps = deps_on(db_url, config, clock)
    try:
        async with deps.sessions() as s, s.begin():  # a process that died two days ago
            await heartbeats.beat(s, "old-host:1", heartbeats.LOOPS, clock.now() - timedelta(days=2))
        await read_gauges(deps)
        assert sample("siaga_loop_heartbeat_age_seconds", loop="inbox") == 2 * 86400
        worker = Worker(deps)
        await worker.tick()  # every loop beats once; the day-old rows go
        async with deps.sessions() as s:
            rows = (await s.execute(select(Heartbeat.process, Heartbeat.loop))).all()
        assert sorted(loop for _, loop in rows) == ["inbox", "outbox", "timers"]
        assert {process for process, _ in rows} == {heartbeats.process_name()}
        clock.advance(seconds=10)
        await worker.tick()  # within 15 s: no second write
        clock.advance(seconds=80)
        await read_gauges(deps)
        assert {loop: sample("siaga_loop_heartbeat_age_seconds", loop=loop) for loop in heartbeats.LOOPS} == {
            "inbox": 90, "outbox": 90, "timers": 90}
        await worker.beat("inbox", "outbox")  # the timers loop stopped
        clock.advance(seconds=60)
        await read_gauges(deps)
        assert sample("siaga_loop_heartbeat_age_seconds", loop="inbox") == 60
        assert sample("siaga_loop_heartbeat_age_seconds", loop="timers") == 150
    finally:
        await stop_deps(deps)


async def test_the_loop_beats_after_work_that_succeeds_and_not_after_work_that_fails(db_url, config):
    clock = StoppedClock()
    deps = deps_on(db_url, config, clock)
    worker = Worker(deps, poll=0.01)

    async def works():
        return 0

    async def fails():
        raise RuntimeError("every pass fails")

    stop = asyncio.Event()
    try:
        loops = [asyncio.create_task(worker._loop(stop, "inbox", works)),
                 asyncio.create_task(worker._loop(stop, "timers", fails))]
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*loops)
        async with deps.sessions() as s:
            ages = await heartbeats.ages(s, clock.now())
        assert ages == {"inbox": 0.0}  # a loop failing every pass reads as never beaten
    finally:
        await stop_deps(deps)


async def test_a_heartbeat_that_cannot_be_written_is_logged_not_raised(tmp_path, config):
    deps = deps_on(UNREACHABLE_PG, config, StoppedClock())
    try:
        await Worker(deps).beat("inbox")  # no exception: the loop's work goes on
    finally:
        await stop_deps(deps)


async def test_database_and_redis_down_read_zero_and_the_readings_go_absent(config):
    port = free_port()
    settings = load_settings(database_url=UNREACHABLE_PG, redis_url="redis://127.0.0.1:1/0", public_base_url=None,
                             port=port, siaga_secret_key=SECRET_KEY)
    app = create_app(settings, config, clock=FakeClock(), run_worker=False)
    async with serve_app(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        scrape = await client.get("/metrics")
    assert scrape.status_code == 200
    assert re.search(r"^siaga_database_up 0\.0$", scrape.text, re.MULTILINE)
    assert re.search(r"^siaga_redis_up 0\.0$", scrape.text, re.MULTILINE)
    for absent in ("siaga_urgent_unverified_oldest_seconds", "siaga_inbox_oldest_pending_seconds",
                   "siaga_loop_heartbeat_age_seconds", "siaga_outbox_oldest_waiting_seconds"):
        assert not re.search(rf"^{absent}[{{ ]", scrape.text, re.MULTILINE), absent  # stale values would mislead


async def test_no_redis_configured_means_no_redis_reading(tmp_path, config):
    from tests.conftest import fresh_database_url
    port = free_port()
    settings = load_settings(database_url=await fresh_database_url("sqlite", tmp_path), public_base_url=None,
                             port=port, siaga_secret_key=SECRET_KEY)
    app = create_app(settings, config, clock=FakeClock(), run_worker=False)
    async with serve_app(app, port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        scrape = (await client.get("/metrics")).text
    assert re.search(r"^siaga_database_up 1\.0$", scrape, re.MULTILINE)
    assert not re.search(r"^siaga_redis_up[{ ]", scrape, re.MULTILINE)  # absent, so SiagaRedisDown cannot fire
    assert re.search(r"^siaga_urgent_unverified_oldest_seconds 0\.0$", scrape, re.MULTILINE)

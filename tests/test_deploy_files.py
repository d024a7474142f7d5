"""The install-and-run files under deploy/, checked by the field's own tools: systemd-analyze (verify, security),
nginx (-t, then a real nginx in front of a tiny upstream), caddy (validate, adapt), and the settings model."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SERVICES = ("siaga-release.service", "siaga-web@.service", "siaga-worker@.service", "siaga-backup.service")
SIAGA = "/opt/siaga/.venv/bin/siaga"


def tool(name: str) -> str:
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/sbin/{name}") if os.access(p, os.X_OK)),
                                       None)
    if found is None:
        pytest.skip(f"{name} is not installed (CI installs it: nginx-light, caddy, systemd)")
    return found


def run(*command: str, **options) -> subprocess.CompletedProcess[str]:
    """A tool's run, its exit status and output kept for the assertion (never raises on a failure)."""
    return subprocess.run(command, check=False, capture_output=True, text=True, timeout=60, **options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """A unit file as {section: [(key, value), ...]}: keys may repeat, so no configparser."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections.setdefault(current, [])
        else:
            key, _, value = line.partition("=")
            sections[current].append((key.strip(), value.strip()))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"{section}/{key}: {found}"
    return found[0]


def seconds(text: str) -> float:
    total = 0.0
    for number, unit in re.findall(r"(\d+)\s*(min|ms|s|h)?", text):
        total += int(number) * {"min": 60, "h": 3600, "ms": 0.001}.get(unit, 1)
    return total


# --- systemd ---------------------------------------------------------------------------------------------------

def render_units(tmp_path: Path) -> Path:
    """The units with ExecStart on this checkout's siaga (verify insists the program exists), and instances of the
    templates as files of their own; the repository's files keep /opt/siaga."""
    here = Path(sys.executable).parent / "siaga"
    assert here.exists(), f"{here}: run the tests from the project's virtualenv"
    out = tmp_path / "units"
    out.mkdir()
    for path in UNITS.iterdir():
        text = path.read_text()
        (out / path.name).write_text(text.replace(SIAGA, str(here)))
    for template, instances in (("siaga-web@.service", ("8001", "8002")), ("siaga-worker@.service", ("1",))):
        for instance in instances:
            shutil.copy(out / template, out / template.replace("@", f"@{instance}"))
    return out


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = tool("systemd-analyze")
    out = render_units(tmp_path)
    names = ["siaga.target", "siaga-release.service", "siaga-web@8001.service", "siaga-web@8002.service",
             "siaga-worker@1.service", "siaga-backup.service", "siaga-backup.timer"]
    verified = run(analyze, "verify", "--man=no", *(str(out / n) for n in names), cwd=out)
    complaints = [line for line in (verified.stdout + verified.stderr).splitlines() if "siaga" in line]
    assert verified.returncode == 0 and not complaints, verified.stdout + verified.stderr


def test_verify_would_catch_a_broken_unit(tmp_path):
    """The check above can fail: a misspelt dependency and an unknown key are reported."""
    analyze = tool("systemd-analyze")
    out = render_units(tmp_path)
    broken = out / "siaga-worker@9.service"
    broken.write_text((out / "siaga-worker@.service").read_text()
                      .replace("Requires=siaga-release.service", "Requires=siaga-relase.service")
                      .replace("Restart=on-failure", "Restart=on-failure\nRestartt=always"))
    verified = run(analyze, "verify", "--man=no", str(broken), cwd=out)
    assert verified.returncode != 0 and "siaga-relase.service" in verified.stderr and "Restartt" in verified.stderr


def test_units_follow_the_production_layout():
    """What layout.md promises: who requires whom, the commands, the settings file, restarts and stop times."""
    units = {name: parse_unit(UNITS / name) for name in SERVICES}
    for name, unit in units.items():
        assert one(unit, "Service", "User") == one(unit, "Service", "Group") == "siaga", name
        assert one(unit, "Service", "WorkingDirectory") == "/opt/siaga", name
        assert one(unit, "Service", "EnvironmentFile") == "/etc/siaga/siaga.env", name
        assert "SIAGA_CONFIG=/etc/siaga/deployment.yaml" in values(unit, "Service", "Environment"), name
        assert one(unit, "Service", "ExecStart").startswith(f"{SIAGA} "), name
        assert one(unit, "Service", "StateDirectory") == "siaga", name
    for name in ("siaga-web@.service", "siaga-worker@.service"):
        unit = units[name]
        assert "siaga-release.service" in one(unit, "Unit", "Requires").split(), name
        assert "siaga-release.service" in one(unit, "Unit", "After").split(), name
        assert one(unit, "Unit", "PartOf") == "siaga.target", name
        assert one(unit, "Service", "Restart") == "on-failure", name
        assert 1 <= seconds(one(unit, "Service", "RestartSec")) <= 30, name
        assert int(one(unit, "Unit", "StartLimitBurst")) >= 5 and seconds(one(unit, "Unit", "StartLimitIntervalSec"))
        assert one(unit, "Install", "WantedBy") == "siaga.target", name
    web, worker = units["siaga-web@.service"], units["siaga-worker@.service"]
    assert one(web, "Service", "ExecStart") == f"{SIAGA} web --host 127.0.0.1 --port %i"
    assert "PORT=%i" in values(web, "Service", "Environment")
    assert 5 + 5 <= seconds(one(web, "Service", "TimeoutStopSec")) <= 60  # siaga web drains in 5 s, then closes pools
    assert one(worker, "Service", "ExecStart") == f"{SIAGA} worker"
    assert seconds(one(worker, "Service", "TimeoutStopSec")) > 15  # the child worker's own grace is 10 s
    release = units["siaga-release.service"]
    assert one(release, "Service", "Type") == "oneshot" and one(release, "Service", "RemainAfterExit") == "yes"
    assert one(release, "Service", "ExecStart") == f"{SIAGA} migrate"
    backup = units["siaga-backup.service"]
    assert one(backup, "Service", "ExecStart") == f"{SIAGA} backup --to /var/backups/siaga --keep-days 14"
    assert one(backup, "Service", "ReadWritePaths") == "/var/backups/siaga"
    timer = parse_unit(UNITS / "siaga-backup.timer")
    assert one(timer, "Timer", "Unit") == "siaga-backup.service" and one(timer, "Timer", "Persistent") == "true"
    assert re.fullmatch(r"\*-\*-\* \d\d:\d\d:\d\d|daily", one(timer, "Timer", "OnCalendar"))
    target = parse_unit(UNITS / "siaga.target")
    assert one(target, "Install", "WantedBy") == "multi-user.target"


def sandbox(path: Path) -> list[str]:
    lines = path.read_text().split("# --- sandbox", 1)[1].split("\n\n", 1)[0].splitlines()[1:]
    return [line for line in lines if line and not line.startswith("#")]


def test_every_unit_has_the_same_sandbox():
    blocks = {name: sandbox(UNITS / name) for name in SERVICES}
    first = blocks["siaga-web@.service"]
    for line in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                 "PrivateDevices=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                 "SystemCallFilter=@system-service", "CapabilityBoundingSet=", "MemoryDenyWriteExecute=yes",
                 "LockPersonality=yes", "RestrictNamespaces=yes"):
        assert line in first
    assert all(block == first for block in blocks.values()), blocks
    for name in SERVICES:
        assert one(parse_unit(UNITS / name), "Service", "UMask") == "0077", name


def test_units_score_well_in_systemd_analyze_security():
    analyze = tool("systemd-analyze")
    if "--offline" not in run(analyze, "security", "--help").stdout:
        pytest.skip("this systemd-analyze has no `security --offline` (systemd >= 250)")
    for name in SERVICES:
        review = run(analyze, "security", "--offline=true", "--no-pager", str(UNITS / name))
        found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", review.stdout + review.stderr)
        assert found, review.stdout + review.stderr
        assert float(found.group(1)) <= 2.0, f"{name}: {found.group(0)}"  # 1.1 when written; "OK" is up to 4.9


# --- the settings file -----------------------------------------------------------------------------------------

ENV_EXAMPLE = DEPLOY / "siaga.env.example"
SECRETS = ("SIAGA_SECRET_KEY", "METRICS_TOKEN", "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET",
           "WHATSAPP_ACCESS_TOKEN", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN")


def env_lines() -> list[tuple[bool, str, str]]:
    """(on, NAME, value) for every assignment, commented out or not."""
    found = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        if match := re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", line):
            found.append((match.group(1) == "", match.group(2), match.group(3)))
    return found


def test_env_example_names_every_setting_once():
    names = [name for _, name, _ in env_lines()]
    expected = {name.upper() for name in Settings.model_fields} | {"FORWARDED_ALLOW_IPS"}
    assert set(names) == expected and len(names) == len(set(names)), sorted(set(names) ^ expected)


def test_env_example_holds_no_secret_and_marks_the_required_ones():
    lines = ENV_EXAMPLE.read_text().splitlines()
    for _, name, value in env_lines():
        if name in SECRETS or "password" in value.lower():
            assert value in ("", "CHANGE-ME") or "CHANGE-ME" in value, f"{name}={value}"
    for name in ("DATABASE_URL", "PUBLIC_BASE_URL", "SIAGA_SECRET_KEY"):
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{name}="))
        comment = []
        for line in reversed(lines[:index]):
            if not line.startswith("#"):
                break
            comment.append(line)
        assert any("required" in line for line in comment), name


def test_env_example_values_are_accepted_by_the_settings(monkeypatch):
    """On as written (the secret filled in), and with every commented line switched on too."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    filled = {"SIAGA_SECRET_KEY": "x" * 48, "METRICS_TOKEN": "m" * 32}
    on = {name: filled.get(name) or value for active, name, value in env_lines() if active}
    settings = Settings(**{k.lower(): v for k, v in on.items() if k.lower() in Settings.model_fields})
    assert settings.database_url.startswith("postgresql+asyncpg://") and settings.redis_url
    assert settings.public_base_url and settings.public_base_url.startswith("https://")
    everything = {name: filled.get(name) or value for _, name, value in env_lines()}
    settings = Settings(**{k.lower(): v for k, v in everything.items() if k.lower() in Settings.model_fields})
    assert settings.telegram_effective_mode == "webhook" and settings.whatsapp_access_token is not None


# --- nginx -----------------------------------------------------------------------------------------------------

class Upstream(ThreadingHTTPServer):
    """A stand-in for `siaga web`: answers every path with what it received (path, forwarded headers, body size);
    /dashboard/events streams two events one second apart."""

    daemon_threads = True

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(("127.0.0.1", 0), _Echo)
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Echo(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def _answer(self, size: int) -> None:
        if self.path.startswith("/dashboard/events"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for n in range(2):
                self.wfile.write(f"data: {n}\n\n".encode())
                self.wfile.flush()
                time.sleep(1.0)
            return
        body = json.dumps({"upstream": self.server.name, "path": self.path, "size": size,  # type: ignore[attr-defined]
                           **{h: self.headers.get(h) for h in ("Host", "X-Forwarded-For", "X-Forwarded-Proto",
                                                               "X-Forwarded-Host")}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer(0)

    def do_POST(self) -> None:
        size = left = int(self.headers.get("Content-Length") or 0)
        while left > 0 and (chunk := self.rfile.read(min(left, 1 << 20))):
            left -= len(chunk)
        self._answer(size - left)


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for the test's nginx (made once: key generation is the slow part)."""
    openssl = tool("openssl")
    where = tmp_path_factory.mktemp("cert")
    crt, key = where / "test.crt", where / "test.key"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "1", "-subj", "/CN=siaga.example.go.id", "-keyout", str(key), "-out", str(crt)],
                   check=True, capture_output=True, timeout=60)
    return crt, key


def render_nginx(tmp_path: Path, ports: dict[str, int], cert: tuple[Path, Path]) -> Path:
    """deploy/nginx/siaga.conf on this machine: high ports on 127.0.0.1, a test certificate, the test upstreams;
    inside an nginx.conf of its own (pid, logs and temporary files under tmp_path)."""
    crt, key = cert
    site = (DEPLOY / "nginx" / "siaga.conf").read_text()
    for old, new in (("listen [::]:80;", ""), ("listen [::]:443 ssl http2;", ""),
                     ("listen 80;", f"listen 127.0.0.1:{ports['http']};"),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{ports['https']} ssl http2;"),
                     ("listen 10.0.0.10:8443 ssl http2;", f"listen 127.0.0.1:{ports['staff']} ssl http2;"),
                     ("server 127.0.0.1:8001 ", f"server 127.0.0.1:{ports['web1']} "),
                     ("server 127.0.0.1:8002 ", f"server 127.0.0.1:{ports['web2']} "),
                     ("/etc/letsencrypt/live/siaga.example.go.id/fullchain.pem", str(crt)),
                     ("/etc/letsencrypt/live/siaga.example.go.id/privkey.pem", str(key)),
                     ("/etc/ssl/siaga/staff.crt", str(crt)), ("/etc/ssl/siaga/staff.key", str(key))):
        assert old in site, f"deploy/nginx/siaga.conf no longer has {old!r}: update this test's rendering"
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    temp = "\n".join(f"    {kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                               "uwsgi", "scgi"))
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers must write the temporary files here
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"{user}worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
                    f"events {{ worker_connections 64; }}\nhttp {{\n    access_log off;\n{temp}\n"
                    f"    include {tmp_path}/site.conf;\n}}\n")
    return conf


def test_nginx_accepts_the_site(tmp_path, cert):
    nginx = tool("nginx")
    conf = render_nginx(tmp_path, {name: free_port() for name in ("http", "https", "staff", "web1", "web2")}, cert)
    tested = run(nginx, "-t", "-q", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf))
    assert tested.returncode == 0, tested.stderr


@pytest.fixture
def nginx_in_front(tmp_path, cert):
    """A real nginx with the site, in front of two stand-in web instances."""
    nginx = tool("nginx")
    web1, web2 = Upstream("web1"), Upstream("web2")
    ports = {"http": free_port(), "https": free_port(), "staff": free_port(), "web1": web1.port, "web2": web2.port}
    conf = render_nginx(tmp_path, ports, cert)
    process = subprocess.Popen([nginx, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(conf),
                                "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports["staff"]), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield ports, (web1, web2)
    finally:
        process.terminate()
        process.wait(timeout=10)
        web1.shutdown()
        web2.shutdown()


HOST = {"Host": "siaga.example.go.id"}


def test_staff_paths_are_refused_on_the_public_site_and_served_on_the_staff_listener(nginx_in_front):
    ports, _ = nginx_in_front
    public = f"https://127.0.0.1:{ports['https']}"
    staff = f"https://127.0.0.1:{ports['staff']}"
    with httpx.Client(verify=False, timeout=10, headers=HOST) as client:
        for path in ("/dashboard", "/dashboard/", "/dashboard/login", "/dashboard/media/1",
                     "/dashboard/export.csv", "/metrics", "/metrics/", "/somewhere-new", "/chat/../dashboard"):
            assert client.get(public + path).status_code == 404, path
            on_staff = client.get(staff + path)
            assert on_staff.status_code == 200, path
        for path in ("/", "/chat", "/chat/api/messages?after=0", "/public", "/open311/v2/services.json", "/docs",
                     "/openapi.json", "/static/chat.js", "/healthz", "/readyz", "/webhooks/whatsapp?hub.mode=x"):
            answer = client.get(public + path)
            assert answer.status_code == 200 and answer.json()["path"] == path, path
        assert client.post(public + "/webhooks/telegram", json={"update_id": 1}).status_code == 200


def test_the_staff_listener_refuses_addresses_outside_its_list(nginx_in_front):
    ports, _ = nginx_in_front
    transport = httpx.HTTPTransport(verify=False, local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=10) as client:
        assert client.get(f"https://127.0.0.1:{ports['staff']}/dashboard").status_code == 403


def test_forwarded_headers_name_the_real_client_and_cannot_be_forged(nginx_in_front):
    ports, _ = nginx_in_front
    with httpx.Client(verify=False, timeout=10, headers=HOST) as client:
        seen = client.get(f"https://127.0.0.1:{ports['https']}/readyz",
                          headers={"X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "http"}).json()
    assert seen["X-Forwarded-For"] == "127.0.0.1"  # overwritten: what uvicorn will take as the client's address
    assert seen["X-Forwarded-Proto"] == "https" and seen["X-Forwarded-Host"] == "siaga.example.go.id"
    assert seen["Host"] == "siaga.example.go.id"


def test_body_limits_small_by_default_larger_for_the_chat_photo(nginx_in_front):
    ports, _ = nginx_in_front
    public = f"https://127.0.0.1:{ports['https']}"
    two_mb, thirteen_mb = b"x" * (2 << 20), b"x" * (13 << 20)
    with httpx.Client(verify=False, timeout=30, headers=HOST) as client:
        assert client.post(public + "/webhooks/telegram", content=two_mb).status_code == 413
        assert client.post(public + "/chat/api/send", content=two_mb).status_code == 413
        photo = client.post(public + "/chat/api/photo?id=a1", content=two_mb)
        assert photo.status_code == 200 and photo.json()["size"] == len(two_mb)
        assert client.post(public + "/chat/api/photo?id=a1", content=thirteen_mb).status_code == 413


def test_http_redirects_to_https(nginx_in_front):
    ports, _ = nginx_in_front
    answer = httpx.get(f"http://127.0.0.1:{ports['http']}/chat?lang=en", headers=HOST, timeout=10)
    assert answer.status_code == 301 and answer.headers["location"] == "https://siaga.example.go.id/chat?lang=en"


def test_both_instances_serve_and_one_down_is_skipped(nginx_in_front):
    ports, (web1, _) = nginx_in_front
    public = f"https://127.0.0.1:{ports['https']}/healthz"
    with httpx.Client(verify=False, timeout=10, headers=HOST) as client:
        assert {client.get(public).json()["upstream"] for _ in range(6)} == {"web1", "web2"}
        web1.shutdown()
        web1.server_close()  # a restart of siaga-web@8001: connections refused
        answers = [client.get(public) for _ in range(6)]
    assert all(a.status_code == 200 and a.json()["upstream"] == "web2" for a in answers)


def test_dashboard_events_are_passed_on_at_once(nginx_in_front):
    ports, _ = nginx_in_front
    with httpx.Client(verify=False, timeout=10) as client:
        assert client.get(f"https://127.0.0.1:{ports['https']}/dashboard/events").status_code == 404  # not public
    with httpx.Client(verify=False, timeout=10) as client, \
            client.stream("GET", f"https://127.0.0.1:{ports['staff']}/dashboard/events") as stream:
        started = time.monotonic()
        chunks = stream.iter_text()
        first = next(chunks)
        first_at = time.monotonic() - started
        rest = "".join(chunks)
        total = time.monotonic() - started
    assert first.startswith("data: 0") and first_at < 0.8 <= total, (first_at, total)
    assert "data: 1" in first + rest


# --- caddy -----------------------------------------------------------------------------------------------------

def caddy_env(tmp_path: Path) -> dict[str, str]:
    """Caddy's storage (certificates, its local CA) under tmp_path, not the user's home."""
    return {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config")}


def test_caddy_validates_the_caddyfile(tmp_path):
    caddy = tool("caddy")
    checked = run(caddy, "validate", "--config", str(DEPLOY / "caddy" / "Caddyfile"), "--adapter", "caddyfile",
                  env=caddy_env(tmp_path))
    assert checked.returncode == 0 and "Valid configuration" in checked.stdout + checked.stderr, checked.stderr


def _routes(server: dict) -> list[tuple[list, list]]:
    """(matchers, handlers inside the subroute) of a site's handle blocks, in order."""
    site = server["routes"][0]["handle"][0]["routes"]
    return [(route.get("match", []), route["handle"][0]["routes"][0]["handle"]) for route in site]


def test_caddy_public_site_lists_only_public_paths_and_limits_bodies(tmp_path):
    caddy = tool("caddy")
    adapted = run(caddy, "adapt", "--config", str(DEPLOY / "caddy" / "Caddyfile"), "--adapter", "caddyfile",
                  env=caddy_env(tmp_path))
    assert adapted.returncode == 0, adapted.stderr
    servers = json.loads(adapted.stdout)["apps"]["http"]["servers"].values()
    public = next(s for s in servers if s["listen"] == [":443"])
    staff = next(s for s in servers if s["listen"] == ["10.0.0.10:8443"])
    routes = _routes(public)
    (photo_match, photo), (public_match, proxied), (last_match, last) = routes
    assert photo_match == [{"path": ["/chat/api/photo"]}] and photo[0]["max_size"] == 12_000_000
    paths = public_match[0]["path"]
    assert not any(p.startswith(("/dashboard", "/metrics", "/*")) for p in paths) and "/webhooks/*" in paths
    assert proxied[0]["max_size"] == 1_000_000
    assert proxied[1]["handler"] == "reverse_proxy"
    assert [u["dial"] for u in proxied[1]["upstreams"]] == ["127.0.0.1:8001", "127.0.0.1:8002"]
    assert last_match == [] and last == [{"handler": "static_response", "status_code": 404}]
    outside, *_ = _routes(staff)
    assert outside[0][0]["not"][0]["remote_ip"]["ranges"] and outside[1][0]["status_code"] == 403


@pytest.fixture
def caddy_in_front(tmp_path):
    """A real Caddy with the Caddyfile, plain http on high ports (TLS is Caddy's own business and needs the
    internet), in front of two stand-in web instances."""
    caddy = tool("caddy")
    web1, web2 = Upstream("web1"), Upstream("web2")
    public, staff = free_port(), free_port()
    text = (DEPLOY / "caddy" / "Caddyfile").read_text()
    for old, new in (("\temail it@example.go.id\n", "\tauto_https off\n\tadmin off\n"),
                     ("siaga.example.go.id {", f"http://:{public} {{"),
                     ("siaga-staff.example.go.id:8443 {", f"http://:{staff} {{"),
                     ("\tbind 10.0.0.10\n", ""), ("\ttls internal\n", ""),
                     ("127.0.0.1:8001 127.0.0.1:8002", f"127.0.0.1:{web1.port} 127.0.0.1:{web2.port}")):
        assert old in text, f"deploy/caddy/Caddyfile no longer has {old!r}: update this test's rendering"
        text = text.replace(old, new)
    (tmp_path / "Caddyfile").write_text(text)
    process = subprocess.Popen([caddy, "run", "--config", str(tmp_path / "Caddyfile"), "--adapter", "caddyfile"],
                               env=caddy_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", staff), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", public), timeout=0.2).close()
                break
            except OSError:
                assert process.poll() is None, "caddy exited"
                assert time.monotonic() < deadline, "caddy did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{public}", f"http://127.0.0.1:{staff}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        web1.shutdown()
        web2.shutdown()


def test_caddy_keeps_staff_paths_off_the_public_site_and_limits_bodies(caddy_in_front):
    public, staff = caddy_in_front
    with httpx.Client(timeout=10) as client:
        for path in ("/dashboard", "/dashboard/login", "/dashboard/media/1", "/metrics", "/somewhere-new"):
            assert client.get(public + path).status_code == 404, path
            assert client.get(staff + path).status_code == 200, path
        for path in ("/", "/chat", "/public", "/open311/v2/services.json", "/static/chat.js", "/readyz"):
            assert client.get(public + path).json()["path"] == path, path
        seen = client.get(public + "/healthz", headers={"X-Forwarded-For": "6.6.6.6"}).json()
        assert seen["X-Forwarded-For"] == "127.0.0.1" and seen["X-Forwarded-Proto"] == "http"
        two_mb = b"x" * (2 << 20)
        too_big = client.post(public + "/webhooks/telegram", content=two_mb)
        assert too_big.status_code in (413, 502)  # cut off at 1 MB: Caddy 2.6 answers 502, later versions 413
        assert client.post(public + "/chat/api/photo?id=a1", content=two_mb).json()["size"] == len(two_mb)
        assert {client.get(public + "/healthz").json()["upstream"] for _ in range(6)} == {"web1", "web2"}

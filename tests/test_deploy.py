"""The deployment files in systemd/: units, their settings files, udev rules, nginx sample, scripts.

systemd-analyze verifies every unit (with /opt/motcua pointed at this checkout); the readable check of
a missing settings file runs for real; the server is started the way its unit starts it (Type=notify,
under a write-xor-execute memory policy like MemoryDenyWriteExecute=yes) and the agent prints under it.
"""
from __future__ import annotations

import ctypes
import grp
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "systemd"
UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])
SERVICES = [u for u in UNITS if u.suffix == ".service"]
VENV = ROOT / ".venv"


def unit_settings(path: Path) -> dict[str, list[str]]:
    """KEY → values of a unit file (keys repeat: ExecStartPre=, After=, Environment=)."""
    settings: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key, []).append(value)
    return settings


def env_file(path: Path) -> dict[str, str]:
    """Read a settings file as systemd's EnvironmentFile= does (the subset the examples may use)."""
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), f"{path.name}:{number}: not KEY=value: {line!r}"
        if value.startswith('"'):
            assert value.endswith('"') and value.count('"') == 2, f"{path.name}:{number}: unbalanced quotes"
            value = value[1:-1]
        else:
            # systemd keeps a trailing "# …" as part of the value: comments go on their own line
            assert " #" not in value, f"{path.name}:{number}: a comment after a value becomes part of it"
            assert not re.search(r"[\s&;|]", value), f"{path.name}:{number}: quote a value with spaces or &"
        values[key] = value
    return values


def commented_keys(path: Path) -> set[str]:
    return set(re.findall(r"^# ?([A-Z][A-Z0-9_]+)=", path.read_text(encoding="utf-8"), re.M))


# --- systemd-analyze ---------------------------------------------------------------------------------

def analyzable_copies(target: Path) -> tuple[list[Path], list[str]]:
    """The units with /opt/motcua → this checkout; programs missing on this machine → /bin/true."""
    substituted: list[str] = []
    copies = []
    for unit in UNITS:
        text = unit.read_text(encoding="utf-8").replace("/opt/motcua", str(ROOT))
        for program in sorted(set(re.findall(r"^Exec\w+=[-+!@:]*(/\S+)", text, re.M))):
            if not os.access(program, os.X_OK):
                substituted.append(program)
                text = re.sub(rf"(?m)^(Exec\w+=[-+!@:]*){re.escape(program)}\b", rf"\g<1>{shutil.which('true')}",
                              text)
        copy = target / unit.name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    instance = target / "motcua-server@5001.service"
    shutil.copy(target / "motcua-server@.service", instance)
    return [*copies, instance], substituted


@pytest.fixture(scope="module")
def analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("!!! systemd-analyze is not installed (Debian: systemd) — unit verification SKIPPED !!!")
    return tool


def test_every_unit_passes_systemd_analyze_verify(analyze: str, tmp_path: Path) -> None:
    assert {u.name for u in UNITS} >= {
        "motcua-server.service", "motcua-server@.service", "motcua-agent.service", "motcua-kiosk-browser.service",
        "motcua-display-browser.service", "motcua-backup.service", "motcua-backup.timer"}
    assert (VENV / "bin" / "motcua").exists(), "the checkout's .venv is needed: the units run its programs"
    copies, substituted = analyzable_copies(tmp_path)
    # Only programs of other packages may be missing here (cage on a machine without it), never ours.
    assert not [p for p in substituted if p.startswith(str(ROOT))], substituted
    if substituted:
        print(f"\n!!! not on this machine, replaced by /bin/true for verify: {', '.join(substituted)} !!!")
    done = subprocess.run([analyze, "verify", "--man=no", *map(str, copies)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    complaints = [line for line in (done.stdout + done.stderr).splitlines() if "motcua" in line]
    assert done.returncode == 0 and not complaints, done.stdout + done.stderr


def test_verify_would_catch_a_broken_unit(analyze: str, tmp_path: Path) -> None:
    """The check above is a real one: a typo'd key or a missing program is reported."""
    broken = tmp_path / "motcua-broken.service"
    broken.write_text("[Service]\nExecStart=/nonexistent/motcua\nRestartSecs=5\n")
    done = subprocess.run([analyze, "verify", "--man=no", str(broken)], capture_output=True, text=True, timeout=60)
    assert "RestartSecs" in done.stderr and "/nonexistent/motcua" in done.stderr


@pytest.mark.parametrize(("unit", "most"), [("motcua-server.service", 2.0), ("motcua-server@.service", 2.0),
                                            ("motcua-backup.service", 2.0), ("motcua-agent.service", 2.5)])
def test_hardening_of_the_units_that_need_no_screen(analyze: str, tmp_path: Path, unit: str, most: float) -> None:
    copies, _ = analyzable_copies(tmp_path)
    done = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", str(tmp_path / unit)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    level = re.search(r"Overall exposure level for \S+: (\d+\.\d)", done.stdout)
    assert level, done.stdout + done.stderr
    assert float(level.group(1)) <= most, done.stdout


def test_the_agent_keeps_its_devices(tmp_path: Path) -> None:
    agent = unit_settings(DEPLOY / "motcua-agent.service")
    # A device allow-list is resolved from /proc/devices at start: a driver loaded later would be refused.
    for key in ("PrivateDevices", "DevicePolicy", "DeviceAllow", "ProtectClock"):
        assert agent.get(key, ["no"]) == ["no"], f"{key}= would cut the agent off printers and scanners"
    groups = set(agent["SupplementaryGroups"][0].split())
    assert groups == {"dialout", "lp", "input"}
    assert "AF_NETLINK" in agent["RestrictAddressFamilies"][0]        # libusb's hotplug monitor
    rules = (DEPLOY / "99-motcua.rules").read_text()
    assert set(re.findall(r'GROUP="(\w+)"', rules)) <= groups      # every device the rules hand out, it may open
    server = unit_settings(DEPLOY / "motcua-server.service")
    assert "SupplementaryGroups" not in server and server["PrivateDevices"] == ["yes"]


def test_the_server_units_run_what_the_cli_runs() -> None:
    for name in ("motcua-server.service", "motcua-server@.service"):
        unit = unit_settings(DEPLOY / name)
        assert unit["Type"] == ["notify"] and unit["User"] == ["motcua"]
        assert unit["ExecStart"][0].endswith("/opt/motcua/.venv/bin/motcua serve")   # gunicorn_command()'s flags
        assert any(pre.endswith("/opt/motcua/.venv/bin/motcua db upgrade") for pre in unit["ExecStartPre"])
        assert unit["Restart"] == ["on-failure"] and unit["ProtectSystem"] == ["strict"]
        assert unit["StateDirectory"] == ["motcua"]              # /var/lib/motcua, the only place it writes
    assert "PORT=%i" in unit_settings(DEPLOY / "motcua-server@.service")["ExecStart"][0]
    timer = unit_settings(DEPLOY / "motcua-backup.timer")
    assert timer["Persistent"] == ["true"] and timer["OnCalendar"]
    assert "motcua backup --keep" in unit_settings(DEPLOY / "motcua-backup.service")["ExecStart"][0]


def test_the_board_may_play_sound_without_a_touch() -> None:
    launcher = (DEPLOY / "motcua-browser").read_text()
    assert "--autoplay-policy=no-user-gesture-required" in launcher
    assert "--autoplay-policy=no-user-gesture-required" in (ROOT / "display/static/announcer.js").read_text()
    assert json.loads((DEPLOY / "chromium-policy.json").read_text())["AutoplayAllowed"] is True
    for role in ("kiosk", "display"):
        unit = unit_settings(DEPLOY / f"motcua-{role}-browser.service")
        assert unit["ExecStart"][0].endswith(f"/opt/motcua/systemd/motcua-browser {role}")
        assert unit["PAMName"] == ["motcua-browser"] and unit["TTYPath"] == ["/dev/tty1"]
        assert unit["WantedBy"] == ["graphical.target"]


# --- settings files and their readable check ---------------------------------------------------------

@pytest.mark.parametrize("unit", SERVICES, ids=lambda p: p.name)
def test_every_unit_checks_its_settings_file_first(unit: Path) -> None:
    settings = unit_settings(unit)
    (loaded,) = settings["EnvironmentFile"]
    # "-": systemd's own failure for a missing file would come before the check and not name the file
    assert loaded.startswith("-/etc/motcua/"), loaded
    path = loaded[1:]
    check = settings["ExecStartPre"][0].split()
    assert check[0] == "/opt/motcua/systemd/motcua-check-env" and check[1] == path
    example = DEPLOY / (Path(path).name + ".example")
    assert example.exists(), f"{unit.name} loads {path}, but there is no {example.name} to copy"
    defaults = {kv.split("=")[0] for env in settings.get("Environment", []) for kv in env.split()}
    for required in check[2:]:
        assert required in env_file(example) or required in defaults or required in commented_keys(example)


def run_check(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(DEPLOY / "motcua-check-env"), *args], capture_output=True, text=True, timeout=30,
                          env={"PATH": os.environ["PATH"], **(env or {})})


def test_a_missing_settings_file_fails_with_a_readable_message(tmp_path: Path) -> None:
    missing = tmp_path / "etc" / "agent.env"
    done = run_check(str(missing), "MOTCUA_AGENT_TOKEN")
    assert done.returncode == 78                        # EX_CONFIG: `systemctl status` shows status=78/CONFIG
    assert f"motcua: {missing} is missing — copy {DEPLOY / 'agent.env.example'} there" in done.stderr
    assert f"sudo install -m 0600 {DEPLOY / 'agent.env.example'} {missing}" in done.stderr

    missing.parent.mkdir()
    missing.write_text("MOTCUA_SERVER=http://10.0.0.2:5000\n")
    done = run_check(str(missing), "MOTCUA_SERVER", "MOTCUA_AGENT_TOKEN", env={"MOTCUA_SERVER": "http://x"})
    assert done.returncode == 78
    assert f"motcua: {missing} does not set: MOTCUA_AGENT_TOKEN" in done.stderr

    done = run_check(str(missing), "MOTCUA_SERVER", "MOTCUA_AGENT_TOKEN",
                     env={"MOTCUA_SERVER": "http://x", "MOTCUA_AGENT_TOKEN": "t"})
    assert done.returncode == 0 and done.stderr == ""
    assert run_check(str(missing), "NOT-A-NAME").returncode == 2
    assert run_check().returncode == 2


@pytest.mark.parametrize("example", sorted(DEPLOY.glob("*.env.example")), ids=lambda p: p.name)
def test_settings_examples_read_as_systemd_reads_them(example: Path) -> None:
    values = env_file(example)
    read_by_server = set(re.findall(r'os\.environ\.get\("(\w+)"', (ROOT / "queue_server/config.py").read_text()
                                    + (ROOT / "queue_server/cli.py").read_text()))
    read_by_agent = set(re.findall(r'env\.get\("(\w+)"', (ROOT / "hardware/agent.py").read_text()))
    known = {
        "server.env.example": read_by_server | {"SECRET_KEY", "ID_HASH_KEY", "MOTCUA_BACKUP_DIR", "MOTCUA_BACKUP_KEEP"},
        "agent.env.example": read_by_agent | {"LOG_LEVEL"},
        "kiosk-browser.env.example": {"MOTCUA_BROWSER_URL", "MOTCUA_BROWSER_FLAGS", "MOTCUA_CAGE_FLAGS"},
        "display-browser.env.example": {"MOTCUA_BROWSER_URL", "MOTCUA_BROWSER_FLAGS", "MOTCUA_CAGE_FLAGS"},
    }[example.name]
    unknown = (set(values) | commented_keys(example)) - known
    assert not unknown, f"{example.name} names settings nothing reads: {unknown}"


# --- the server and the agent as their units run them ------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_xor_execute() -> bool:
    """PR_SET_MDWE (Linux ≥ 6.3) refuses writable+executable memory as MemoryDenyWriteExecute=yes does."""
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(65, 1, 0, 0, 0) == 0


def mdwe_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import ctypes,sys; sys.exit(ctypes.CDLL(None).prctl(65,1,0,0,0))"],
                           timeout=30)
    return probe.returncode == 0


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[dict]:
    env = {**os.environ, "MOTCUA_VAR": str(tmp_path / "var"), "SECRET_KEY": "deploy-test", "HOST": "127.0.0.1",
           "PORT": str(free_port())}
    env.pop("DATABASE_URL", None)
    motcua = str(VENV / "bin" / "motcua")
    for args in (["db", "upgrade"], ["demo"]):
        subprocess.run([motcua, *args], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    yield env


def test_server_reports_ready_to_systemd_and_serves_under_write_xor_execute(hall: dict, tmp_path: Path) -> None:
    """Type=notify: READY=1 once gunicorn listens. MemoryDenyWriteExecute=yes: nothing JITs in there."""
    hardened = mdwe_available()
    if not hardened:
        print("\n!!! PR_SET_MDWE not available on this kernel: the server runs without it here !!!")
    notify = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify))
    sock.settimeout(60)
    server = subprocess.Popen([str(VENV / "bin" / "motcua"), "serve"], env={**hall, "NOTIFY_SOCKET": str(notify)},
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              preexec_fn=write_xor_execute if hardened else None)
    agent = None
    try:
        message = sock.recv(4096).decode()
        assert "READY=1" in message
        base = f"http://127.0.0.1:{hall['PORT']}"
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
            assert json.load(r)["status"] == "ok"

        # the agent, as motcua-agent.service starts it: every setting from the environment
        token = subprocess.run([str(VENV / "bin" / "motcua"), "device-token", "agent", "agent-kiosk-1"], env=hall,
                               cwd=ROOT, check=True, capture_output=True, text=True, timeout=60).stdout.strip()
        printed = tmp_path / "printer.bin"
        agent_env = {**hall, "MOTCUA_SERVER": base, "MOTCUA_KIOSK": "kiosk-1", "MOTCUA_AGENT_TOKEN": token,
                     "MOTCUA_PRINTER": f"file://{printed}", "MOTCUA_AGENT_STATE": str(tmp_path / "agent"),
                     "XDG_CACHE_HOME": str(tmp_path / "cache")}
        agent = subprocess.Popen([str(VENV / "bin" / "python"), "-m", "hardware.agent"], env=agent_env, cwd=ROOT,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 preexec_fn=write_xor_execute if hardened else None)
        request = urllib.request.Request(f"{base}/api/v1/tickets", method="POST",
                                         data=json.dumps({"service": "HOTICH", "kiosk": "kiosk-1"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 201
        deadline = time.monotonic() + 60
        while not (printed.exists() and printed.stat().st_size > 1000) and time.monotonic() < deadline:
            assert agent.poll() is None, agent.stdout.read().decode()
            time.sleep(0.2)
        assert printed.exists() and printed.stat().st_size > 1000, "the agent printed nothing"
    finally:
        sock.close()
        for process in (agent, server):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    assert server.returncode == 0, server.stdout.read().decode()[-3000:]


# --- the browser launcher ----------------------------------------------------------------------------

class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("role", ["kiosk", "display"])
def test_browser_launcher_opens_the_page_full_screen(role: str, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake = tmp_path / "chromium"
    fake.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    fake.chmod(0o755)
    url = f"http://127.0.0.1:{server.server_address[1]}/{role}?kiosk=kiosk-2&token=abc"
    try:
        done = subprocess.run([str(DEPLOY / "motcua-browser"), role], capture_output=True, text=True, timeout=60,
                              env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MOTCUA_CHROMIUM": str(fake),
                                   "MOTCUA_BROWSER_URL": url, "MOTCUA_BROWSER_FLAGS": "--disable-gpu --lang=vi"})
    finally:
        server.shutdown()
    args = done.stdout.splitlines()
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert args[-1] == url and args[:1] == ["--kiosk"]
    assert {"--noerrdialogs", "--disable-translate", "--ozone-platform=wayland", "--disable-gpu", "--lang=vi",
            f"--user-data-dir={tmp_path}/chromium", "--check-for-update-interval=31536000"} <= set(args)
    assert ("--autoplay-policy=no-user-gesture-required" in args) == (role == "display")


def test_browser_launcher_says_what_is_wrong(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "MOTCUA_CHROMIUM": "/bin/true",
           "MOTCUA_BROWSER_WAIT_S": "0"}
    done = subprocess.run([str(DEPLOY / "motcua-browser"), "kiosk"], env=env, capture_output=True, text=True)
    assert done.returncode == 78 and "MOTCUA_BROWSER_URL is not set" in done.stderr
    done = subprocess.run([str(DEPLOY / "motcua-browser"), "kiosk"], capture_output=True, text=True,
                          env={**env, "MOTCUA_BROWSER_URL": "http://127.0.0.1:9/display?token=x"})
    assert done.returncode == 0 and "is not a /kiosk page" in done.stderr
    assert subprocess.run([str(DEPLOY / "motcua-browser"), "tv"], env=env, capture_output=True).returncode == 2


# --- udev rules --------------------------------------------------------------------------------------

MATCH_KEYS = r"ACTION|SUBSYSTEMS?|KERNELS?|DRIVERS?|TAGS?|(?:ATTRS?|ENV)\{[\w/.]+\}"
ASSIGN_KEYS = r"GROUP|OWNER|MODE|SYMLINK|GOTO|LABEL|TAG|OPTIONS|(?:ENV|ATTR)\{[\w/.]+\}"


def rule_lines() -> list[tuple[int, str]]:
    lines, pending, start = [], "", 0
    for number, line in enumerate((DEPLOY / "99-motcua.rules").read_text().splitlines(), 1):
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        start = start or number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        lines.append((start, pending + line))
        pending, start = "", 0
    return lines


def test_udev_rules_are_well_formed() -> None:
    labels = {m for _, line in rule_lines() for m in re.findall(r'LABEL="(\w+)"', line)}
    for number, line in rule_lines():
        pairs = re.findall(r'\s*([^=!+:,\s]+)\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*(,|$)', line)
        rebuilt = ", ".join(f'{k}{op}"{v}"' for k, op, v, _ in pairs)
        assert re.sub(r"\s", "", rebuilt) == re.sub(r"\s", "", line), f"line {number}: not KEY op \"value\", …"
        for key, op, value, _ in pairs:
            if op in ("==", "!="):
                assert re.fullmatch(MATCH_KEYS, key), f"line {number}: {key} cannot be matched"
            else:
                assert re.fullmatch(ASSIGN_KEYS, key), f"line {number}: {key} cannot be assigned"
                assert not key.startswith("ATTR{id"), f"line {number}: {key}= would write the device's IDs"
            if key.endswith(("{idVendor}", "{idProduct}")):
                assert all(re.fullmatch(r"[0-9a-f]{4}", v) for v in value.split("|")), f"line {number}: {value}"
            if key == "MODE":
                assert re.fullmatch(r"0[0-7]{3}", value) and value[-1] == "0", f"line {number}: not for everyone"
            if key == "GROUP":
                assert value in {"lp", "dialout", "input"}
            if key == "GOTO":
                assert value in labels


def group_missing_here(complaint: str) -> bool:
    """udev's "Unknown group 'input'" on a test machine without udev's package (which creates input)."""
    unknown = re.search(r"Unknown group '(\w+)'", complaint)
    if unknown is None:
        return False
    try:
        grp.getgrnam(unknown.group(1))
    except KeyError:
        return True
    return False


def test_udev_itself_reads_the_rules_without_complaint(tmp_path: Path) -> None:
    """With udevadm (udev ≥ 254: `udevadm verify`; older: `udevadm test` in a private /run)."""
    udevadm = shutil.which("udevadm")
    if udevadm is None:
        pytest.skip("!!! udevadm is not installed (Debian: udev) — udev's own reading of the rules SKIPPED; "
                    "test_udev_rules_are_well_formed still ran !!!")
    rules = DEPLOY / "99-motcua.rules"
    verify = subprocess.run([udevadm, "verify", str(rules)], capture_output=True, text=True, timeout=60)
    if "Unknown command verb" not in verify.stdout + verify.stderr:      # udev >= 254
        assert verify.returncode == 0, verify.stdout + verify.stderr
        return
    if os.geteuid() != 0 or shutil.which("unshare") is None or not Path("/sys/class/tty/tty").exists():
        pytest.skip("!!! udevadm test needs root, unshare and /sys — udev's own reading SKIPPED !!!")
    script = (f"mount -t tmpfs tmpfs /run && mkdir -p /run/udev/rules.d && cp {rules} /run/udev/rules.d/ "
              f"&& {udevadm} test --action=add /sys/class/tty/tty 2>&1")
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=120)
    ours = [line for line in done.stdout.splitlines() if "99-motcua.rules:" in line]
    problems = [line for line in ours if not group_missing_here(line)]
    assert "Reading rules file: /run/udev/rules.d/99-motcua.rules" in done.stdout, done.stdout[-2000:]
    assert not problems, problems


# --- nginx -------------------------------------------------------------------------------------------

def nginx_blocks(text: str) -> dict[str, list[str]]:
    """Block header → its direct directives, for the two levels the sample uses."""
    text = re.sub(r"#[^\n]*", "", text)
    assert text.count("{") == text.count("}"), "unbalanced braces"
    blocks: dict[str, list[str]] = {}
    stack: list[str] = ["main"]
    for token in re.findall(r"[^{};]+[{};]|}", text):
        token = " ".join(token.split())
        if token.endswith("{"):
            stack.append(token[:-1].strip())
            blocks.setdefault(stack[-1], [])
        elif token == "}":
            stack.pop()
        else:
            blocks.setdefault(stack[-1], []).append(token[:-1].strip())
    assert stack == ["main"]
    return blocks


def test_nginx_sample_keeps_sessions_sticky_and_upgrades_websockets(tmp_path: Path) -> None:
    text = (DEPLOY / "nginx-motcua.conf").read_text()
    blocks = nginx_blocks(text)
    assert "ip_hash" in blocks["upstream motcua"]
    servers = [d for d in blocks["upstream motcua"] if d.startswith("server 127.0.0.1:")]
    assert len(servers) >= 2
    socket_io = blocks["location /socket.io/"]
    assert "proxy_set_header Upgrade $http_upgrade" in socket_io
    assert "proxy_set_header Connection $motcua_connection" in socket_io
    assert "proxy_http_version 1.1" in blocks["server"] + socket_io
    assert "proxy_buffering off" in socket_io
    timeout = next(d for d in socket_io if d.startswith("proxy_read_timeout"))
    assert int(re.search(r"(\d+)s", timeout).group(1)) > 25      # above Socket.IO's 25 s ping interval
    for name, directives in blocks.items():
        # nginx passes a block's proxy_set_header down only to blocks that set none of their own
        if name.startswith("location") and any(d.startswith("proxy_set_header") for d in directives):
            for header in ("Host", "X-Forwarded-For", "X-Forwarded-Proto"):
                assert any(d.startswith(f"proxy_set_header {header} ") for d in directives), (name, header)
    nginx = shutil.which("nginx")
    if nginx is None:
        print("\n!!! nginx is not installed: `nginx -t` on the sample SKIPPED (structure checked above) !!!")
        return
    (tmp_path / "logs").mkdir()
    temp = " ".join(f"{k}_temp_path {tmp_path}/{k};" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"error_log {tmp_path}/error.log; pid {tmp_path}/nginx.pid; events {{}}\n"
        f"http {{ access_log off; {temp} include {DEPLOY / 'nginx-motcua.conf'}; }}\n")
    done = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# --- install.sh --------------------------------------------------------------------------------------

def test_scripts_are_executable_and_parse() -> None:
    for name in ("motcua-check-env", "motcua-browser", "motcua-admin", "install.sh"):
        path = DEPLOY / name
        assert os.access(path, os.X_OK), f"{name} must be executable (git keeps the mode)"
        shell = "bash" if name.endswith(".sh") else "sh"
        assert subprocess.run([shell, "-n", str(path)], capture_output=True).returncode == 0, name


def test_install_script_sets_a_box_up(tmp_path: Path) -> None:
    """install.sh for real, in a private mount namespace over copies of /etc, /usr/local/bin and /var."""
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("useradd") is None:
        pytest.skip("!!! install.sh needs root, unshare and useradd to be tried — SKIPPED !!!")
    etc = tmp_path / "etc"
    def regular_files_only(src: str, dst: str) -> None:
        if Path(src).is_file():               # never open a FIFO or socket that may sit in /etc
            shutil.copy2(src, dst)

    shutil.copytree("/etc", etc, symlinks=True, ignore_dangling_symlinks=True, copy_function=regular_files_only,
                    ignore=shutil.ignore_patterns("ssl", "ssh", "shadow-", "gshadow-"))
    script = f"""set -e
mount --bind {etc} /etc
for d in /usr/local/bin /var/backups /var/log /var/lib; do mkdir -p "$d"; mount -t tmpfs tmpfs "$d"; done
bash {DEPLOY}/install.sh server agent backup kiosk
getent passwd motcua motcua-browser
getent group dialout lp input
stat -c '%U:%G %a' /var/backups/motcua /var/lib/motcua
readlink /usr/local/bin/motcua
test -f /etc/udev/rules.d/99-motcua.rules && test -f /etc/pam.d/motcua-browser
test -f /etc/chromium/policies/managed/motcua.json
grep -h '^ExecStart=' /etc/systemd/system/motcua-server.service /etc/systemd/system/motcua-agent.service
bash {DEPLOY}/install.sh kiosk display || echo "refused: $?"
"""
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", script],
                          capture_output=True, text=True, timeout=300)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "created user motcua" in out and "created user motcua-browser" in out
    assert out.count("motcua:motcua 750") == 2
    assert f"{DEPLOY}/motcua-admin" in out
    assert f"ExecStart={ROOT}/.venv/bin/motcua serve" in out            # paths of this checkout
    assert f"ExecStart={ROOT}/.venv/bin/python -m hardware.agent" in out
    for env in ("server.env", "agent.env", "kiosk-browser.env"):
        assert f"next: sudo install -m 0600 {DEPLOY}/{env}.example /etc/motcua/{env}" in out
    assert "refused: 2" in out and "choose kiosk or display" in done.stderr

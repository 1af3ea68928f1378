"""Shared pieces of the benchmarks: the server under test, a light HTTP/1.1 and WebSocket client
on asyncio, RSS sampling, percentiles, machine facts and the JSON result file.

The load generator must stay light (the machines have two cores and the server needs one), so
there is no HTTP library and no thread here: requests are written as bytes on keep-alive asyncio
streams, and WebSocket frames are parsed by a small asyncio.Protocol.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from queue_server.websocket import unmask  # noqa: E402  (XOR with the mask: masks and unmasks alike)

DEMO_SERVICES = ["HOTICH", "CHUNGTHUC", "TUPHAP", "DATDAI", "HOKINHDOANH", "XAYDUNG", "BAOTRO", "TRAKETQUA"]
DEMO_PASSWORD = "motcua-demo"


def log(message: str) -> None:
    """Progress goes to stderr: stdout carries exactly one summary line."""
    print(message, file=sys.stderr, flush=True)


# --- arguments, results --------------------------------------------------------------------------

def base_parser(name: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"bench/{name}.py", description=description)
    parser.add_argument("--url", help="target a running server (e.g. http://127.0.0.1:5000) instead of starting "
                                      "one; it must have the demo office loaded")
    parser.add_argument("--server-pid", type=int, default=None,
                        help="with --url: pid of the gunicorn worker, for RSS readings (else RSS is not measured)")
    parser.add_argument("--out", type=Path, default=OUT_DIR / f"{name}.json", help="JSON result file")
    parser.add_argument("--keep-var", action="store_true", help="keep the temporary var dir (database, server log)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a floor is not met")
    parser.add_argument("--wait-quiet", type=float, default=60.0, metavar="SECONDS",
                        help="before each measured phase, wait up to this long for other processes to go idle "
                             "(default 60; 0: do not wait); the CPU other processes used is recorded either way")
    return parser


def parse_int_list(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError("a comma-separated list of positive integers")
    return values


def write_result(path: Path, result: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def floor(value: float | None, limit: float, kind: str) -> dict:
    """A floor to compare against: kind `min` (value ≥ limit) or `max` (value ≤ limit)."""
    if value is None:
        return {"value": None, "limit": limit, "kind": kind, "pass": None}
    ok = value >= limit if kind == "min" else value <= limit
    return {"value": round(value, 2), "limit": limit, "kind": kind, "pass": ok}


def percentiles(samples_s: list[float]) -> dict:
    """Nearest-rank percentiles of durations given in seconds, reported in milliseconds."""
    if not samples_s:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(samples_s)

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] * 1000

    return {"n": len(ordered), "p50": round(rank(50), 2), "p90": round(rank(90), 2), "p99": round(rank(99), 2),
            "max": round(ordered[-1] * 1000, 2), "mean": round(sum(ordered) / len(ordered) * 1000, 2)}


# --- machine and process facts -------------------------------------------------------------------

def machine() -> dict:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_mb = None
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_mb = int(line.split()[1]) // 1024
                break
    os_name = platform.system()
    with contextlib.suppress(OSError), open("/etc/os-release") as f:
        for line in f:
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip().strip('"')
                break
    return {"nproc": len(os.sched_getaffinity(0)), "cpu_model": cpu, "mem_total_mb": mem_mb,
            "kernel": platform.release(), "python": platform.python_version(), "os": os_name,
            "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: fields resume after the last ')'
        fields = stat[stat.rfind(")") + 2:].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return sorted(found)


def cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU time of a process so far (from /proc/<pid>/stat)."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu_seconds(root_pid: int | None) -> float | None:
    """CPU time of a process, of its live children, and of its children that have exited and been
    reaped (cutime + cstime): e.g. a PostgreSQL postmaster and every backend it forks, including
    backends that come and go during a measurement."""
    if root_pid is None:
        return None
    try:
        with open(f"/proc/{root_pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    total = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    for child in children_of(root_pid):
        total += cpu_seconds(child) or 0.0
    return total


def system_busy_seconds() -> float:
    """CPU time spent busy by the whole machine so far, all cores (from /proc/stat; steal excluded)."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


async def wait_for_quiet(max_wait_s: float, threshold_cores: float = 0.3, window_s: float = 2.0) -> dict | None:
    """Waits (up to max_wait_s) until the machine is nearly idle: the load generator and the server
    share two cores, so another job's CPU use would show up as server latency. Returns what it saw."""
    if max_wait_s <= 0:
        return None
    started = time.monotonic()
    while True:
        busy0 = system_busy_seconds()
        await asyncio.sleep(window_s)
        busy = (system_busy_seconds() - busy0) / window_s
        waited = time.monotonic() - started
        if busy <= threshold_cores or waited >= max_wait_s:
            if busy > threshold_cores:
                log(f"warning: other processes still use {busy:.2f} cores after {waited:.0f} s; measuring anyway")
            return {"busy_cores": round(busy, 2), "waited_s": round(waited, 1), "quiet": busy <= threshold_cores,
                    "reference_work_ms": reference_work_ms()}


def reference_work_ms(rounds: int = 3) -> float:
    """How long this machine takes right now for a fixed piece of pure-Python work (best of `rounds`).

    A quiet machine is not always a fast one: on the 2-core VM of bench/RESULTS.md the same server code
    spent 1.1 ms of CPU per ticket in one run and 1.9 ms in another 40 minutes later, with nothing else
    running on it. This figure, taken before each measured phase, tells a slow spell of the machine
    from a slower build."""
    best = math.inf
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i * i % 7
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 2)


def load_average() -> list[float]:
    with open("/proc/loadavg") as f:
        return [float(v) for v in f.read().split()[:3]]


class CpuWindow:
    """CPU seconds used during a phase by the server worker, this client, and everything else."""

    def __init__(self, server_pid: int | None, extra_pids: dict[str, int] | None = None,
                 extra_cpu: dict[str, Callable[[], float | None]] | None = None) -> None:
        """`extra_pids` (name → pid): more processes of the system under test (e.g. the hardware
        agent). Their CPU is reported as `<name>_cpu_s` / `<name>_utilisation` and is not counted
        as other processes' CPU. `extra_cpu` (name → function returning CPU seconds so far) does the
        same for things that are not one process (e.g. PostgreSQL: `process_tree_cpu_seconds`)."""
        self.server_pid = server_pid
        self.extra_pids = dict(extra_pids or {})
        self.extra_readers: dict[str, Callable[[], float | None]] = {
            name: (lambda pid=pid: cpu_seconds(pid)) for name, pid in (extra_pids or {}).items()}
        self.extra_readers.update(extra_cpu or {})
        self.extra0 = {name: read() for name, read in self.extra_readers.items()}
        self.wall0 = time.perf_counter()
        self.server0 = cpu_seconds(server_pid)
        self.client0 = time.process_time()
        self.busy0 = system_busy_seconds()

    def result(self) -> dict:
        wall = time.perf_counter() - self.wall0
        server1 = cpu_seconds(self.server_pid)
        server = None if self.server0 is None or server1 is None else server1 - self.server0
        client = time.process_time() - self.client0
        busy = system_busy_seconds() - self.busy0
        extra = {}
        for name, read in self.extra_readers.items():
            now = read()
            extra[name] = None if now is None or self.extra0[name] is None else now - self.extra0[name]
        other = None if server is None or None in extra.values() else \
            max(0.0, busy - server - client - sum(extra.values()))
        result = {"wall_s": round(wall, 3), "server_cpu_s": None if server is None else round(server, 3),
                  "client_cpu_s": round(client, 3),
                  "other_processes_cpu_s": None if other is None else round(other, 3),
                  "server_utilisation": None if server is None or not wall else round(server / wall, 2),
                  "client_utilisation": round(client / wall, 2) if wall else None,
                  "other_utilisation": None if other is None or not wall else round(other / wall, 2)}
        for name, value in extra.items():
            result[f"{name}_cpu_s"] = None if value is None else round(value, 3)
            result[f"{name}_utilisation"] = None if value is None or not wall else round(value / wall, 2)
        return result


class RssSampler:
    """Samples a process's RSS every `interval` seconds on the event loop and keeps the peak
    (overall, and since the last `mark()`)."""

    def __init__(self, pid: int | None, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.peak: float | None = None
        self.window_peak: float | None = None
        self._task: asyncio.Task | None = None

    def sample(self) -> float | None:
        value = rss_mb(self.pid)
        if value is not None:
            self.peak = value if self.peak is None else max(self.peak, value)
            self.window_peak = value if self.window_peak is None else max(self.window_peak, value)
        return value

    def mark(self) -> None:
        self.window_peak = None

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> RssSampler:
        if self.pid is not None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> float | None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self.sample()
        return self.peak


# --- the server under test -----------------------------------------------------------------------

class Target:
    """Where the load goes: a server this script started (and stops), or one given by --url."""

    def __init__(self, url: str, worker_pid: int | None, master_pid: int | None, started: bool,
                 log_path: Path | None, process: object | None = None) -> None:
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("benchmarks only send load to this machine (127.0.0.1)")
        self.url = url.rstrip("/")
        self.host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname
        self.port = parts.port or 80
        self.worker_pid = worker_pid
        self.master_pid = master_pid
        self.started = started
        self.log_path = log_path
        self.process = process  # the tests.server_process.ServerProcess when started here (device tokens)
        self.database_url: str | None = None    # set by target_servers (PostgreSQL)
        self.message_queue: dict | None = None  # set by target_servers: {"url", "channel"}

    def describe(self) -> dict:
        return {"url": self.url, "started_by_benchmark": self.started, "worker_pid": self.worker_pid,
                "master_pid": self.master_pid, "command": _server_command() if self.started else None}


def _server_command() -> str:
    from queue_server.cli import gunicorn_command
    return " ".join(gunicorn_command("127.0.0.1", 0)[1:]).replace("127.0.0.1:0", "127.0.0.1:<free port>")


@contextlib.contextmanager
def target_server(args: argparse.Namespace, extra_env: dict | None = None,
                  before_start: Callable | None = None) -> Iterator[Target]:
    """Starts a demo server (ServerProcess, temp var dir, SQLite) unless --url names one.

    `extra_env` is added to the server's environment; `before_start(server)` runs after the demo
    office is loaded and before the server starts (e.g. to bulk-load the database)."""
    if args.url:
        yield Target(args.url, args.server_pid, None, started=False, log_path=None)
        return
    from tests.server_process import ServerProcess

    var_dir = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    server = ServerProcess(var_dir=var_dir, extra_env=dict(extra_env or {}))
    try:
        log(f"preparing demo office in {var_dir}")
        server.prepare_demo()
        if before_start is not None:
            before_start(server)
        server.start()
        workers = children_of(server.proc.pid)
        worker = workers[0] if len(workers) == 1 else None
        if worker is None:
            log(f"warning: expected one gunicorn worker, found {workers}; RSS not measured")
        log(f"server {server.url} master pid {server.proc.pid} worker pid {worker}")
        yield Target(server.url, worker, server.proc.pid, started=True,
                     log_path=var_dir / f"server-{server.port}.log", process=server)
    finally:
        server.stop()
        if args.keep_var:
            log(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


@contextlib.contextmanager
def postgres_database(admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one run, dropped afterwards (as tests/conftest.py's
    `postgres_url` fixture does; the schema is left to `motcua db upgrade`)."""
    import uuid

    import sqlalchemy as sa

    name = f"motcua_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any driver error means the same thing here
        admin.dispose()
        raise SystemExit(f"cannot create a PostgreSQL database at {admin_url}: {exc}") from exc
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    log(f"created PostgreSQL database {name}")
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
        log(f"dropped PostgreSQL database {name}")


class PostgresProbe:
    """CPU of the whole PostgreSQL server (postmaster and every backend, also short-lived ones) and
    per-database counters, read beside a measurement. The server may serve other databases too: its
    CPU is all of it."""

    def __init__(self, database_url: str) -> None:
        import sqlalchemy as sa

        self.database = sa.make_url(database_url).database
        # connected to the database under test (to name the tables of row locks); its own backend is
        # left out of every figure
        self.engine = sa.create_engine(database_url, isolation_level="AUTOCOMMIT", pool_size=1, max_overflow=0)
        with self.engine.connect() as conn:
            backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            self.version = conn.exec_driver_sql("SHOW server_version").scalar_one()
            self.max_connections = int(conn.exec_driver_sql("SHOW max_connections").scalar_one())
        self.postmaster_pid = _parent_pid(backend)

    def cpu_seconds(self) -> float | None:
        return process_tree_cpu_seconds(self.postmaster_pid)

    def vacuum(self, *tables: str) -> float:
        """VACUUM (ANALYZE) as autovacuum would leave the tables; returns the seconds it took."""
        started = time.perf_counter()
        with self.engine.connect() as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {', '.join(tables)}")
        return round(time.perf_counter() - started, 3)

    def counters(self) -> dict:
        """Sessions opened, commits, rollbacks, deadlocks so far (cumulative statistics, flushed by
        PostgreSQL with a short delay) and the connections open now, for this database."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
            row = conn.exec_driver_sql(
                "SELECT sessions, xact_commit, xact_rollback, deadlocks, "
                "(SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname AND a.pid <> pg_backend_pid()) "
                "FROM pg_stat_database d WHERE datname = %s", (self.database,)).one()
            others = conn.exec_driver_sql(
                "SELECT coalesce(sum(xact_commit + xact_rollback), 0) FROM pg_stat_database "
                "WHERE datname IS NOT NULL AND datname NOT IN (%s, 'postgres')", (self.database,)).scalar_one()
        return {"sessions": row[0], "commits": row[1], "rollbacks": row[2], "deadlocks": row[3],
                "connections_now": row[4], "other_databases_transactions": int(others)}

    def wait_states(self) -> list[str]:
        """What each backend of this database is doing right now, as `state/wait_event_type:wait_event`
        (e.g. `active/Lock:transactionid` waits for a row lock, `idle in transaction/Client:ClientRead`
        holds a transaction open while the application is busy elsewhere), with ` on <table>` when it
        queues for a row of that table."""
        with self.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT a.state, a.wait_event_type, a.wait_event, "
                "(SELECT string_agg(DISTINCT l.relation::regclass::text, ',') FROM pg_locks l "
                " WHERE l.pid = a.pid AND l.locktype = 'tuple') "
                "FROM pg_stat_activity a WHERE a.datname = %s AND a.pid <> pg_backend_pid() "
                "AND a.backend_type = 'client backend'", (self.database,)).all()
        return [f"{state}/{kind or '-'}:{event or '-'}" + (f" on {table}" if table else "")
                for state, kind, event, table in rows]

    def dispose(self) -> None:
        self.engine.dispose()


def _parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2:].split()[1])


def redis_pid(url: str) -> int | None:
    """The redis-server's pid when it runs on this machine (for its CPU), else None."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        pid = int(client.info("server")["process_id"])
        client.close()
    except Exception:  # noqa: BLE001 - only a reading
        return None
    return pid if os.path.exists(f"/proc/{pid}") else None


def raise_open_files_limit(wanted: int) -> dict:
    """Raises this process's soft limit on open files towards `wanted` (at most the hard limit);
    servers started from here inherit it. Returns the limits before and after."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    after = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return {"soft_before": soft, "soft": after, "hard": hard}


@contextlib.contextmanager
def target_servers(args: argparse.Namespace, processes: int = 1, database: str = "sqlite",
                   message_queue: str | None = None, extra_env: dict | None = None,
                   before_start: Callable | None = None) -> Iterator[list[Target]]:
    """Like `target_server`, for any setup: `processes` server processes (each one gunicorn worker)
    on SQLite (one process only) or on a fresh PostgreSQL database (created here, migrated with
    `motcua db upgrade`, demo office loaded once, dropped afterwards), sharing live events through
    `message_queue` (a redis:// URL) on a channel of their own. One SQLite process with no message
    queue is exactly `target_server` (and honours --url)."""
    if processes == 1 and database == "sqlite" and not message_queue:
        with target_server(args, extra_env, before_start) as target:
            yield [target]
        return
    if args.url:
        raise SystemExit("--url names one running server; for PostgreSQL or several processes the benchmark "
                         "starts its own")
    if database == "sqlite":
        raise SystemExit("several processes need --database postgres: on SQLite the server is one process by design")
    if processes > 1 and not message_queue:
        raise SystemExit("several processes need a message queue (redis) to share live events")
    import uuid

    from queue_server.startup import StartupError, check_message_queue
    from tests.server_process import ServerProcess, motcua

    env = {"ID_HASH_KEY": "bench-id-hash-key", **(extra_env or {})}
    if message_queue:
        try:
            check_message_queue(message_queue, timeout_s=2)
        except StartupError as exc:
            raise SystemExit(str(exc)) from exc
        env["MESSAGE_QUEUE_URL"] = message_queue
        env["MESSAGE_QUEUE_CHANNEL"] = f"motcua-bench-{uuid.uuid4().hex[:8]}"
    var_dir = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    try:
        with contextlib.ExitStack() as stack:
            url = stack.enter_context(postgres_database())
            servers = [ServerProcess(var_dir=var_dir / f"p{i + 1}", database_url=url, extra_env=dict(env))
                       for i in range(processes)]
            for server in servers:
                server.var_dir.mkdir()
            log(f"migrating the database (motcua db upgrade) and loading the demo office, var dirs in {var_dir}")
            motcua(["db", "upgrade"], servers[0].env)
            servers[0].prepare_demo()
            if before_start is not None:
                before_start(servers[0])
            targets = []
            for server in servers:
                stack.callback(server.stop)
                server.start()
                workers = children_of(server.proc.pid)
                worker = workers[0] if len(workers) == 1 else None
                if worker is None:
                    log(f"warning: expected one gunicorn worker, found {workers}; RSS not measured")
                log(f"server {server.url} master pid {server.proc.pid} worker pid {worker}")
                target = Target(server.url, worker, server.proc.pid, started=True,
                                log_path=server.var_dir / f"server-{server.port}.log", process=server)
                target.database_url = url
                target.message_queue = {"url": message_queue, "channel": env.get("MESSAGE_QUEUE_CHANNEL")} \
                    if message_queue else None
                targets.append(target)
            yield targets
    finally:
        if args.keep_var:
            log(f"kept {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


def git_revision() -> str | None:
    """HEAD, plus a hash of the uncommitted server changes when there are any (the code measured)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=5)
        diff = subprocess.run(["git", "diff", "HEAD", "--", "queue_server"], cwd=ROOT, capture_output=True,
                              timeout=10).stdout
        untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "--", "queue_server"],
                                   cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.split()
        for name in sorted(untracked):
            diff += name.encode() + b"\0" + (ROOT / name).read_bytes()
    except (OSError, subprocess.SubprocessError):
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + (f"+dirty:{hashlib.sha1(diff).hexdigest()[:10]}" if diff else "")


# --- HTTP/1.1 on asyncio streams -----------------------------------------------------------------

class HttpError(Exception):
    pass


class HttpConnection:
    """One keep-alive HTTP/1.1 connection. Requests are never retried (a POST may have been applied)."""

    IDLE_REOPEN_S = 1.0  # gunicorn's keepalive is 2 s: reopen before the server would close

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0
        self.host_header = f"Host: {host}:{port}\r\n".encode()

    async def open(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port),
                                                          self.timeout)
        self.last_used = time.monotonic()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    def build(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> bytes:
        lines = [f"{method} {path} HTTP/1.1\r\n".encode(), self.host_header]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}\r\n".encode())
        if body is not None:
            lines.append(b"Content-Type: application/json\r\n")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(b"Content-Length: %d\r\n" % len(body or b""))
        lines.append(b"\r\n")
        return b"".join(lines) + (body or b"")

    async def send(self, raw: bytes, head_only: bool = False) -> tuple[int, bytes]:
        """Writes prepared request bytes and reads one response: (status, body)."""
        if self.writer is None or time.monotonic() - self.last_used > self.IDLE_REOPEN_S:
            await self.open()
        try:
            return await asyncio.wait_for(self._exchange(raw, head_only), self.timeout)
        except BaseException:
            await self.close()  # the stream is in an unknown state
            raise

    async def _exchange(self, raw: bytes, head_only: bool) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise HttpError(f"bad status line {status_line!r}")
        status = int(parts[1])
        length = None
        chunked = close = False
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if head_only or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif chunked:
            body = await self._read_chunked()
        elif length is not None:
            body = await self.reader.readexactly(length)
        else:
            body = await self.reader.read()
            close = True
        if close:
            await self.close()
        self.last_used = time.monotonic()
        return status, body

    async def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while (await self.reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return bytes(out)
            out += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    async def request(self, method: str, path: str, payload: object = None,
                      headers: dict | None = None) -> tuple[int, object]:
        """Convenience for setup calls: JSON in, (status, parsed JSON or None) out."""
        body = None if payload is None else json.dumps(payload).encode()
        status, raw = await self.send(self.build(method, path, body, headers))
        return status, (json.loads(raw) if raw else None)


async def staff_token(http: HttpConnection, username: str, password: str) -> str:
    status, body = await http.request("POST", "/api/v1/auth/token", {"username": username, "password": password})
    if status != 200:
        raise SystemExit(f"sign-in as {username} failed: HTTP {status} {body}")
    return body["token"]


# --- Engine.IO 4 / Socket.IO 5 over a minimal WebSocket client -----------------------------------

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class SocketIOClient(asyncio.Protocol):
    """A Socket.IO client on the default namespace, over a hand-written RFC 6455 client.

    `on_event(client, name, data, received_at)` is called for every `42[...]` event; `received_at`
    is time.perf_counter() taken when the bytes arrived, before any parsing. Pings are answered.
    Like a browser, it offers permessage-deflate and inflates what the server compresses.
    """

    def __init__(self, host: str, port: int, on_event: Callable, auth: dict | None = None,
                 wanted: Callable[[bytes], bool] | None = None, index: int = 0) -> None:
        self.index = index
        self.got_snapshot = False
        self.host = host
        self.port = port
        self.on_event = on_event
        self.auth = auth or {}
        self.wanted = wanted  # cheap pre-filter on the raw text: skip json.loads of other events
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.compressed = False                 # the message being assembled had RSV1 set
        self.inflater: zlib._Decompress | None = None   # set when the server accepted permessage-deflate
        self.key = base64.b64encode(os.urandom(16))
        loop = asyncio.get_running_loop()
        self.connected = loop.create_future()   # resolves on the Socket.IO `40` connect packet
        self.closed = loop.create_future()
        self.error: str | None = None

    async def connect(self, timeout: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.wait_for(loop.create_connection(lambda: self, self.host, self.port), timeout)
        await asyncio.wait_for(asyncio.shield(self.connected), timeout)

    # transport callbacks
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        transport.write(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            + f"Host: {self.host}:{self.port}\r\n".encode()
            + b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            + b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            + b"Sec-WebSocket-Key: " + self.key + b"\r\n\r\n")

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(self.error or f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        received_at = time.perf_counter()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).decode("latin-1")
            del self.buffer[:end + 4]
            expected = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
            if not head.startswith("HTTP/1.1 101") or expected not in head:
                self._fail(f"websocket upgrade refused: {head.splitlines()[0] if head else '?'}")
                return
            self.upgraded = True
            if "permessage-deflate" in head.lower():
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._frames(received_at)

    def _frames(self, received_at: float) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            length = b1 & 0x7F
            offset = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length = int.from_bytes(buf[2:4], "big")
                offset = 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length = int.from_bytes(buf[2:10], "big")
                offset = 10
            mask = None
            if b1 & 0x80:  # servers must not mask, but accept it
                mask = bytes(buf[offset:offset + 4])
                offset += 4
            if len(buf) < offset + length:
                return
            payload = bytes(buf[offset:offset + length])
            del buf[:offset + length]
            if mask:
                payload = unmask(payload, mask)
            opcode = b0 & 0x0F
            if opcode in (0x1, 0x2, 0x0):
                if opcode != 0x0:
                    self.compressed = bool(b0 & 0x40)
                self.fragments.append(payload)
                if b0 & 0x80:
                    message = b"".join(self.fragments)
                    self.fragments = []
                    if self.compressed and self.inflater is not None:
                        message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
                    self._packet(message, received_at)
            elif opcode == 0x8:
                self._frame(0x8, payload[:2])
                self.transport.close()
                return
            elif opcode == 0x9:
                self._frame(0xA, payload)

    def _packet(self, packet: bytes, received_at: float) -> None:
        kind = packet[:1]
        if kind == b"4":  # Socket.IO packet inside an Engine.IO message
            sio = packet[1:2]
            if sio == b"2":
                if self.wanted is not None and not self.wanted(packet):
                    return
                name, *args = json.loads(packet[2:])
                if name == "events_published":     # what one action published, [[name, payload], …]
                    for item_name, payload in args[0]:
                        self.on_event(self, item_name, payload, received_at)
                else:
                    self.on_event(self, name, args[0] if args else None, received_at)
            elif sio == b"0":
                if not self.connected.done():
                    self.connected.set_result(received_at)
            elif sio == b"4":
                self._fail("socket.io connection refused: " + packet[2:].decode(errors="replace"))
        elif kind == b"2":  # Engine.IO ping → pong
            self.send_text(b"3" + packet[1:])
        elif kind == b"0":  # Engine.IO open → Socket.IO connect to "/"
            self.send_text(b"40" + json.dumps(self.auth, separators=(",", ":")).encode())
        elif kind == b"1":
            self.close()

    def _fail(self, reason: str) -> None:
        self.error = reason
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()

    # sending
    def _frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
        self.transport.write(head + mask + unmask(payload, mask))

    def send_text(self, text: bytes) -> None:
        self._frame(0x1, text)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.send_text(b"41")                     # leave the namespace
            self._frame(0x8, (1000).to_bytes(2, "big"))  # WebSocket close
            self.transport.close()

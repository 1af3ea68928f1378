"""Ticket issuing under load: POST /api/v1/tickets at several concurrency levels, then checks that the
numbers handed out are neither duplicated nor skipped, and reads the server's RSS.

    .venv/bin/python bench/issue_tickets.py [--concurrency 1,8,32] [--requests 2000] [--url URL]
    .venv/bin/python bench/issue_tickets.py --processes 2 --database postgres --message-queue redis

By default one server process on SQLite. With `--processes N --database postgres --message-queue
redis` the script creates a fresh PostgreSQL database (migrated with `motcua db upgrade`, demo office
loaded once, dropped at the end), starts N server processes on it sharing live events through Redis
on a channel of their own, and spreads the connections over the processes (round robin per
connection). The numbering check then covers every process: no number twice, none skipped, and
each ticket is read back from another process than the one that issued it. In that mode the same
levels are also run, in the same invocation, against one SQLite process and one PostgreSQL process
(`--baselines`): the scale-out floor (≥ 1.5× the tickets/s of one process) compares with the one
PostgreSQL process (same database), and the ratio to one SQLite process is reported beside it.

Writes bench/out/issue_tickets.json (one SQLite process), issue_tickets_postgres.json (one PostgreSQL
process) or issue_tickets_postgres<N>.json (N processes) and prints one summary line.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from common import (
    DEMO_SERVICES,
    OUT_DIR,
    REDIS_URL,
    CpuWindow,
    HttpConnection,
    PostgresProbe,
    RssSampler,
    Target,
    base_parser,
    cpu_seconds,
    floor,
    git_revision,
    load_average,
    log,
    machine,
    parse_int_list,
    percentiles,
    redis_pid,
    rss_mb,
    target_servers,
    wait_for_quiet,
    write_result,
)

NAME = "issue_tickets"
CAPACITY_PER_SERVICE = 999  # demo services number A001…A999 per day
FLOOR_THROUGHPUT = 500.0    # tickets/s at concurrency 32, one process
FLOOR_P99_MS = 100.0        # at concurrency 32, one process
FLOOR_IDLE_RSS_MB = 100.0
FLOOR_CONCURRENCY = 32
FLOOR_SCALE_OUT = 1.5       # N processes on PostgreSQL + Redis vs one process on PostgreSQL, peak tickets/s
OTHER_DATABASES_NOTICEABLE = 50  # transactions of other databases during a level that make PostgreSQL's CPU suspect
TRAILING_NUMBER = re.compile(r"(\d+)$")
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
VACUUMED = ("tickets", "daily_sequences", "offices")   # what issuing writes, vacuumed before each level


@dataclass(frozen=True)
class Setup:
    """What runs the server: how many processes, on which database, sharing events through what."""
    processes: int
    database: str                 # sqlite | postgres
    message_queue: str | None     # a redis:// URL, or None

    @property
    def key(self) -> str:
        if self.processes == 1:
            return self.database + ("_redis" if self.message_queue else "")
        return f"{self.database}{self.processes}"

    @property
    def label(self) -> str:
        db = DATABASES[self.database]
        text = f"1 {db} process" if self.processes == 1 else f"{self.processes} {db} processes"
        return text + (" + Redis" if self.message_queue else "")

    def describe(self) -> dict:
        return {"key": self.key, "label": self.label, "processes": self.processes, "database": self.database,
                "message_queue": self.message_queue}


def parse_args() -> argparse.Namespace:
    parser = base_parser(NAME, " ".join(__doc__.split("\n\n")[0].split()))
    parser.set_defaults(out=None)
    parser.add_argument("--concurrency", type=parse_int_list, default=None,
                        help="comma-separated concurrency levels (default 1,8,32; 1,8,32,64 with --processes > 1)")
    parser.add_argument("--requests", type=int, default=None,
                        help="requests per level (default 2000, fewer when the levels would exceed the day's "
                             "numbers)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests before the levels (default 200)")
    parser.add_argument("--services", default=",".join(DEMO_SERVICES), help="service codes to spread requests over")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="a level stops after this many seconds even if requests remain")
    parser.add_argument("--no-readback", dest="readback", action="store_false",
                        help="skip reading every ticket back with GET /api/v1/tickets/<id>")
    parser.add_argument("--readback-concurrency", type=int, default=8)
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes to start (default 1; more need --database postgres)")
    parser.add_argument("--database", choices=sorted(DATABASES), default=None,
                        help="sqlite (default for one process) or postgres (a fresh database at "
                             "127.0.0.1:5432, created and dropped by the benchmark; default for several)")
    parser.add_argument("--message-queue", default=None, metavar="none|redis|URL",
                        help="share live events through Redis (default: redis with several processes, none with "
                             "one); redis means " + REDIS_URL)
    parser.add_argument("--baselines", default=None, metavar="LIST",
                        help="one-process setups run in the same invocation for comparison, from sqlite,postgres "
                             "(default both when --processes > 1, none otherwise; 'none' for none)")
    args = parser.parse_args()
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    args.database = args.database or ("postgres" if args.processes > 1 else "sqlite")
    mq = args.message_queue or ("redis" if args.processes > 1 else "none")
    args.message_queue = None if mq == "none" else REDIS_URL if mq == "redis" else mq
    if args.message_queue and not args.message_queue.startswith("redis://"):
        parser.error("--message-queue takes none, redis or a redis:// URL")
    if args.database == "sqlite" and args.processes > 1:
        parser.error("several processes need --database postgres: on SQLite the server is one process by design")
    if args.url and (args.processes > 1 or args.database != "sqlite" or args.message_queue):
        parser.error("--url names one running server; PostgreSQL and several processes are started by the script")
    baselines = args.baselines if args.baselines is not None else ("sqlite,postgres" if args.processes > 1 else "")
    args.baselines = [] if baselines in ("", "none") else [b.strip() for b in baselines.split(",") if b.strip()]
    for b in args.baselines:
        if b not in DATABASES:
            parser.error(f"--baselines: {b!r} is not one of {', '.join(DATABASES)}")
    if args.url and args.baselines:
        parser.error("--baselines start their own servers: not with --url")
    args.services_list = [s.strip() for s in args.services.split(",") if s.strip()]
    if args.concurrency is None:
        args.concurrency = [1, 8, 32, 64] if args.processes > 1 else [1, 8, 32]
    if args.requests is None:
        fits = (CAPACITY_PER_SERVICE * len(args.services_list) - args.warmup) // len(args.concurrency)
        args.requests = max(100, min(2000, fits // 100 * 100))
    main_setup = Setup(args.processes, args.database, args.message_queue)
    if args.out is None:
        args.out = OUT_DIR / (f"{NAME}.json" if main_setup.key == "sqlite" else f"{NAME}_{main_setup.key}.json")
    return args


class Probes:
    """CPU readers beside the server processes: PostgreSQL (whole server) and Redis, when in use."""

    def __init__(self, targets: list[Target]) -> None:
        self.targets = targets
        self.postgres = PostgresProbe(targets[0].database_url) if targets[0].database_url else None
        mq = targets[0].message_queue
        self.redis_pid = redis_pid(mq["url"]) if mq else None

    def window(self) -> CpuWindow:
        extra_pids = {f"server{i + 1}": t.worker_pid for i, t in enumerate(self.targets) if i > 0}
        extra_cpu = {}
        if self.postgres is not None:
            extra_cpu["postgres"] = self.postgres.cpu_seconds
        if self.redis_pid is not None:
            extra_cpu["redis"] = lambda: cpu_seconds(self.redis_pid)
        return CpuWindow(self.targets[0].worker_pid, extra_pids, extra_cpu)

    def describe(self) -> dict:
        out = {}
        if self.postgres is not None:
            out["postgres"] = {"version": self.postgres.version, "postmaster_pid": self.postgres.postmaster_pid,
                               "max_connections": self.postgres.max_connections,
                               "cpu": "the whole PostgreSQL server: postmaster, backends (also those that exited "
                                      "during the level) and background processes"}
        if self.targets[0].message_queue:
            out["redis"] = {**self.targets[0].message_queue, "pid": self.redis_pid}
        return out

    def dispose(self) -> None:
        if self.postgres is not None:
            self.postgres.dispose()


def cpu_breakdown(cpu: dict, processes: int, tickets: int) -> dict:
    """CPU of every part during a level, in cores (utilisation) and in ms per ticket."""
    servers = [cpu["server_cpu_s"]] + [cpu.get(f"server{i + 1}_cpu_s") for i in range(1, processes)]
    parts = {"servers": None if None in servers else sum(servers), "postgres": cpu.get("postgres_cpu_s"),
             "redis": cpu.get("redis_cpu_s"), "client": cpu["client_cpu_s"], "other": cpu["other_processes_cpu_s"]}
    wall = cpu["wall_s"]
    return {
        "cores": {k: None if v is None or not wall else round(v / wall, 2) for k, v in parts.items()},
        "ms_per_ticket": {k: None if v is None or not tickets else round(v / tickets * 1000, 3)
                          for k, v in parts.items()},
        "server_cores_per_process": [None if v is None or not wall else round(v / wall, 2) for v in servers],
    }


async def run_level(targets: list[Target], concurrency: int, total: int, services: list[str], offset: int,
                    timeout: float, max_seconds: float, samplers: list[RssSampler],
                    probes: Probes) -> tuple[dict, list[dict]]:
    """One level: `concurrency` keep-alive connections, connection i to process i mod N."""
    raw = {}
    homes = [i % len(targets) for i in range(concurrency)]
    conns = [HttpConnection(targets[h].host, targets[h].port, timeout) for h in homes]
    for code in services:
        raw[code] = conns[0].build("POST", "/api/v1/tickets", json.dumps({"service": code}).encode())
    await asyncio.gather(*(c.open() for c in conns))
    latencies: list[float] = []
    per_process_latencies: list[list[float]] = [[] for _ in targets]
    issued: list[dict] = []
    errors: Counter = Counter()
    error_samples: list[str] = []
    state = {"next": 0}
    deadline = time.monotonic() + max_seconds

    order: list[int] = []  # which connection each response came back on, in completion order

    async def worker(index: int, conn: HttpConnection) -> None:
        home = homes[index]
        while state["next"] < total and time.monotonic() < deadline:
            i = state["next"]
            state["next"] += 1
            code = services[(offset + i) % len(services)]
            t0 = time.perf_counter()
            try:
                status, body = await conn.send(raw[code])
            except Exception as exc:  # noqa: BLE001 - counted, never retried (the POST may have been applied)
                errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - t0
            latencies.append(elapsed)
            per_process_latencies[home].append(elapsed)
            order.append(index)
            if status == 201:
                t = json.loads(body)
                issued.append({"id": t["id"], "number": t["number"], "service": t["service"],
                               "business_date": t["business_date"], "requested": code, "process": home})
            else:
                errors[f"HTTP {status}"] += 1
                if len(error_samples) < 5:
                    error_samples.append(f"{status} {body[:200].decode(errors='replace')}")

    for sampler in samplers:
        sampler.mark()
    pg_before = probes.postgres.counters() if probes.postgres else None
    waits: Counter = Counter()
    watcher = asyncio.get_running_loop().create_task(watch_postgres(probes.postgres, waits)) \
        if probes.postgres else None
    window = probes.window()
    started = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(conns)))
    wall = time.perf_counter() - started
    cpu = window.result()
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    pg_after = probes.postgres.counters() if probes.postgres else None
    await asyncio.gather(*(c.close() for c in conns))
    peaks = []
    for sampler in samplers:
        sampler.sample()
        peaks.append(sampler.window_peak)
    breakdown = cpu_breakdown(cpu, len(targets), len(issued))
    server_cpu = breakdown["ms_per_ticket"]["servers"]
    result = {
        "concurrency": concurrency, "requested": total, "sent": state["next"], "ok": len(issued),
        "errors": sum(errors.values()), "error_kinds": dict(errors), "error_samples": error_samples,
        "duration_s": round(wall, 3), "throughput_per_s": round(len(issued) / wall, 1) if wall else None,
        "latency_ms": percentiles(latencies),
        "server_cpu_ms_per_ticket": server_cpu,
        "longest_streak_one_connection": longest_streak(order) if concurrency > 1 else None,
        "cpu": cpu, "cpu_breakdown": breakdown,
        "rss_peak_mb": None if None in peaks else max(peaks),
        "stopped_by_time_limit": state["next"] < total,
    }
    if len(targets) > 1:
        counts = Counter(t["process"] for t in issued)
        result["per_process"] = [
            {"process": k + 1, "connections": homes.count(k), "ok": counts.get(k, 0),
             "throughput_per_s": round(counts.get(k, 0) / wall, 1) if wall else None,
             "latency_ms": percentiles(per_process_latencies[k]), "rss_peak_mb": peaks[k],
             "server_cores": breakdown["server_cores_per_process"][k]} for k in range(len(targets))]
    if pg_before and pg_after:
        result["postgres"] = {**{k: pg_after[k] - pg_before[k] for k in ("sessions", "commits", "rollbacks",
                                                                         "deadlocks",
                                                                         "other_databases_transactions")},
                              "connections_at_end": pg_after["connections_now"],
                              "note": "counter differences over the level (PostgreSQL flushes them with a delay "
                                      "of up to a second: roughly this level's)"}
        seen = sum(waits.values())
        result["postgres"]["backend_states"] = {
            "samples": waits.pop("_samples", 0),
            "share": {k: round(v / seen, 3) for k, v in waits.most_common(8)} if seen else {},
            "note": "what this database's backends were doing, sampled every 0.1 s during the level (state/"
                    "wait_event_type:wait_event); 'idle in transaction/Client:ClientRead' = a transaction "
                    "left open while its server process was busy with other requests, 'active/Lock:…' = "
                    "waiting for a row lock held by another transaction"}
        shared = result["postgres"]["other_databases_transactions"]
        if shared > OTHER_DATABASES_NOTICEABLE:
            result["postgres"]["cpu_warning"] = (f"PostgreSQL also ran {shared} transactions of other databases "
                                                 "during this level: its CPU figure includes that work")
    return result, issued


async def watch_postgres(probe: PostgresProbe, waits: Counter, interval: float = 0.1) -> None:
    """Tallies the backends' states until cancelled (queries in a thread: the load's loop keeps going)."""
    while True:
        states = await asyncio.to_thread(probe.wait_states)
        waits.update(states)
        waits["_samples"] += 1
        await asyncio.sleep(interval)


def longest_streak(order: list[int]) -> int:
    """Most responses in a row on the same connection while others had requests waiting: with fair
    scheduling this stays small (≈1–3); a large value means one connection starved the others."""
    best = run = 0
    previous = None
    for index in order:
        run = run + 1 if index == previous else 1
        previous = index
        best = max(best, run)
    return best


def check_numbering(tickets: list[dict], fresh_server: bool) -> dict:
    """No duplicated number per service and day; per service the numbers are exactly 1..n
    (on a server that already had tickets today: one contiguous run)."""
    by_day: dict[tuple[str, str], list[int]] = defaultdict(list)
    wrong_service = 0
    unparsable = []
    for t in tickets:
        if t["service"] != t["requested"]:
            wrong_service += 1
        match = TRAILING_NUMBER.search(t["number"])
        if not match:
            unparsable.append(t["number"])
            continue
        by_day[(t["service"], t["business_date"])].append(int(match.group(1)))
    ids = Counter(t["id"] for t in tickets)
    per_service = {}
    problems = []
    duplicate_total = 0
    for (code, day), numbers in sorted(by_day.items()):
        counts = Counter(numbers)
        duplicates = sorted(n for n, c in counts.items() if c > 1)
        duplicate_total += len(duplicates)
        low = 1 if fresh_server else min(numbers)
        expected = set(range(low, max(numbers) + 1))
        missing = sorted(expected - set(numbers))
        per_service[f"{code} {day}"] = {"tickets": len(numbers), "min": min(numbers), "max": max(numbers),
                                        "duplicates": duplicates[:20], "missing": missing[:20],
                                        "duplicate_count": len(duplicates), "missing_count": len(missing)}
        if duplicates:
            problems.append(f"{code} {day}: {len(duplicates)} duplicated numbers, e.g. {duplicates[:5]}")
        if missing:
            problems.append(f"{code} {day}: {len(missing)} missing numbers, e.g. {missing[:5]}")
    duplicate_ids = sum(1 for c in ids.values() if c > 1)
    if duplicate_ids:
        problems.append(f"{duplicate_ids} ticket ids returned twice")
    if wrong_service:
        problems.append(f"{wrong_service} tickets for another service than requested")
    if unparsable:
        problems.append(f"unparsable numbers, e.g. {unparsable[:5]}")
    processes = sorted({t.get("process", 0) for t in tickets})
    return {"tickets": len(tickets), "rule": "1..n per service and day" if fresh_server else "contiguous run",
            "across_processes": len(processes), "ok": not problems, "problems": problems,
            "duplicated_numbers": duplicate_total, "duplicate_ids": duplicate_ids,
            "missing_numbers": sum(v["missing_count"] for v in per_service.values()), "per_service": per_service}


async def read_back(targets: list[Target], tickets: list[dict], concurrency: int, timeout: float) -> dict:
    """GET every ticket and compare number, service and day with what POST returned; with several
    processes each ticket is read from the next process after the one that issued it."""
    n = len(targets)
    queues = [[t for t in reversed(tickets) if (t.get("process", 0) + 1) % n == k] for k in range(n)]
    homes = [i % n for i in range(max(concurrency, n))]
    conns = [HttpConnection(targets[h].host, targets[h].port, timeout) for h in homes]
    await asyncio.gather(*(c.open() for c in conns))
    latencies: list[float] = []
    mismatches: list[str] = []
    errors: Counter = Counter()

    async def worker(conn: HttpConnection, queue: list[dict]) -> None:
        while queue:
            t = queue.pop()
            t0 = time.perf_counter()
            try:
                status, body = await conn.send(conn.build("GET", f"/api/v1/tickets/{t['id']}"))
            except Exception as exc:  # noqa: BLE001
                errors[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors[f"HTTP {status}"] += 1
                continue
            got = json.loads(body)
            if (got["number"], got["service"], got["business_date"]) != \
                    (t["number"], t["service"], t["business_date"]):
                mismatches.append(f"id {t['id']}: issued {t['number']} {t['service']}, read {got['number']} "
                                  f"{got['service']}")

    started = time.perf_counter()
    await asyncio.gather(*(worker(c, queues[h]) for c, h in zip(conns, homes, strict=True)))
    wall = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in conns))
    return {"tickets": len(tickets), "concurrency": len(conns), "errors": sum(errors.values()),
            "error_kinds": dict(errors), "mismatches": len(mismatches), "mismatch_samples": mismatches[:5],
            "from_other_process": n > 1, "duration_s": round(wall, 2), "latency_ms": percentiles(latencies),
            "ok": not mismatches and not errors}


def pg_text(pg: dict) -> str:
    states = ", ".join(f"{k} {v:.0%}" for k, v in list(pg["backend_states"]["share"].items())[:4])
    return (f"{pg['sessions']} sessions opened, {pg['connections_at_end']} connections at the end, "
            f"{pg['deadlocks']} deadlocks, {pg['rollbacks']} rollbacks; backends: {states}"
            + (f"; {pg['cpu_warning']}" if pg.get("cpu_warning") else ""))


def single_process_floors(levels: list[dict], rss_idle: float | None) -> dict:
    top = next((lv for lv in levels if lv["concurrency"] == FLOOR_CONCURRENCY), None)
    return {
        "throughput_c32_per_s": floor(top["throughput_per_s"] if top else None, FLOOR_THROUGHPUT, "min"),
        "p99_c32_ms": floor(top["latency_ms"]["p99"] if top else None, FLOOR_P99_MS, "max"),
        "idle_rss_mb": floor(rss_idle, FLOOR_IDLE_RSS_MB, "max"),
    }


async def measure_setup(args: argparse.Namespace, targets: list[Target], setup: Setup) -> dict:
    """Warm-up, the levels, the numbering check and the read-back against one setup."""
    services = args.services_list
    probes = Probes(targets)
    samplers = [RssSampler(t.worker_pid) for t in targets]
    await asyncio.sleep(1.0)  # let the freshly started workers settle
    rss_idle = [rss_mb(t.worker_pid) for t in targets]
    log(f"[{setup.label}] idle RSS {rss_idle} MB")
    for sampler in samplers:
        sampler.start()
    all_tickets: list[dict] = []
    offset = 0
    warmup = None
    try:
        if args.warmup:
            log(f"[{setup.label}] warm-up: {args.warmup} requests at concurrency 8")
            warmup, issued = await run_level(targets, 8, args.warmup, services, offset, args.timeout,
                                             args.max_seconds, samplers, probes)
            all_tickets += issued
            offset += warmup["sent"]
        levels = []
        for concurrency in args.concurrency:
            # Each level starts from vacuumed tables, as a quiet office's autovacuum leaves them. Without
            # it, one run of 1,900 tickets a level saw PostgreSQL's CPU per ticket rise from 1.2 ms to
            # 3.2-3.7 ms over the levels, while three runs with it stayed within 0.5-1.4 ms.
            vacuumed = probes.postgres.vacuum(*VACUUMED) if probes.postgres else None
            quiet = await wait_for_quiet(args.wait_quiet)
            level, issued = await run_level(targets, concurrency, args.requests, services, offset, args.timeout,
                                            args.max_seconds, samplers, probes)
            all_tickets += issued
            offset += level["sent"]
            level["quiet_check_before"] = quiet
            level["vacuum_before_s"] = vacuumed
            levels.append(level)
            lat = level["latency_ms"]
            cores = level["cpu_breakdown"]["cores"]
            per_ticket = level["cpu_breakdown"]["ms_per_ticket"]
            log(f"[{setup.label}] c={concurrency}: {level['ok']} ok, {level['errors']} errors, "
                f"{level['throughput_per_s']} tickets/s, p50 {lat['p50']} ms, p99 {lat['p99']} ms, max {lat['max']} "
                f"ms; cores: servers {level['cpu_breakdown']['server_cores_per_process']}, postgres "
                f"{cores['postgres']}, redis {cores['redis']}, client {cores['client']}, other {cores['other']}; "
                f"ms/ticket: servers {per_ticket['servers']}, postgres {per_ticket['postgres']}, client "
                f"{per_ticket['client']}; longest streak {level['longest_streak_one_connection']}, RSS peak "
                f"{level['rss_peak_mb']} MB"
                + (f"; postgres: {pg_text(level['postgres'])}" if "postgres" in level else ""))
            if cores["client"] is not None and cores["client"] > 0.85:
                log(f"warning: the load generator used {cores['client']} of a core: it may be the limit")
        peaks = [await sampler.stop() for sampler in samplers]
        await asyncio.sleep(1.0)
        rss_after = [rss_mb(t.worker_pid) for t in targets]
        numbering = check_numbering(all_tickets, fresh_server=targets[0].started)
        log(f"[{setup.label}] numbering: " + ("ok" if numbering["ok"] else "; ".join(numbering["problems"])))
        readback = None
        if args.readback:
            readback = await read_back(targets, all_tickets, args.readback_concurrency, args.timeout)
            log(f"[{setup.label}] read back {readback['tickets']} tickets"
                + (" (each from another process)" if len(targets) > 1 else "")
                + f": {readback['mismatches']} mismatches, {readback['errors']} errors, p99 "
                  f"{readback['latency_ms']['p99']} ms")
        postgres = None
        if probes.postgres is not None:
            await asyncio.sleep(1.5)  # let PostgreSQL flush its per-database counters
            postgres = {**probes.describe()["postgres"], "database_counters_at_end": probes.postgres.counters()}
    finally:
        probes.dispose()
    body = {"setup": setup.describe(), "warmup": warmup, "levels": levels,
            "rss_mb": {"idle_before_load": max(rss_idle) if None not in rss_idle else None,
                       "peak_under_load": max(peaks) if None not in peaks else None,
                       "after_load": max(rss_after) if None not in rss_after else None},
            "numbering_check": numbering, "readback": readback,
            "floors": single_process_floors(levels, rss_idle[0]) if len(targets) == 1 else {}}
    if len(targets) > 1:
        body["rss_mb"]["per_process"] = [
            {"process": k + 1, "idle_before_load": rss_idle[k], "peak_under_load": peaks[k],
             "after_load": rss_after[k]} for k in range(len(targets))]
        body["rss_mb"]["note"] = "the top-level figures are the largest of any one process"
    if postgres is not None:
        body["postgres"] = postgres
    if "redis" in probes.describe():
        body["redis"] = probes.describe()["redis"]
    return body


def run_setup(args: argparse.Namespace, setup: Setup) -> dict:
    with target_servers(args, setup.processes, setup.database, setup.message_queue) as targets:
        load_before = load_average()
        body = asyncio.run(measure_setup(args, targets, setup))
        body["server"] = {**targets[0].describe(), "processes": [t.describe() for t in targets]}
        body["load_average"] = {"before": load_before, "after": load_average()}
    return body


def peak(levels: list[dict]) -> dict | None:
    """The level with the most tickets/s: the setup's capacity as measured."""
    measured = [lv for lv in levels if lv["throughput_per_s"]]
    return max(measured, key=lambda lv: lv["throughput_per_s"]) if measured else None


def cpu_limits(body: dict, cores: int) -> dict | None:
    """What bounds a setup at its best level, from the CPU each ticket cost: the server processes
    (each one gevent worker, at most one core each) and the whole machine (servers + PostgreSQL +
    Redis + the load generator + other processes, on `cores` cores)."""
    best = peak(body["levels"])
    if best is None:
        return None
    per = best["cpu_breakdown"]["ms_per_ticket"]
    processes = body["setup"]["processes"]
    own = sum(v for k, v in per.items() if k != "other" and v is not None)
    everything = own + (per["other"] or 0.0)
    return {"setup": body["setup"]["label"], "concurrency": best["concurrency"],
            "throughput_per_s": best["throughput_per_s"], "cpu_ms_per_ticket": per,
            "server_cores_per_process": best["cpu_breakdown"]["server_cores_per_process"],
            "postgres_cpu_warning": (best.get("postgres") or {}).get("cpu_warning"),
            "bound_by_server_processes_per_s": round(processes * 1000 / per["servers"], 1) if per["servers"] else None,
            "bound_by_machine_per_s": round(cores * 1000 / own, 1) if own else None,
            "bound_by_machine_with_other_processes_per_s": round(cores * 1000 / everything, 1) if everything else None,
            "note": "bounds = processes (or cores) ÷ CPU per ticket: the servers cannot go past one core each, "
                    "and the machine's cores are shared by the servers, PostgreSQL, Redis and the load generator"}


def scale_out(main: dict, baselines: dict[str, dict], processes: int) -> dict:
    """Ratios of the N-process setup's tickets/s to each one-process baseline: per level and at peak."""
    out: dict = {"processes": processes, "measure": "peak tickets/s over the levels (each setup's best level), "
                                                    "same machine, same invocation"}
    cores = machine()["nproc"]
    out["limits"] = {key: cpu_limits(body, cores) for key, body in [(main["setup"]["key"], main),
                                                                      *baselines.items()]}
    mine = peak(main["levels"])
    out["peak"] = {"setup": main["setup"]["label"], "throughput_per_s": mine["throughput_per_s"] if mine else None,
                   "concurrency": mine["concurrency"] if mine else None}
    for key, base in baselines.items():
        theirs = peak(base["levels"])
        by_level = {lv["concurrency"]: lv["throughput_per_s"] for lv in base["levels"]}
        out[f"vs_one_{key}_process"] = {
            "baseline": base["setup"]["label"],
            "baseline_peak_per_s": theirs["throughput_per_s"] if theirs else None,
            "baseline_peak_concurrency": theirs["concurrency"] if theirs else None,
            "ratio": round(mine["throughput_per_s"] / theirs["throughput_per_s"], 2) if mine and theirs else None,
            "ratio_per_level": {str(lv["concurrency"]): round(lv["throughput_per_s"] / by_level[lv["concurrency"]], 2)
                                for lv in main["levels"]
                                if by_level.get(lv["concurrency"]) and lv["throughput_per_s"]},
        }
    return out


def multi_process_floors(main: dict, scale: dict) -> dict:
    check = main["numbering_check"]
    pg = scale.get("vs_one_postgres_process")
    floors = {"scale_out_vs_one_postgres_process": {
        **floor(pg["ratio"] if pg else None, FLOOR_SCALE_OUT, "min"),
        "compared_with": "one PostgreSQL process (same database: the scale-out claim); the ratio to one SQLite "
                         "process is in scale_out.vs_one_sqlite_process",
        "measure": scale["measure"]}}
    if pg is None:
        floors["scale_out_vs_one_postgres_process"]["note"] = "no one-process PostgreSQL baseline in this run"
    duplicates = check["duplicated_numbers"] + check["duplicate_ids"]
    floors["duplicates"] = {**floor(float(duplicates), 0.0, "max"),
                            "what": f"numbers handed out twice across {check['across_processes']} processes "
                                    f"(gaps: {check['missing_numbers']})"}
    return floors


def summary(result: dict) -> str:
    parts = []
    for lv in result["levels"]:
        lat = lv["latency_ms"]
        parts.append(f"c{lv['concurrency']} {lv['throughput_per_s']}/s p50 {lat['p50']} p99 {lat['p99']} "
                     f"max {lat['max']} ms err {lv['errors']}")
    rss = result["rss_mb"]
    floors = result["floors"]
    verdict = "PASS" if all(f["pass"] for f in floors.values()) else \
        "FAIL(" + ",".join(k for k, f in floors.items() if f["pass"] is not True) + ")"
    check = result["numbering_check"]
    rb = result["readback"]
    label = result.get("setup", {}).get("label", "1 SQLite process")
    text = (f"{NAME} [{label}]: " + " | ".join(parts)
            + f" | numbering {'ok' if check['ok'] else 'BROKEN'} ({check['tickets']} tickets"
            + (f", readback {'ok' if rb['ok'] else 'BROKEN'}" if rb else "") + ")"
            + f" | RSS idle {rss['idle_before_load']} peak {rss['peak_under_load']} after {rss['after_load']} MB"
            + (" per process (max)" if "per_process" in rss else ""))
    scale = result.get("scale_out")
    if scale:
        for key in ("postgres", "sqlite"):
            v = scale.get(f"vs_one_{key}_process")
            if v:
                text += (f" | vs {v['baseline']}: {scale['peak']['throughput_per_s']}/s ÷ "
                         f"{v['baseline_peak_per_s']}/s = {v['ratio']}x")
        text += " (floor vs one PostgreSQL process)"
    return text + f" | floors {verdict}"


def main() -> int:
    args = parse_args()
    services = args.services_list
    total = args.warmup + args.requests * len(args.concurrency)
    if not args.url and math.ceil(total / len(services)) > CAPACITY_PER_SERVICE:
        raise SystemExit(f"{total} tickets over {len(services)} services exceed {CAPACITY_PER_SERVICE} numbers per "
                         "service per day; lower --requests")
    started = time.time()
    main_setup = Setup(args.processes, args.database, args.message_queue)
    baselines = {}
    for key in args.baselines:
        setup = Setup(1, key, None)
        log(f"baseline: {setup.label}")
        baselines[key] = run_setup(args, setup)
        log(f"baseline {setup.label}: " + summary({**baselines[key], "scale_out": None}))
    log(f"setup: {main_setup.label}")
    body = run_setup(args, main_setup)
    result = {"benchmark": NAME, "command": " ".join([".venv/bin/python", "bench/issue_tickets.py", *sys.argv[1:]]),
              "git": git_revision(), "machine": machine(), "server": body.pop("server"),
              "config": {"concurrency": args.concurrency, "requests_per_level": args.requests, "warmup": args.warmup,
                         "services": services, "timeout_s": args.timeout, "max_seconds_per_level": args.max_seconds,
                         "processes": args.processes, "database": args.database,
                         "message_queue": args.message_queue, "baselines": args.baselines,
                         "client": "asyncio streams, raw HTTP/1.1 keep-alive, one connection per concurrent worker; "
                                   "connection i goes to server process i mod N"},
              "load_average": body.pop("load_average"),
              "elapsed_s": None, **body}
    if args.processes > 1:
        result["baselines"] = baselines
        result["scale_out"] = scale_out(body, baselines, args.processes)
        result["floors"] = multi_process_floors(body, result["scale_out"])
    elif baselines:
        result["baselines"] = baselines
    result["elapsed_s"] = round(time.time() - started, 1)
    write_result(args.out, result)
    print(summary(result), flush=True)
    runs = [result, *baselines.values()]
    broken = any(not r["numbering_check"]["ok"] or (r["readback"] and not r["readback"]["ok"]) for r in runs)
    failed = any(f["pass"] is False for f in result["floors"].values())
    return 1 if broken or (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())

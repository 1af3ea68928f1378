"""Ticket issuing under load: POST /api/v1/tickets at several concurrency levels, then checks that the
numbers handed out are neither duplicated nor skipped, and reads the server's RSS.

    .venv/bin/python bench/issue_tickets.py [--concurrency 1,8,32] [--requests 2000] [--url URL]

Writes bench/out/issue_tickets.json and prints one summary line.
"""
from __future__ import annotations

import asyncio
import json
import math
import re
import sys
import time
from collections import Counter, defaultdict

from common import (
    DEMO_SERVICES,
    CpuWindow,
    HttpConnection,
    RssSampler,
    base_parser,
    floor,
    git_revision,
    load_average,
    log,
    machine,
    parse_int_list,
    percentiles,
    rss_mb,
    target_server,
    wait_for_quiet,
    write_result,
)

NAME = "issue_tickets"
CAPACITY_PER_SERVICE = 999  # demo services number A001…A999 per day
FLOOR_THROUGHPUT = 500.0    # tickets/s at concurrency 32
FLOOR_P99_MS = 100.0        # at concurrency 32
FLOOR_IDLE_RSS_MB = 100.0
FLOOR_CONCURRENCY = 32
TRAILING_NUMBER = re.compile(r"(\d+)$")


def parse_args():  # noqa: ANN201
    parser = base_parser(NAME, " ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--concurrency", type=parse_int_list, default=[1, 8, 32],
                        help="comma-separated concurrency levels (default 1,8,32)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per level (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests before the levels (default 200)")
    parser.add_argument("--services", default=",".join(DEMO_SERVICES), help="service codes to spread requests over")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    parser.add_argument("--max-seconds", type=float, default=120.0,
                        help="a level stops after this many seconds even if requests remain")
    parser.add_argument("--no-readback", dest="readback", action="store_false",
                        help="skip reading every ticket back with GET /api/v1/tickets/<id>")
    parser.add_argument("--readback-concurrency", type=int, default=8)
    return parser.parse_args()


async def run_level(target, concurrency: int, total: int, services: list[str], offset: int,  # noqa: ANN001
                    timeout: float, max_seconds: float, sampler: RssSampler) -> tuple[dict, list[dict]]:
    raw = {}
    conns = [HttpConnection(target.host, target.port, timeout) for _ in range(concurrency)]
    for code in services:
        raw[code] = conns[0].build("POST", "/api/v1/tickets", json.dumps({"service": code}).encode())
    await asyncio.gather(*(c.open() for c in conns))
    latencies: list[float] = []
    issued: list[dict] = []
    errors: Counter = Counter()
    error_samples: list[str] = []
    state = {"next": 0}
    deadline = time.monotonic() + max_seconds

    order: list[int] = []  # which connection each response came back on, in completion order

    async def worker(index: int, conn: HttpConnection) -> None:
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
            latencies.append(time.perf_counter() - t0)
            order.append(index)
            if status == 201:
                t = json.loads(body)
                issued.append({"id": t["id"], "number": t["number"], "service": t["service"],
                               "business_date": t["business_date"], "requested": code})
            else:
                errors[f"HTTP {status}"] += 1
                if len(error_samples) < 5:
                    error_samples.append(f"{status} {body[:200].decode(errors='replace')}")

    sampler.mark()
    window = CpuWindow(target.worker_pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(i, c) for i, c in enumerate(conns)))
    wall = time.perf_counter() - started
    cpu = window.result()
    await asyncio.gather(*(c.close() for c in conns))
    sampler.sample()
    peak = sampler.window_peak
    server_cpu = cpu["server_cpu_s"]
    result = {
        "concurrency": concurrency, "requested": total, "sent": state["next"], "ok": len(issued),
        "errors": sum(errors.values()), "error_kinds": dict(errors), "error_samples": error_samples,
        "duration_s": round(wall, 3), "throughput_per_s": round(len(issued) / wall, 1) if wall else None,
        "latency_ms": percentiles(latencies),
        "server_cpu_ms_per_ticket": round(server_cpu / len(issued) * 1000, 3) if server_cpu and issued else None,
        "longest_streak_one_connection": longest_streak(order) if concurrency > 1 else None,
        "cpu": cpu, "rss_peak_mb": peak,
        "stopped_by_time_limit": state["next"] < total,
    }
    return result, issued


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
    for (code, day), numbers in sorted(by_day.items()):
        counts = Counter(numbers)
        duplicates = sorted(n for n, c in counts.items() if c > 1)
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
    return {"tickets": len(tickets), "rule": "1..n per service and day" if fresh_server else "contiguous run",
            "ok": not problems, "problems": problems, "per_service": per_service}


async def read_back(target, tickets: list[dict], concurrency: int, timeout: float) -> dict:  # noqa: ANN001
    """GET every ticket and compare number, service and day with what POST returned."""
    conns = [HttpConnection(target.host, target.port, timeout) for _ in range(concurrency)]
    await asyncio.gather(*(c.open() for c in conns))
    latencies: list[float] = []
    mismatches: list[str] = []
    errors: Counter = Counter()
    queue = list(reversed(tickets))

    async def worker(conn: HttpConnection) -> None:
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
    await asyncio.gather(*(worker(c) for c in conns))
    wall = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in conns))
    return {"tickets": len(tickets), "concurrency": concurrency, "errors": sum(errors.values()),
            "error_kinds": dict(errors), "mismatches": len(mismatches), "mismatch_samples": mismatches[:5],
            "duration_s": round(wall, 2), "latency_ms": percentiles(latencies),
            "ok": not mismatches and not errors}


async def bench(args, target) -> dict:  # noqa: ANN001
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    sampler = RssSampler(target.worker_pid)
    await asyncio.sleep(1.0)  # let the freshly started worker settle
    rss_idle = rss_mb(target.worker_pid)
    log(f"idle RSS {rss_idle} MB")
    sampler.start()
    all_tickets: list[dict] = []
    offset = 0
    warmup = None
    if args.warmup:
        log(f"warm-up: {args.warmup} requests at concurrency 8")
        warmup, issued = await run_level(target, 8, args.warmup, services, offset, args.timeout, args.max_seconds,
                                         sampler)
        all_tickets += issued
        offset += warmup["sent"]
    levels = []
    for concurrency in args.concurrency:
        quiet = await wait_for_quiet(args.wait_quiet)
        level, issued = await run_level(target, concurrency, args.requests, services, offset, args.timeout,
                                        args.max_seconds, sampler)
        all_tickets += issued
        offset += level["sent"]
        level["quiet_check_before"] = quiet
        levels.append(level)
        lat = level["latency_ms"]
        log(f"c={concurrency}: {level['ok']} ok, {level['errors']} errors, {level['throughput_per_s']} tickets/s, "
            f"p50 {lat['p50']} ms, p99 {lat['p99']} ms, max {lat['max']} ms, server CPU "
            f"{level['cpu']['server_utilisation']} ({level['server_cpu_ms_per_ticket']} ms/ticket), other processes "
            f"{level['cpu']['other_utilisation']}, longest streak {level['longest_streak_one_connection']}, "
            f"RSS peak {level['rss_peak_mb']} MB")
    overall_peak = await sampler.stop()
    await asyncio.sleep(1.0)
    rss_after = rss_mb(target.worker_pid)
    numbering = check_numbering(all_tickets, fresh_server=target.started)
    log("numbering: " + ("ok" if numbering["ok"] else "; ".join(numbering["problems"])))
    readback = None
    if args.readback:
        readback = await read_back(target, all_tickets, args.readback_concurrency, args.timeout)
        log(f"read back {readback['tickets']} tickets: {readback['mismatches']} mismatches, "
            f"{readback['errors']} errors, p99 {readback['latency_ms']['p99']} ms")
    top = next((lv for lv in levels if lv["concurrency"] == FLOOR_CONCURRENCY), None)
    floors = {
        "throughput_c32_per_s": floor(top["throughput_per_s"] if top else None, FLOOR_THROUGHPUT, "min"),
        "p99_c32_ms": floor(top["latency_ms"]["p99"] if top else None, FLOOR_P99_MS, "max"),
        "idle_rss_mb": floor(rss_idle, FLOOR_IDLE_RSS_MB, "max"),
    }
    return {"warmup": warmup, "levels": levels,
            "rss_mb": {"idle_before_load": rss_idle, "peak_under_load": overall_peak, "after_load": rss_after},
            "numbering_check": numbering, "readback": readback, "floors": floors}


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
    return (f"{NAME}: " + " | ".join(parts)
            + f" | numbering {'ok' if check['ok'] else 'BROKEN'} ({check['tickets']} tickets"
            + (f", readback {'ok' if rb['ok'] else 'BROKEN'}" if rb else "") + ")"
            + f" | RSS idle {rss['idle_before_load']} peak {rss['peak_under_load']} after {rss['after_load']} MB"
            + f" | floors {verdict}")


def main() -> int:
    args = parse_args()
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    total = args.warmup + args.requests * len(args.concurrency)
    if not args.url and math.ceil(total / len(services)) > CAPACITY_PER_SERVICE:
        raise SystemExit(f"{total} tickets over {len(services)} services exceed {CAPACITY_PER_SERVICE} numbers per "
                         "service per day; lower --requests")
    started = time.time()
    with target_server(args) as target:
        load_before = load_average()
        body = asyncio.run(bench(args, target))
        server = target.describe()
    result = {"benchmark": NAME, "command": " ".join([".venv/bin/python", "bench/issue_tickets.py", *sys.argv[1:]]),
              "git": git_revision(), "machine": machine(), "server": server,
              "config": {"concurrency": args.concurrency, "requests_per_level": args.requests, "warmup": args.warmup,
                         "services": services, "timeout_s": args.timeout, "max_seconds_per_level": args.max_seconds,
                         "client": "asyncio streams, raw HTTP/1.1 keep-alive, one connection per concurrent worker"},
              "load_average": {"before": load_before, "after": load_average()},
              "elapsed_s": round(time.time() - started, 1), **body}
    write_result(args.out, result)
    print(summary(result), flush=True)
    broken = not result["numbering_check"]["ok"] or (result["readback"] and not result["readback"]["ok"])
    failed = any(f["pass"] is False for f in result["floors"].values())
    return 1 if broken or (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())

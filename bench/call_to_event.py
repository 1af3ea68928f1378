"""Call-next to `ticket_called` latency: many Socket.IO clients (hall boards) connected over websocket,
a counter calls the next ticket again and again, every client times the event's arrival.

    .venv/bin/python bench/call_to_event.py [--clients 200] [--calls 50] [--url URL]
    .venv/bin/python bench/call_to_event.py --clients-levels 200,1000

Latency of a (client, call) pair = arrival of that call's `ticket_called` at that client minus the
moment the POST /api/v1/counters/<id>/call-next request was written. With several client levels the
clients of a level stay connected and the next level adds to them. Clients connect in batches (each
batch waits for every `snapshot` before the next), a failed handshake is retried, and the open-file
limit is raised first (the server started here inherits it). Server RSS is read with each level's
clients connected and during its calls. Writes bench/out/call_to_event.json and prints one summary
line.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import defaultdict

from common import (
    DEMO_PASSWORD,
    CpuWindow,
    HttpConnection,
    RssSampler,
    SocketIOClient,
    Target,
    base_parser,
    floor,
    git_revision,
    load_average,
    log,
    machine,
    parse_int_list,
    percentiles,
    raise_open_files_limit,
    rss_mb,
    staff_token,
    target_server,
    wait_for_quiet,
    write_result,
)

NAME = "call_to_event"
FLOOR_P99_MS = 50.0          # with FLOOR_CLIENTS clients
FLOOR_CLIENTS = 200
FLOOR_P99_MS_LARGE = 100.0   # with FLOOR_CLIENTS_LARGE clients
FLOOR_RSS_MB_LARGE = 120.0   # per server process, with FLOOR_CLIENTS_LARGE clients
FLOOR_CLIENTS_LARGE = 1000
SERVER_WORKER_CONNECTIONS = 4000  # queue_server.cli.gunicorn_command


def parse_args() -> argparse.Namespace:
    parser = base_parser(NAME, " ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--clients", type=int, default=200, help="Socket.IO clients to connect (default 200)")
    parser.add_argument("--clients-levels", type=parse_int_list, default=None, metavar="N,N,…",
                        help="several client counts in one run, e.g. 200,1000 (overrides --clients)")
    parser.add_argument("--calls", type=int, default=50, help="measured call-next requests per level (default 50)")
    parser.add_argument("--warmup-calls", type=int, default=3, help="unmeasured calls first, per level (default 3)")
    parser.add_argument("--interval", type=float, default=0.1,
                        help="pause in seconds after every client got a call, before the next call (default 0.1)")
    parser.add_argument("--event-timeout", type=float, default=5.0,
                        help="seconds to wait for a call's event at every client before counting it missing")
    parser.add_argument("--connect-concurrency", type=int, default=20, help="websocket handshakes in flight at once")
    parser.add_argument("--connect-batch", type=int, default=100,
                        help="clients connected before waiting for all their snapshots (default 100)")
    parser.add_argument("--connect-retries", type=int, default=2, help="retries of a failed handshake (default 2)")
    parser.add_argument("--username", default="staff1")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--counter", type=int, default=1, help="counter id to call at (staff1 works at 1)")
    parser.add_argument("--service", default="HOTICH", help="service to issue the called tickets for")
    args = parser.parse_args()
    args.levels = sorted(set(args.clients_levels or [args.clients]))
    if args.levels[-1] > SERVER_WORKER_CONNECTIONS - 100:
        parser.error(f"the server's worker takes {SERVER_WORKER_CONNECTIONS} connections: at most "
                     f"{SERVER_WORKER_CONNECTIONS - 100} clients")
    return args


class Arrivals:
    """ticket id → {client index: perf_counter at arrival}; wakes the waiter when all clients have it."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.at: dict[int, dict[int, float]] = defaultdict(dict)
        self.duplicates = 0
        self.snapshots = 0
        self.all_snapshots = asyncio.Event()
        self.complete: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._snapshot_waiters: list[tuple[int, asyncio.Event]] = []

    def on_event(self, client: SocketIOClient, name: str, data: dict, received_at: float) -> None:
        if name == "ticket_called":
            ticket_id = data["ticket"]["id"]
            seen = self.at[ticket_id]
            if client.index in seen:
                self.duplicates += 1
                return
            seen[client.index] = received_at
            if len(seen) >= self.clients:
                self.complete[ticket_id].set()
        elif name == "snapshot" and not client.got_snapshot:
            client.got_snapshot = True
            self.snapshots += 1
            if self.snapshots >= self.clients:
                self.all_snapshots.set()
            for wanted_count, event in self._snapshot_waiters:
                if self.snapshots >= wanted_count:
                    event.set()

    async def wait_snapshots(self, count: int, timeout: float) -> None:
        """Until `count` clients in all have had their first snapshot."""
        if self.snapshots >= count:
            return
        entry = (count, asyncio.Event())
        self._snapshot_waiters.append(entry)
        try:
            await asyncio.wait_for(entry[1].wait(), timeout)
        finally:
            self._snapshot_waiters.remove(entry)


def wanted(packet: bytes) -> bool:
    return (packet.startswith(b'42["ticket_called"') or packet.startswith(b'42["snapshot"')
            or (packet.startswith(b'42["events_published"') and b'["ticket_called",' in packet))


async def connect_clients(target, count: int, arrivals: Arrivals, parallel: int, *,  # noqa: ANN001
                          start_index: int = 0, retries: int = 0,
                          stats: dict | None = None) -> tuple[list, list[float]]:
    """Connects `count` clients (indices from `start_index`), `parallel` handshakes at a time; a failed
    handshake is tried again up to `retries` times (counted in `stats`). Exits if any still fails."""
    gate = asyncio.Semaphore(parallel)
    clients: list[SocketIOClient] = []
    connect_times: list[float] = []
    failures: list[str] = []
    stats = stats if stats is not None else {}

    async def one(index: int) -> None:
        async with gate:
            for attempt in range(retries + 1):
                client = SocketIOClient(target.host, target.port, arrivals.on_event, wanted=wanted, index=index)
                t0 = time.perf_counter()
                try:
                    await client.connect()
                except Exception as exc:  # noqa: BLE001
                    client.close()
                    reason = f"{type(exc).__name__}: {exc}"
                    if attempt < retries:
                        stats["retries"] = stats.get("retries", 0) + 1
                        stats.setdefault("retry_reasons", []).append(reason)
                        await asyncio.sleep(0.2 * (attempt + 1))
                        continue
                    failures.append(reason)
                    return
                connect_times.append(time.perf_counter() - t0)
                clients.append(client)
                return

    await asyncio.gather(*(one(start_index + i) for i in range(count)))
    if failures:
        for client in clients:
            client.close()
        raise SystemExit(f"{len(failures)} of {count} clients failed to connect, e.g. {failures[:3]}")
    return clients, connect_times


async def connect_in_batches(args: argparse.Namespace, target: Target, connected: int, count: int,
                             arrivals: Arrivals) -> tuple[list, dict]:
    """`count` more clients after the `connected` ones, a batch at a time, each batch waited for until
    every client so far has its snapshot."""
    new: list[SocketIOClient] = []
    times: list[float] = []
    stats: dict = {"retries": 0, "batches": 0}
    started = time.perf_counter()
    while len(new) < count:
        size = min(args.connect_batch, count - len(new))
        batch, batch_times = await connect_clients(target, size, arrivals, args.connect_concurrency,
                                                   start_index=connected + len(new), retries=args.connect_retries,
                                                   stats=stats)
        new += batch
        times += batch_times
        stats["batches"] += 1
        try:
            await arrivals.wait_snapshots(connected + len(new), 30 + size * 0.1)
        except TimeoutError:
            for client in new:
                client.close()
            raise SystemExit(f"only {arrivals.snapshots} of {connected + len(new)} clients got their snapshot") \
                from None
    stats["retry_reasons"] = stats.get("retry_reasons", [])[:5]
    return new, {"wall_s": round(time.perf_counter() - started, 2), "per_client_ms": percentiles(times), **stats,
                 "batch_size": args.connect_batch, "handshakes_in_flight": args.connect_concurrency}


async def measure_calls(args: argparse.Namespace, target: Target, http: HttpConnection, call: bytes,
                        arrivals: Arrivals, clients: int) -> dict:
    """`warmup_calls` + `calls` call-next requests, each waited for at every client."""
    latencies: list[float] = []
    http_latencies: list[float] = []
    spreads: list[float] = []
    missing = 0
    per_call = []
    window = None
    duplicates_before = arrivals.duplicates
    sampler = RssSampler(target.worker_pid).start()
    for k in range(args.warmup_calls + args.calls):
        measured = k >= args.warmup_calls
        if measured and window is None:
            window = CpuWindow(target.worker_pid)
        if time.monotonic() - http.last_used > http.IDLE_REOPEN_S / 2:
            await http.open()                      # a new connection now, not inside the measured call
        sent_at = time.perf_counter()
        status, body = await http.send(call)
        answered_at = time.perf_counter()
        if status != 200:
            raise SystemExit(f"call-next failed: HTTP {status} {body[:200]!r}")
        ticket = json.loads(body)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrivals.complete[ticket["id"]].wait(), args.event_timeout)
        seen = arrivals.at[ticket["id"]]
        if measured:
            times = sorted(seen.values())
            latencies += [t - sent_at for t in times]
            http_latencies.append(answered_at - sent_at)
            missing += clients - len(seen)
            if times:
                spreads.append(times[-1] - times[0])
            per_call.append({"ticket": ticket["number"], "received": len(seen),
                             "http_ms": round((answered_at - sent_at) * 1000, 2),
                             "first_ms": round((times[0] - sent_at) * 1000, 2) if times else None,
                             "last_ms": round((times[-1] - sent_at) * 1000, 2) if times else None})
        await asyncio.sleep(args.interval)
    cpu = window.result() if window else None
    rss_peak = await sampler.stop()
    server_cpu = cpu["server_cpu_s"] if cpu else None
    return {
        "clients": clients, "calls": args.calls, "pairs": len(latencies), "missing": missing,
        "duplicates": arrivals.duplicates - duplicates_before,
        "latency_ms": percentiles(latencies),
        "fanout_spread_ms": percentiles(spreads),
        "call_next_http_ms": percentiles(http_latencies),
        "server_cpu_ms_per_call": None if server_cpu is None else round(server_cpu / args.calls * 1000, 1),
        "client_cpu_ms_per_call": round(cpu["client_cpu_s"] / args.calls * 1000, 1) if cpu else None,
        "cpu_during_calls": cpu, "rss_peak_during_calls": rss_peak, "per_call": per_call,
    }


def level_floors(level: dict, smallest: bool) -> dict:
    """Floors that apply to one level: p99 ≤ 50 ms at 200 clients (the smallest level, noted if it is
    not 200), p99 ≤ 100 ms and RSS ≤ 120 MB at 1,000 clients."""
    clients, missing = level["clients"], level["missing"]
    p99 = level["latency_ms"]["p99"] if missing == 0 else None
    floors = {}
    if clients == FLOOR_CLIENTS_LARGE:
        floors["p99_ms_1000_clients"] = floor(p99, FLOOR_P99_MS_LARGE, "max")
        rss = level["rss_mb"]
        worst = max((v for v in (rss["with_clients"], rss["peak_during_calls"]) if v is not None), default=None)
        floors["rss_mb_1000_clients"] = {**floor(worst, FLOOR_RSS_MB_LARGE, "max"),
                                         "note": "the larger of RSS with the clients connected and the peak "
                                                 "during the calls"}
    elif smallest:
        floors["p99_ms"] = floor(p99, FLOOR_P99_MS, "max")
        if clients != FLOOR_CLIENTS:
            floors["p99_ms"]["note"] = f"the floor is stated for {FLOOR_CLIENTS} clients; this level had {clients}"
    for key in floors:
        if key.startswith("p99") and missing:
            floors[key].update({"pass": False, "note": f"{missing} (client, call) events never arrived"})
    return floors


async def bench(args: argparse.Namespace, target: Target) -> dict:
    http = HttpConnection(target.host, target.port, timeout=10)
    token = await staff_token(http, args.username, args.password)
    auth = {"Authorization": f"Bearer {token}"}
    total_calls = (args.warmup_calls + args.calls) * len(args.levels)
    issue = http.build("POST", "/api/v1/tickets", json.dumps({"service": args.service}).encode())
    for _ in range(total_calls):
        status, body = await http.send(issue)
        if status != 201:
            raise SystemExit(f"issuing a {args.service} ticket failed: HTTP {status} {body[:200]!r}")
    log(f"issued {total_calls} {args.service} tickets")
    call = http.build("POST", f"/api/v1/counters/{args.counter}/call-next", headers=auth)

    await asyncio.sleep(1.0)
    rss_idle = rss_mb(target.worker_pid)
    arrivals = Arrivals(0)
    clients: list[SocketIOClient] = []
    levels = []
    try:
        for count in args.levels:
            new, connect = await connect_in_batches(args, target, len(clients), count - len(clients), arrivals)
            clients += new
            arrivals.clients = len(clients)
            log(f"{len(clients)} clients connected with snapshots ({len(new)} new in {connect['wall_s']} s, "
                f"{connect['retries']} retries)")
            await asyncio.sleep(1.0)
            rss_connected = rss_mb(target.worker_pid)
            log(f"RSS idle {rss_idle} MB, with {len(clients)} clients {rss_connected} MB")
            quiet = await wait_for_quiet(args.wait_quiet)
            level = await measure_calls(args, target, http, call, arrivals, len(clients))
            level["rss_mb"] = {"idle_before_clients": rss_idle, "with_clients": rss_connected,
                               "peak_during_calls": level.pop("rss_peak_during_calls")}
            level["connect"] = connect
            level["quiet_check_before_calls"] = quiet
            lat = level["latency_ms"]
            log(f"{args.calls} calls × {len(clients)} clients: p50 {lat['p50']} ms, p99 {lat['p99']} ms, max "
                f"{lat['max']} ms, missing {level['missing']}, duplicates {level['duplicates']}; server CPU "
                f"{level['server_cpu_ms_per_call']} ms/call, client CPU {level['client_cpu_ms_per_call']} ms/call, "
                f"other processes {level['cpu_during_calls']['other_utilisation']} cores; RSS peak "
                f"{level['rss_mb']['peak_during_calls']} MB")
            levels.append(level)
    finally:
        for client in clients:
            client.close()
        await asyncio.sleep(0.5)
        await http.close()
    floors = {}
    for i, level in enumerate(levels):
        level["floors"] = level_floors(level, smallest=i == 0)
        floors.update(level["floors"])
    return {"clients_levels": args.levels, "levels": levels,
            "missing": sum(lv["missing"] for lv in levels), "duplicates": sum(lv["duplicates"] for lv in levels),
            "rss_mb": {"idle_before_clients": rss_idle,
                       "with_clients": {str(lv["clients"]): lv["rss_mb"]["with_clients"] for lv in levels},
                       "peak_during_calls": {str(lv["clients"]): lv["rss_mb"]["peak_during_calls"] for lv in levels}},
            "floors": floors}


def summary(result: dict) -> str:
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}
    parts = []
    for lv in result["levels"]:
        lat, rss = lv["latency_ms"], lv["rss_mb"]
        parts.append(f"{lv['clients']} clients x {lv['calls']} calls: p50 {lat['p50']} p99 {lat['p99']} max "
                     f"{lat['max']} ms, missing {lv['missing']}, call-next HTTP p50 {lv['call_next_http_ms']['p50']} "
                     f"ms, RSS with clients {rss['with_clients']} peak {rss['peak_during_calls']} MB")
    floors = ", ".join(f"{k} {verdict[f['pass']]}" for k, f in result["floors"].items())
    return (f"{NAME}: " + " | ".join(parts) + f" | RSS idle {result['rss_mb']['idle_before_clients']} MB"
            + f" | floors {floors or 'none at these levels'}")


def main() -> int:
    args = parse_args()
    limits = raise_open_files_limit(2 * args.levels[-1] + 1024)
    if limits["soft"] < 2 * args.levels[-1] + 64:
        log(f"warning: open files limit {limits['soft']} (hard {limits['hard']}) is low for {args.levels[-1]} clients")
    started = time.time()
    with target_server(args) as target:
        load_before = load_average()
        body = asyncio.run(bench(args, target))
        server = target.describe()
    result = {"benchmark": NAME, "command": " ".join([".venv/bin/python", "bench/call_to_event.py", *sys.argv[1:]]),
              "git": git_revision(), "machine": machine(), "server": server,
              "config": {"clients_levels": args.levels, "calls": args.calls, "warmup_calls": args.warmup_calls,
                         "interval_s": args.interval, "event_timeout_s": args.event_timeout,
                         "connect_batch": args.connect_batch, "connect_concurrency": args.connect_concurrency,
                         "connect_retries": args.connect_retries, "open_files_limit": limits,
                         "counter": args.counter, "service": args.service, "username": args.username,
                         "client": "one asyncio loop; hand-written RFC 6455 client (asyncio.Protocol), Engine.IO 4 "
                                   "/ Socket.IO 5 on the default namespace, anonymous (office room); the clients "
                                   "of a level stay connected for the next"},
              "load_average": {"before": load_before, "after": load_average()},
              "elapsed_s": round(time.time() - started, 1), **body}
    write_result(args.out, result)
    print(summary(result), flush=True)
    broken = result["missing"] > 0 or result["duplicates"] > 0
    failed = any(f["pass"] is False for f in result["floors"].values())
    return 1 if broken or (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())

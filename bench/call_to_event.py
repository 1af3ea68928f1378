"""Call-next to `ticket_called` latency: many Socket.IO clients (hall boards) connected over websocket,
a counter calls the next ticket again and again, every client times the event's arrival.

    .venv/bin/python bench/call_to_event.py [--clients 200] [--calls 50] [--url URL]

Latency of a (client, call) pair = arrival of that call's `ticket_called` at that client minus the
moment the POST /api/v1/counters/<id>/call-next request was written. Writes
bench/out/call_to_event.json and prints one summary line.
"""
from __future__ import annotations

import asyncio
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
    base_parser,
    floor,
    git_revision,
    load_average,
    log,
    machine,
    percentiles,
    rss_mb,
    staff_token,
    target_server,
    wait_for_quiet,
    write_result,
)

NAME = "call_to_event"
FLOOR_P99_MS = 50.0
FLOOR_CLIENTS = 200


def parse_args():  # noqa: ANN201
    parser = base_parser(NAME, " ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--clients", type=int, default=200, help="Socket.IO clients to connect (default 200)")
    parser.add_argument("--calls", type=int, default=50, help="measured call-next requests (default 50)")
    parser.add_argument("--warmup-calls", type=int, default=3, help="unmeasured calls first (default 3)")
    parser.add_argument("--interval", type=float, default=0.1,
                        help="pause in seconds after every client got a call, before the next call (default 0.1)")
    parser.add_argument("--event-timeout", type=float, default=5.0,
                        help="seconds to wait for a call's event at every client before counting it missing")
    parser.add_argument("--connect-concurrency", type=int, default=20, help="websocket handshakes in flight at once")
    parser.add_argument("--username", default="staff1")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--counter", type=int, default=1, help="counter id to call at (staff1 works at 1)")
    parser.add_argument("--service", default="HOTICH", help="service to issue the called tickets for")
    return parser.parse_args()


class Arrivals:
    """ticket id → {client index: perf_counter at arrival}; wakes the waiter when all clients have it."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.at: dict[int, dict[int, float]] = defaultdict(dict)
        self.duplicates = 0
        self.snapshots = 0
        self.all_snapshots = asyncio.Event()
        self.complete: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

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


def wanted(packet: bytes) -> bool:
    return packet.startswith(b'42["ticket_called"') or packet.startswith(b'42["snapshot"')


async def connect_clients(target, count: int, arrivals: Arrivals, parallel: int) -> tuple[list, list[float]]:  # noqa: ANN001
    gate = asyncio.Semaphore(parallel)
    clients: list[SocketIOClient] = []
    connect_times: list[float] = []
    failures: list[str] = []

    async def one(index: int) -> None:
        async with gate:
            client = SocketIOClient(target.host, target.port, arrivals.on_event, wanted=wanted, index=index)
            t0 = time.perf_counter()
            try:
                await client.connect()
            except Exception as exc:  # noqa: BLE001
                failures.append(f"{type(exc).__name__}: {exc}")
                client.close()
                return
            connect_times.append(time.perf_counter() - t0)
            clients.append(client)

    await asyncio.gather(*(one(i) for i in range(count)))
    if failures:
        raise SystemExit(f"{len(failures)} of {count} clients failed to connect, e.g. {failures[:3]}")
    return clients, connect_times


async def bench(args, target) -> dict:  # noqa: ANN001
    http = HttpConnection(target.host, target.port, timeout=10)
    token = await staff_token(http, args.username, args.password)
    auth = {"Authorization": f"Bearer {token}"}
    total_calls = args.warmup_calls + args.calls
    issue = http.build("POST", "/api/v1/tickets", json.dumps({"service": args.service}).encode())
    for _ in range(total_calls):
        status, body = await http.send(issue)
        if status != 201:
            raise SystemExit(f"issuing a {args.service} ticket failed: HTTP {status} {body[:200]!r}")
    log(f"issued {total_calls} {args.service} tickets")

    await asyncio.sleep(1.0)
    rss_idle = rss_mb(target.worker_pid)
    arrivals = Arrivals(args.clients)
    started = time.perf_counter()
    clients, connect_times = await connect_clients(target, args.clients, arrivals, args.connect_concurrency)
    await asyncio.wait_for(arrivals.all_snapshots.wait(), 30)
    connect_wall = time.perf_counter() - started
    log(f"{len(clients)} clients connected with snapshots in {connect_wall:.2f} s")
    await asyncio.sleep(1.0)
    rss_connected = rss_mb(target.worker_pid)
    log(f"RSS idle {rss_idle} MB, with {len(clients)} clients {rss_connected} MB")

    quiet = await wait_for_quiet(args.wait_quiet)
    sampler = RssSampler(target.worker_pid).start()
    call = http.build("POST", f"/api/v1/counters/{args.counter}/call-next", headers=auth)
    latencies: list[float] = []
    http_latencies: list[float] = []
    spreads: list[float] = []
    missing = 0
    per_call = []
    window = None
    for k in range(total_calls):
        measured = k >= args.warmup_calls
        if measured and window is None:
            window = CpuWindow(target.worker_pid)
        sent_at = time.perf_counter()
        status, body = await http.send(call)
        answered_at = time.perf_counter()
        if status != 200:
            raise SystemExit(f"call-next failed: HTTP {status} {body[:200]!r}")
        ticket = json.loads(body)
        done = arrivals.complete[ticket["id"]]
        try:
            await asyncio.wait_for(done.wait(), args.event_timeout)
        except TimeoutError:
            pass
        seen = arrivals.at[ticket["id"]]
        if measured:
            times = sorted(seen.values())
            latencies += [t - sent_at for t in times]
            http_latencies.append(answered_at - sent_at)
            missing += args.clients - len(seen)
            if times:
                spreads.append(times[-1] - times[0])
            per_call.append({"ticket": ticket["number"], "received": len(seen),
                             "http_ms": round((answered_at - sent_at) * 1000, 2),
                             "first_ms": round((times[0] - sent_at) * 1000, 2) if times else None,
                             "last_ms": round((times[-1] - sent_at) * 1000, 2) if times else None})
        await asyncio.sleep(args.interval)
    cpu = window.result() if window else None
    rss_peak = await sampler.stop()
    for client in clients:
        client.close()
    await asyncio.sleep(0.5)
    await http.close()

    lat = percentiles(latencies)
    log(f"{args.calls} calls × {args.clients} clients: p50 {lat['p50']} ms, p99 {lat['p99']} ms, max {lat['max']} ms, "
        f"missing {missing}, duplicates {arrivals.duplicates}; CPU during calls {cpu}")
    server_cpu = cpu["server_cpu_s"] if cpu else None
    floors = {"p99_ms": floor(lat["p99"] if missing == 0 else None, FLOOR_P99_MS, "max")}
    if args.clients < FLOOR_CLIENTS:
        floors["p99_ms"]["note"] = f"the floor is stated for {FLOOR_CLIENTS} clients; this run had {args.clients}"
    if missing:
        floors["p99_ms"]["note"] = f"{missing} (client, call) events never arrived"
        floors["p99_ms"]["pass"] = False
    return {
        "clients": len(clients), "calls": args.calls, "pairs": len(latencies), "missing": missing,
        "duplicates": arrivals.duplicates,
        "latency_ms": lat,
        "fanout_spread_ms": percentiles(spreads),
        "call_next_http_ms": percentiles(http_latencies),
        "connect": {"wall_s": round(connect_wall, 2), "per_client_ms": percentiles(connect_times)},
        "server_cpu_ms_per_call": None if server_cpu is None else round(server_cpu / args.calls * 1000, 1),
        "client_cpu_ms_per_call": round(cpu["client_cpu_s"] / args.calls * 1000, 1) if cpu else None,
        "cpu_during_calls": cpu, "quiet_check_before_calls": quiet,
        "rss_mb": {"idle_before_clients": rss_idle, "with_clients": rss_connected, "peak_during_calls": rss_peak},
        "per_call": per_call,
        "floors": floors,
    }


def summary(result: dict) -> str:
    lat = result["latency_ms"]
    rss = result["rss_mb"]
    f = result["floors"]["p99_ms"]
    verdict = {True: "PASS", False: "FAIL", None: "n/a"}[f["pass"]]
    return (f"{NAME}: {result['clients']} clients x {result['calls']} calls: p50 {lat['p50']} p99 {lat['p99']} "
            f"max {lat['max']} ms, missing {result['missing']} | call-next HTTP p50 "
            f"{result['call_next_http_ms']['p50']} ms | RSS idle {rss['idle_before_clients']} with clients "
            f"{rss['with_clients']} peak {rss['peak_during_calls']} MB | floor p99<={FLOOR_P99_MS:g} ms {verdict}")


def main() -> int:
    args = parse_args()
    started = time.time()
    with target_server(args) as target:
        load_before = load_average()
        body = asyncio.run(bench(args, target))
        server = target.describe()
    result = {"benchmark": NAME, "command": " ".join([".venv/bin/python", "bench/call_to_event.py", *sys.argv[1:]]),
              "git": git_revision(), "machine": machine(), "server": server,
              "config": {"clients": args.clients, "calls": args.calls, "warmup_calls": args.warmup_calls,
                         "interval_s": args.interval, "event_timeout_s": args.event_timeout,
                         "counter": args.counter, "service": args.service, "username": args.username,
                         "client": "one asyncio loop; hand-written RFC 6455 client (asyncio.Protocol), Engine.IO 4 "
                                   "/ Socket.IO 5 on the default namespace, anonymous (office room)"},
              "load_average": {"before": load_before, "after": load_average()},
              "elapsed_s": round(time.time() - started, 1), **body}
    write_result(args.out, result)
    print(summary(result), flush=True)
    broken = result["missing"] > 0 or result["duplicates"] > 0
    return 1 if broken or (args.strict and result["floors"]["p99_ms"]["pass"] is False) else 0


if __name__ == "__main__":
    sys.exit(main())

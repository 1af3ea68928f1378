"""Round trips to PostgreSQL per issued ticket: a count that does not depend on how busy the machine is.

    .venv/bin/python bench/pg_round_trips.py [--tickets 50] [--warmup 30]

Starts one server process on a fresh PostgreSQL database (as issue_tickets.py --database postgres
does), issues `--warmup` tickets (prepared statements, caches), then traces the gunicorn worker with
strace while it issues `--tickets` more, one at a time: every send on a socket to PostgreSQL's port is
one trip (the driver sends a statement and waits for its answer). The kinds are read from the bytes
sent: a simple query (`Q`, with its text: BEGIN, COMMIT, the pool's ping) or a prepared statement
(`B`ind/`E`xecute, named by the driver). Needs strace (Debian's package) and the right to trace the
worker (root, or ptrace_scope 0).

Writes bench/out/pg_round_trips.json and prints one summary line.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from common import base_parser, git_revision, log, machine, target_servers, write_result

NAME = "pg_round_trips"
POSTGRES_PORT = 5432
# sendto(12<TCP:[127.0.0.1:40312->127.0.0.1:5432]>, "\x51\x00…", 11, MSG_NOSIGNAL, NULL, 0) = 11
SEND = re.compile(r'sendto\(\d+<TCP:\[[^\]]*->[^\]]*:(\d+)\]>, "((?:\\x[0-9a-f]{2})*)"')


def issue(url: str, service: str) -> dict:
    request = urllib.request.Request(url + "/api/v1/tickets", data=json.dumps({"service": service}).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        if response.status != 201:
            raise SystemExit(f"issuing answered {response.status}")
        return json.loads(response.read())


def kind_of(payload: bytes) -> str:
    """What one send to PostgreSQL asked for."""
    if payload[:1] == b"Q":
        return "query: " + payload[5:].split(b"\0", 1)[0].decode(errors="replace")
    if payload[:1] in (b"B", b"P"):
        return "prepared statement" if payload[:1] == b"B" else "parse (first use of a statement)"
    return "other: " + payload[:1].decode(errors="replace")


def trace_sends(worker: int, url: str, tickets: int, service: str) -> tuple[list[bytes], float]:
    """The payloads the worker sent to PostgreSQL while `tickets` were issued one after the other."""
    trace = Path(tempfile.mkdtemp(prefix="motcua-strace-")) / "sends.txt"
    tracer = subprocess.Popen(["strace", "-f", "-yy", "-xx", "-s", "64", "-e", "trace=sendto", "-e", "signal=none",
                               "-p", str(worker), "-o", str(trace)], stderr=subprocess.PIPE)
    try:
        time.sleep(1.0)             # strace attaches to every thread of the worker
        if tracer.poll() is not None:
            raise SystemExit("strace could not trace the worker: " + tracer.stderr.read().decode())
        started = time.perf_counter()
        for _ in range(tickets):
            issue(url, service)
        seconds = time.perf_counter() - started
        time.sleep(0.5)
    finally:
        tracer.terminate()
        tracer.wait(timeout=10)
    sends = [bytes.fromhex(m.group(2).replace("\\x", "")) for m in SEND.finditer(trace.read_text())
             if int(m.group(1)) == POSTGRES_PORT]
    shutil.rmtree(trace.parent, ignore_errors=True)
    return sends, seconds


def main() -> int:
    parser = base_parser(NAME, __doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=50, help="tickets issued while traced (default 50)")
    parser.add_argument("--warmup", type=int, default=30, help="tickets issued before tracing (default 30)")
    parser.add_argument("--service", default="HOTICH", help="service code of the demo office")
    args = parser.parse_args()
    if args.tickets < 1 or args.warmup < 0:
        parser.error("--tickets must be ≥ 1 and --warmup ≥ 0")
    if shutil.which("strace") is None:
        raise SystemExit("strace is not installed (Debian: apt-get install strace)")
    with target_servers(args, 1, "postgres") as [target]:
        if target.worker_pid is None:
            raise SystemExit("the server's worker process was not found")
        log(f"warm-up: {args.warmup} tickets, then {args.tickets} traced")
        for _ in range(args.warmup):
            issue(target.url, args.service)
        sends, seconds = trace_sends(target.worker_pid, target.url, args.tickets, args.service)
    kinds = Counter(kind_of(payload) for payload in sends)
    per_ticket = round(len(sends) / args.tickets, 2)
    result = {
        "benchmark": NAME, "git": git_revision(), "machine": machine(), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                          time.gmtime()),
        "tickets": args.tickets, "warmup": args.warmup, "service": args.service,
        "round_trips": len(sends), "round_trips_per_ticket": per_ticket,
        "kinds_per_ticket": {kind: round(count / args.tickets, 2) for kind, count in kinds.most_common()},
        "traced_seconds": round(seconds, 3),
        "note": "sendto calls of the gunicorn worker to 127.0.0.1:5432 under strace, tickets issued one at a "
                "time over HTTP; the tracing slows the worker, so no time here is a speed",
    }
    write_result(args.out, result)
    kinds_text = ", ".join(f"{kind} {count}" for kind, count in result["kinds_per_ticket"].items())
    print(f"{NAME}: {per_ticket} round trips to PostgreSQL per ticket over {args.tickets} tickets ({kinds_text})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The admin's live view under a stream of events: `/admin/live` open in Chromium while tickets are
issued at a steady rate (each ticket is two events, `ticket_issued` and `queue_changed`), so 50
tickets/s make 100 events/s for the page to keep up with.

    .venv/bin/python bench/live_page.py [--rate 50] [--seconds 10] [--url URL]

Every 100 ms the benchmark reads the waiting count the page shows for the service and compares it
with the tickets issued by then: the page's lag is how many seconds of issuing it is behind. After
the stream stops, catch-up is the time until the page shows the final count. The page coalesces
events into reads of GET /api/v1/live, so it also reports how many reads the events cost.
Writes bench/out/live_page.json and prints one summary line.
"""
from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from pathlib import Path

from common import (
    DEMO_PASSWORD,
    base_parser,
    floor,
    git_revision,
    load_average,
    log,
    machine,
    percentiles,
    rss_mb,
    target_server,
    write_result,
)

NAME = "live_page"
SERVICE = "HOTICH"
FLOOR_LAG_P99_MS = 1000.0        # "handles 100 events/s without falling behind": never a second behind
FLOOR_CATCH_UP_MS = 1000.0
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


class Issuer(threading.Thread):
    """Issues tickets of one service at `rate` per second for `seconds`, noting when each was answered."""

    def __init__(self, url: str, rate: float, seconds: float) -> None:
        super().__init__(daemon=True)
        self.url, self.rate, self.seconds = url, rate, seconds
        self.answered: list[float] = []        # monotonic time each ticket was answered, in order
        self.errors = 0

    def run(self) -> None:
        body = json.dumps({"service": SERVICE}).encode()
        start = time.monotonic()
        for i in range(int(self.rate * self.seconds)):
            due = start + i / self.rate
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            request = urllib.request.Request(self.url + "/api/v1/tickets", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    response.read()
                self.answered.append(time.monotonic())
            except OSError:
                self.errors += 1

    def issued_by(self, moment: float) -> int:
        return sum(1 for t in self.answered if t <= moment)


def main() -> int:
    parser = base_parser(NAME, __doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="tickets per second (two events each; default 50)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the stream lasts (default 10)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with target_server(args) as target, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_context(base_url=target.url, viewport={"width": 1366, "height": 900}).new_page()
        page.goto("/login?next=/admin/live")
        page.fill("#username", "admin")
        page.fill("#password", DEMO_PASSWORD)
        page.click("form button[type=submit]")
        page.wait_for_selector("#live-state[data-state='online']")
        cell = f"#queue-rows tr[data-service='{SERVICE}'] td:nth-child(2)"
        page.wait_for_selector(cell)
        shown = lambda: int(page.inner_text(cell) or 0)  # noqa: E731
        before = page.evaluate("window.motcuaLiveStats()")
        issuer = Issuer(target.url, args.rate, args.seconds)
        log(f"issuing {int(args.rate * args.seconds)} tickets at {args.rate}/s with /admin/live open")
        issuer.start()
        lags, samples = [], []
        while issuer.is_alive():
            now = time.monotonic()
            on_page, issued = shown(), issuer.issued_by(now)
            behind = issued - on_page
            # seconds of issuing the page is behind: when did the `on_page`-th ticket get its answer?
            lag = 0.0 if behind <= 0 or on_page >= len(issuer.answered) else now - issuer.answered[on_page]
            lags.append(lag)
            samples.append({"t": round(now, 3), "issued": issued, "shown": on_page})
            page.wait_for_timeout(100)
        end = time.monotonic()
        final = len(issuer.answered)
        while shown() < final and time.monotonic() - end < 30:
            page.wait_for_timeout(20)
        catch_up = time.monotonic() - max(end, issuer.answered[-1] if issuer.answered else end)
        final_shown = shown()
        after = page.evaluate("window.motcuaLiveStats()")
        worker_rss = rss_mb(target.worker_pid)
        browser.close()
    events = after["events"] - before["events"]
    reads = after["reads"] - before["reads"]
    lag_stats = percentiles(lags)
    result = {
        "benchmark": NAME, "command": " ".join([".venv/bin/python", f"bench/{NAME}.py", *sys.argv[1:]]),
        "machine": machine(), "git": git_revision(), "load_average": load_average(), "server": target.describe(),
        "rate_tickets_per_s": args.rate, "seconds": args.seconds, "tickets": final, "errors": issuer.errors,
        "events_seen_by_page": events, "events_per_s": round(events / args.seconds, 1), "page_reads": reads,
        "events_per_read": round(events / reads, 1) if reads else None,
        "lag_ms": lag_stats, "catch_up_ms": round(catch_up * 1000, 1), "final_shown": final_shown,
        "server_rss_mb": worker_rss, "samples": samples,
        "floors": {"lag_p99_ms": floor(lag_stats["p99"], FLOOR_LAG_P99_MS, "max"),
                   "catch_up_ms": floor(round(catch_up * 1000, 1), FLOOR_CATCH_UP_MS, "max")},
    }
    write_result(Path(args.out), result)
    verdict = " ".join(f"{k} {'PASS' if v['pass'] else 'FAIL'}" for k, v in result["floors"].items())
    print(f"{NAME}: {final} tickets in {args.seconds:g} s = {events} events ({result['events_per_s']}/s) seen by the "
          f"page in {reads} reads | lag p50 {lag_stats['p50']} p99 {lag_stats['p99']} ms | catch-up "
          f"{result['catch_up_ms']} ms | errors {issuer.errors} | floors {verdict}")
    return 0 if issuer.errors == 0 and final_shown == final else 1


if __name__ == "__main__":
    sys.exit(main())

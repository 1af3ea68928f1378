"""`make bench`: runs every benchmark against a server it starts, one after the other on a quiet
machine, and writes their figures into the generated section of bench/RESULTS.md.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME,…] [--strict]

Each script runs in its default server-starting mode and writes its JSON to bench/out/<name>.json
(bench/out/quick/ with --quick); its output goes to bench/out/logs/<name>.log. Only the part of
bench/RESULTS.md between the two markers below is rewritten (the markers are added after the file's
first paragraph when missing): machine, date, git revision, one row per figure with p50, p99, floor
and PASS/FAIL. A benchmark that crashed, timed out or wrote no result has a row saying so.

Prints one summary line. Exits 1 when a benchmark crashed or reported broken results (its checks:
duplicated numbers, lost events or slips …); a missed floor only fails the run with --strict.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from common import OUT_DIR, ROOT, git_revision, log, machine, wait_for_quiet

BEGIN = "<!-- make bench: begin -->"
END = "<!-- make bench: end -->"
RESULTS = ROOT / "bench" / "RESULTS.md"
BENCH = ROOT / "bench"

Row = dict  # benchmark, figure, p50, p99, floor, result


@dataclass
class Step:
    key: str                      # names the JSON and log files
    script: str
    title: str                    # what the step measures, for the status table
    args: list[str]
    quick_args: list[str]         # instead of `args` with --quick
    rows: Callable[[dict], list[Row]]
    timeout_min: float
    wait_quiet_flag: bool = True  # the script takes --wait-quiet
    optional: bool = False        # only run when the script exists


@dataclass
class Outcome:
    step: Step
    status: str                   # ok | broken | crashed | timeout | missing | not run
    reason: str = ""
    seconds: float | None = None
    exit_code: int | None = None
    summary: str = ""
    result: dict | None = None
    quiet_before: dict | None = None
    rows: list[Row] = field(default_factory=list)


# --- formatting helpers --------------------------------------------------------------------------

def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f} ms"


def num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def verdict(*floors: dict | None) -> str:
    """PASS when every floor passed, FAIL when one failed, n/a (with the note) when not measured."""
    present = [f for f in floors if f]
    if not present:
        return "—"
    if any(f["pass"] is False for f in present):
        return "**FAIL**" + "".join(f" ({f['note']})" for f in present if f["pass"] is False and f.get("note"))
    if all(f["pass"] is True for f in present):
        notes = [f["note"] for f in present if f.get("note")]
        return "PASS" + (f" ({'; '.join(notes)})" if notes else "")
    notes = sorted({f["note"] for f in present if f.get("note")})
    return "n/a" + (f" ({'; '.join(notes)})" if notes else " (not measured)")


def floor_text(f: dict | None, unit: str = "") -> str:
    if not f:
        return "—"
    sign = "≤" if f["kind"] == "max" else "≥"
    return f"{sign} {f['limit']:g}{unit}"


def unit_of(key: str) -> str:
    for part, unit in (("_ms", " ms"), ("_mb", " MB"), ("_per_s", "/s")):
        if part in key:
            return unit
    return " s" if key.endswith("_s") else ""


def row(benchmark: str, figure: str, p50: str = "", p99: str = "", floor: str = "—", result: str = "—",
        claims: tuple[str, ...] = ()) -> Row:
    return {"benchmark": benchmark, "figure": figure, "p50": p50, "p99": p99, "floor": floor, "result": result,
            "claims": claims}


def lat(d: dict | None) -> tuple[str, str]:
    d = d or {}
    p99 = ms(d.get("p99"))
    if d.get("max") is not None and d.get("p99") is not None:
        p99 += f" (max {d['max']:,.1f})"
    return ms(d.get("p50")), p99


# --- rows of each benchmark ----------------------------------------------------------------------

def rows_issue_single(r: dict) -> list[Row]:
    label = r.get("setup", {}).get("label", "1 SQLite process")
    f = r["floors"]
    out = []
    for lv in r["levels"]:
        c = lv["concurrency"]
        floors = (f.get("throughput_c32_per_s"), f.get("p99_c32_ms")) if c == 32 else ()
        out.append(row(f"issue_tickets, {label}, c={c}", f"{num(lv['throughput_per_s'])} tickets/s, "
                       f"{num(lv['server_cpu_ms_per_ticket'], 2)} ms server CPU/ticket", *lat(lv["latency_ms"]),
                       "≥ 500/s, p99 ≤ 100 ms" if floors else "—", verdict(*floors),
                       claims=("throughput_c32_per_s", "p99_c32_ms") if floors else ()))
    out.append(numbering_row(f"issue_tickets, {label}", r))
    rss = r["rss_mb"]
    out.append(row(f"issue_tickets, {label}", f"server RSS idle {num(rss['idle_before_load'])} MB, peak under load "
                   f"{num(rss['peak_under_load'])} MB", floor=floor_text(f.get("idle_rss_mb"), " MB idle"),
                   result=verdict(f.get("idle_rss_mb")), claims=("idle_rss_mb",)))
    return out


def numbering_row(name: str, r: dict, floor: dict | None = None) -> Row:
    check, rb = r["numbering_check"], r.get("readback")
    where = f", across {check['across_processes']} processes" if check.get("across_processes", 1) > 1 else ""
    text = (f"{check['tickets']:,} tickets{where}: {check.get('duplicated_numbers', '?')} duplicated, "
            f"{check.get('missing_numbers', '?')} missing")
    if rb:
        text += f"; read back{' from the other process' if rb.get('from_other_process') else ''}: " \
                f"{rb['mismatches']} mismatches, {rb['errors']} errors"
    ok = check["ok"] and (rb is None or rb["ok"])
    result = ("PASS" if ok else "**FAIL**") if floor is None else verdict(floor) if ok else "**FAIL**"
    return row(name, text, floor="no duplicate, no gap", result=result, claims=("duplicates",))


def rows_issue_multi(r: dict) -> list[Row]:
    label = r["setup"]["label"]
    out = []
    for lv in r["levels"]:
        cpu = lv["cpu_breakdown"]["ms_per_ticket"]
        out.append(row(f"issue_tickets, {label}, c={lv['concurrency']}",
                       f"{num(lv['throughput_per_s'])} tickets/s; CPU/ticket: servers {num(cpu['servers'], 2)} ms, "
                       f"PostgreSQL {num(cpu['postgres'], 2)} ms, client {num(cpu['client'], 2)} ms",
                       *lat(lv["latency_ms"])))
    for key, base in r.get("baselines", {}).items():
        blabel = base["setup"]["label"]
        if key == "postgres":
            for lv in base["levels"]:
                cpu = lv["cpu_breakdown"]["ms_per_ticket"]
                out.append(row(f"issue_tickets, {blabel} (same run), c={lv['concurrency']}",
                               f"{num(lv['throughput_per_s'])} tickets/s; CPU/ticket: server "
                               f"{num(cpu['servers'], 2)} ms, PostgreSQL {num(cpu['postgres'], 2)} ms",
                               *lat(lv["latency_ms"])))
        else:
            best = max(base["levels"], key=lambda lv: lv["throughput_per_s"] or 0)
            out.append(row(f"issue_tickets, {blabel} (same run), best level c={best['concurrency']}",
                           f"{num(best['throughput_per_s'])} tickets/s", *lat(best["latency_ms"])))
    scale = r["scale_out"]
    f = r["floors"]
    for key in ("postgres", "sqlite"):
        v = scale.get(f"vs_one_{key}_process")
        if not v:
            continue
        text = (f"{scale['peak']['throughput_per_s']}/s (c={scale['peak']['concurrency']}) ÷ "
                f"{v['baseline_peak_per_s']}/s (c={v['baseline_peak_concurrency']}) = **{v['ratio']}×**")
        if key == "postgres":
            out.append(row(f"scale-out: {label} vs {v['baseline']}", text, floor="≥ 1.5×",
                           result=verdict(f.get("scale_out_vs_one_postgres_process")),
                           claims=("scale_out_vs_one_postgres_process",)))
        else:
            out.append(row(f"scale-out: {label} vs {v['baseline']}", text, floor="(reported; the floor is "
                           "against the PostgreSQL process)"))
    if "vs_one_postgres_process" not in scale:
        out.append(row(f"scale-out: {label}", "no one-process PostgreSQL baseline in this run", floor="≥ 1.5×",
                       result=verdict(f.get("scale_out_vs_one_postgres_process")),
                       claims=("scale_out_vs_one_postgres_process",)))
    for limit in (scale.get("limits") or {}).values():
        if not limit:
            continue
        per = limit["cpu_ms_per_ticket"]
        out.append(row(f"what bounds {limit['setup']} (best level c={limit['concurrency']})",
                       f"CPU/ticket: servers {num(per['servers'], 2)} ms (cores per process "
                       f"{limit['server_cores_per_process']}), PostgreSQL {num(per['postgres'], 2)} ms, Redis "
                       f"{num(per['redis'], 2)} ms, client {num(per['client'], 2)} ms → at most "
                       f"{num(limit['bound_by_server_processes_per_s'])}/s by the server processes, "
                       f"{num(limit['bound_by_machine_per_s'])}/s by the machine's cores; measured "
                       f"{num(limit['throughput_per_s'])}/s"
                       + (f" ({limit['postgres_cpu_warning']})" if limit.get("postgres_cpu_warning") else "")))
    out.append(numbering_row(f"issue_tickets, {label}", r, f.get("duplicates")))
    per = r["rss_mb"].get("per_process", [])
    out.append(row(f"issue_tickets, {label}", "server RSS per process: idle "
                   + " / ".join(num(p["idle_before_load"]) for p in per) + " MB, peak under load "
                   + " / ".join(num(p["peak_under_load"]) for p in per) + " MB"))
    return out


def rows_issue(r: dict) -> list[Row]:
    return rows_issue_multi(r) if r.get("scale_out") else rows_issue_single(r)


def rows_call_to_event(r: dict) -> list[Row]:
    out = []
    levels = r.get("levels") or [r]   # an older single-level result has its figures at the top
    for lv in levels:
        n = lv["clients"]
        floors = lv.get("floors") or r.get("floors", {})
        p99_key = "p99_ms_1000_clients" if "p99_ms_1000_clients" in floors else "p99_ms"
        f99 = floors.get(p99_key) if lv is levels[0] or p99_key != "p99_ms" else None
        out.append(row(f"call_to_event, {n:,} clients × {lv['calls']} calls",
                       f"{lv['pairs']:,} deliveries, {lv['missing']} missing, {lv['duplicates']} twice; server CPU "
                       f"{num(lv.get('server_cpu_ms_per_call'))} ms/call", *lat(lv["latency_ms"]),
                       floor_text(f99, " ms p99"), verdict(f99), claims=(p99_key,) if f99 else ()))
        rss = lv["rss_mb"]
        frss = floors.get("rss_mb_1000_clients") if n == 1000 else None
        out.append(row(f"call_to_event, server RSS with {n:,} clients",
                       f"{num(rss['with_clients'])} MB connected, peak {num(rss['peak_during_calls'])} MB during "
                       f"calls (idle {num(rss['idle_before_clients'])} MB)", floor=floor_text(frss, " MB"),
                       result=verdict(frss), claims=("rss_mb_1000_clients",) if frss else ()))
    return out


def rows_dossier(r: dict) -> list[Row]:
    n = r.get("dossiers_in_db")
    name = f"dossier_lookup ({n:,} dossiers)" if n else "dossier_lookup"
    f = r["floors"]
    out = []
    for lv in r["lookup_levels"]:
        found = lv["client_latency_ms"]["found"]
        out.append(row(f"{name}, HTTP c={lv['concurrency']}", f"{num(lv['throughput_per_s'])} lookups/s "
                       f"(existing codes), {lv['errors']} errors", *lat(found)))
    ip = r.get("in_process")
    fl = f.get("server_lookup_p99_ms")
    if ip:
        out.append(row(f"{name}, DossierService.lookup in-process", f"{ip['found_ms']['n']:,} lookups, "
                       f"CPU p99 {ms(ip['found_thread_cpu_ms']['p99'])}", *lat(ip["found_ms"]),
                       floor_text(fl, " ms p99"), verdict(fl), claims=("server_lookup_p99_ms",)))
    ing = r.get("ingest")
    fi = f.get("ingest_sequential_per_s")
    for phase in (ing or {}).get("phases", []):
        seq = phase["phase"] == "sequential"
        out.append(row(f"{name}, ingest {phase['phase']} (c={phase['concurrency']})",
                       f"{num(phase['dossiers_per_s'])} dossiers/s, batch latency", *lat(phase["batch_latency_ms"]),
                       floor_text(fi, "/s") if seq else "—", verdict(fi) if seq else "—",
                       claims=("ingest_sequential_per_s",) if seq else ()))
    for problem in r.get("problems", []):
        out.append(row(name, f"problem: {problem}", result="**FAIL**"))
    return out


def rows_kiosk(r: dict) -> list[Row]:
    f = r["floors"]
    out = []
    for lv in r["levels"]:
        c = lv["concurrency"]
        fe = f.get("end_to_end_p99_ms_c1") if c == 1 else None
        out.append(row(f"kiosk_to_printer, c={c}", f"{lv['printed_and_matched']}/{lv['sent']} printed; request → "
                       f"cut at the TCP printer", *lat(lv["end_to_end_ms"]), floor_text(fe, " ms p99"), verdict(fe),
                       claims=("end_to_end_p99_ms_c1",) if fe else ()))
    paper = r["paper_check"]
    out.append(row("kiosk_to_printer paper", f"{paper['cuts_in_whole_stream']} slips for {paper['expected_cuts']} "
                   f"tickets, {paper['lost_count']} lost, {paper['printed_twice_count']} twice",
                   floor="exactly once", result="PASS" if paper["ok"] else "**FAIL**"))
    render = r["render"]
    out.append(row("kiosk_to_printer render_slip", "per ticket", *lat(render["render_ms"]),
                   floor_text(f.get("render_p99_ms"), " ms p99"), verdict(f.get("render_p99_ms")),
                   claims=("render_p99_ms",)))
    out.append(row("kiosk_to_printer encode_slip (render + ESC/POS)", "per ticket", *lat(render["encode_ms"]),
                   floor_text(f.get("encode_p99_ms"), " ms p99"), verdict(f.get("encode_p99_ms")),
                   claims=("encode_p99_ms",)))
    rss = r["rss_mb"]
    out.append(row("agent RSS", f"{num(rss['agent_after_run'])} MB after the run (peak {num(rss['agent_peak'])}, "
                   f"after connecting {num(rss['agent_idle_after_connect'])}); server peak "
                   f"{num(rss['server_peak'])} MB",
                   floor=floor_text(f.get("agent_rss_mb_after_run"), " MB after the run"),
                   result=verdict(f.get("agent_rss_mb_after_run")), claims=("agent_rss_mb_after_run",)))
    return out


def rows_render(r: dict) -> list[Row]:
    out = []
    for width, w in r["widths"].items():
        key = f"render_p99_ms_{width}"
        fr = r["floors"].get(key)
        out.append(row(f"render_ticket render_slip, {width} px", "per ticket", *lat(w["render_ms"]),
                       floor_text(fr, " ms p99"), verdict(fr), claims=(key,)))
        out.append(row(f"render_ticket encode_slip, {width} px", "per ticket (render + ESC/POS)", *lat(w["encode_ms"])))
    return out


def rows_live_page(r: dict) -> list[Row]:
    lag, catch_up = r["floors"]["lag_p99_ms"], r["floors"]["catch_up_ms"]
    name = f"live_page, {r['events_per_s']:g} events/s for {r['seconds']:g} s"
    return [row(name, f"/admin/live behind the events ({r['page_reads']} reads for {r['events_seen_by_page']} events)",
                *lat(r["lag_ms"]), floor_text(lag, " ms p99"), verdict(lag), claims=("lag_p99_ms",)),
            row(name, "catch-up after the stream", ms(r["catch_up_ms"]), "", floor_text(catch_up, " ms"),
                verdict(catch_up), claims=("catch_up_ms",))]


def rows_board(r: dict) -> list[Row]:
    f = r["floors"]
    fv = f.get("call_to_visible_p99_ms")
    out = [row(f"call_to_board, {r['clients']:,} other clients × {r['calls']} calls",
               f"call → number visible on the board page; {r['missing']} missing", *lat(r["call_to_visible_ms"]),
               floor_text(fv, " ms p99"), verdict(fv), claims=("call_to_visible_p99_ms",)),
           row("call_to_board", "board: message → visible", *lat(r["board_message_to_visible_ms"]))]
    audio = r["audio"]["in_process"]
    for key, phase in (("audio_uncached_p99_ms", "uncached"), ("audio_cached_p99_ms", "cached")):
        fa = f.get(key)
        out.append(row(f"call_to_board announcement WAV, {phase}", "build in-process", *lat(audio[f"{phase}_ms"]),
                       floor_text(fa, " ms p99"), verdict(fa), claims=(key,)))
    rss = r["rss_mb"]
    out.append(row("call_to_board", f"server RSS with the clients and the board {num(rss['with_clients'])} MB, peak "
                   f"{num(rss['peak_during_calls'])} MB"))
    return out


def rows_reports(r: dict) -> list[Row]:
    seeded = r.get("seeding") or {}
    days = r.get("config", {}).get("days")
    name = f"reports ({seeded.get('tickets', 0):,} tickets, {days} days)"
    f = r["floors"]

    def at_scale(floor: dict | None) -> dict | None:
        if floor and floor["pass"] is None and not floor.get("note"):
            floor = {**floor, "note": f"measured {floor.get('measured')} s; the floor is for 1,000,000 tickets"}
        return floor

    ip, http = r["in_process"], r["http"]
    warm, cold = at_scale(f.get("server_warm_p99_s")), at_scale(f.get("server_cold_p50_s"))
    cold_s = ip["cold_s"]
    return [
        row(f"{name}, ReportService.summary in-process, warm", f"closed days cached; CPU p99 "
            f"{ms(ip['warm_thread_cpu_ms']['p99'])}", *lat(ip["warm_ms"]), floor_text(warm, " s p99"), verdict(warm),
            claims=("server_warm_p99_s",)),
        row(f"{name}, ReportService.summary in-process, cold", "nothing cached", ms(cold_s.get("wall_p50_ms")),
            ms(cold_s.get("wall_p99_ms")), floor_text(cold, " s p50"), verdict(cold), claims=("server_cold_p50_s",)),
        row(f"{name}, GET /api/v1/reports/summary", f"first (cold) {ms(http.get('cold_ms'))}; xlsx export "
            f"{ms((http.get('xlsx') or {}).get('ms'))}", *lat(http.get("warm_ms"))),
    ]


def rows_generic(r: dict) -> list[Row]:
    """For a benchmark this script does not know yet: every percentile block at the top two levels."""
    out = []
    name = r.get("benchmark", "?")

    def walk(d: dict, path: str, depth: int) -> None:
        for k, v in d.items():
            if not isinstance(v, dict) or k == "floors":
                continue
            if {"p50", "p99"} <= v.keys():
                out.append(row(name, f"{path}{k}", *lat(v)))
            elif depth < 2:
                walk(v, f"{path}{k}.", depth + 1)

    walk(r, "", 0)
    return out


STEPS = [
    Step("issue_tickets", "issue_tickets.py", "ticket issuing, one SQLite process", [],
         ["--requests", "300", "--warmup", "50"], rows_issue, 30),
    Step("issue_tickets_postgres2", "issue_tickets.py",
         "ticket issuing, two PostgreSQL processes + Redis (with one-process baselines)",
         ["--processes", "2", "--database", "postgres", "--message-queue", "redis"],
         ["--processes", "2", "--database", "postgres", "--message-queue", "redis", "--requests", "300", "--warmup",
          "50"], rows_issue, 90),
    Step("call_to_event", "call_to_event.py", "call → event fan-out to 200 and 1,000 Socket.IO clients",
         ["--clients-levels", "200,1000"], ["--clients-levels", "50,100", "--calls", "5"], rows_call_to_event, 30),
    Step("dossier_lookup", "dossier_lookup.py", "dossier lookup with 1,000,000 dossiers", [],
         ["--dossiers", "20000", "--lookups", "500", "--warmup", "100", "--in-process", "1000", "--breakdown", "200",
          "--ingest", "2000"], rows_dossier, 90),
    Step("kiosk_to_printer", "kiosk_to_printer.py", "kiosk → printer through the agent; agent memory", [],
         ["--tickets", "20", "--render-tickets", "20"], rows_kiosk, 30),
    Step("render_ticket", "render_ticket.py", "slip rendering per ticket", [], ["--tickets", "20"], rows_render, 15,
         wait_quiet_flag=False),
    Step("call_to_board", "call_to_board.py", "call → number visible on a board in Chromium; announcement audio", [],
         ["--clients", "20", "--calls", "5", "--audio-samples", "10"], rows_board, 30),
    Step("live_page", "live_page.py", "the admin's live view under 100 events/s", [], ["--seconds", "3"],
         rows_live_page, 15),
    Step("reports", "reports.py", "reports over 1,000,000 tickets", [],
         ["--tickets", "20000", "--runs", "2", "--http-runs", "2"], rows_reports, 60, optional=True),
]


# --- running -------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run_all.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: small sizes (e.g. 20,000 dossiers), short quiet waits; results go to "
                             "bench/out/quick/ and the section is labelled as a smoke run")
    parser.add_argument("--only", default=None, metavar="NAME,…",
                        help="run only these benchmarks (the others show as not run): "
                             + ", ".join(s.key for s in STEPS))
    parser.add_argument("--strict", action="store_true", help="exit 1 also when a floor is not met")
    parser.add_argument("--quiet-wait", type=float, default=None, metavar="SECONDS",
                        help="before each benchmark, wait up to this long for the machine to go idle "
                             "(default 120; 10 with --quick)")
    parser.add_argument("--wait-quiet", type=float, default=None, metavar="SECONDS",
                        help="passed to the scripts for their measured phases (default: theirs, 60; 5 with --quick)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the Markdown file to update")
    parser.add_argument("--out-dir", type=Path, default=None, help="where the JSON results go")
    parser.add_argument("--timeout-factor", type=float, default=1.0, help="scales every benchmark's time limit")
    args = parser.parse_args()
    known = {s.key for s in STEPS}
    args.only = None if args.only is None else [k.strip() for k in args.only.split(",") if k.strip()]
    if args.only and not set(args.only) <= known:
        parser.error(f"--only: unknown {sorted(set(args.only) - known)}; known: {', '.join(s.key for s in STEPS)}")
    if args.quiet_wait is None:
        args.quiet_wait = 10.0 if args.quick else 120.0
    if args.wait_quiet is None and args.quick:
        args.wait_quiet = 5.0
    args.out_dir = args.out_dir or (OUT_DIR / "quick" if args.quick else OUT_DIR)
    return args


def tail(path: Path, lines: int = 40) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def crash_reason(log_lines: list[str], exit_code: int | None) -> str:
    """The last line that says what went wrong: an exception, a SystemExit message, or the exit code."""
    for line in reversed(log_lines):
        text = line.strip()
        if text and not text.startswith(("File ", "^", "~")) and (
                "Error" in text or "error" in text or "Exception" in text or "failed" in text or "exceed" in text):
            return text[:300]
    last = next((ln.strip() for ln in reversed(log_lines) if ln.strip()), "")
    return (last[:300] + " " if last else "") + f"(exit {exit_code})"


def run_step(step: Step, args: argparse.Namespace, logs: Path) -> Outcome:
    script = BENCH / step.script
    if not script.exists():
        return Outcome(step, "missing", f"{step.script} does not exist")
    out = args.out_dir / f"{step.key}.json"
    log_path = logs / f"{step.key}.log"
    command = [sys.executable, str(script), *(step.quick_args if args.quick else step.args), "--out", str(out)]
    if step.wait_quiet_flag and args.wait_quiet is not None:
        command += ["--wait-quiet", f"{args.wait_quiet:g}"]
    quiet = asyncio.run(wait_for_quiet(args.quiet_wait)) if args.quiet_wait > 0 else None
    shown = " ".join(["bench/" + step.script, *command[2:]]).replace(str(ROOT) + "/", "")
    log(f"== {step.key}: {shown}" + (f" (machine: {quiet['busy_cores']} cores busy, reference work "
                                      f"{quiet['reference_work_ms']} ms)" if quiet else ""))
    started = time.time()
    with open(log_path, "w") as log_file:
        log_file.write(f"$ {shown}\n")
        log_file.flush()
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=log_file, text=True,
                                start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=step.timeout_min * 60 * args.timeout_factor)
        except subprocess.TimeoutExpired:
            # Ctrl-C to the benchmark's own process group: its `finally` blocks stop the servers it
            # started (they run in sessions of their own) and drop its PostgreSQL database.
            os.killpg(proc.pid, signal.SIGINT)
            try:
                stdout, _ = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                stdout, _ = proc.communicate()
                log(f"warning: {step.key} did not stop on SIGINT and was killed; a server it started may be left")
            seconds = time.time() - started
            return Outcome(step, "timeout", f"stopped after {seconds / 60:.0f} min (limit "
                           f"{step.timeout_min * args.timeout_factor:g} min)", seconds, proc.returncode,
                           quiet_before=quiet)
        log_file.write(stdout)
    seconds = time.time() - started
    summary = stdout.strip().splitlines()[-1] if stdout.strip() else ""
    outcome = Outcome(step, "ok", seconds=seconds, exit_code=proc.returncode, summary=summary, quiet_before=quiet)
    fresh = out.exists() and out.stat().st_mtime >= started - 1
    if not fresh:
        outcome.status = "crashed"
        outcome.reason = crash_reason(tail(log_path), proc.returncode)
        return outcome
    try:
        outcome.result = json.loads(out.read_text())
    except (OSError, ValueError) as exc:
        outcome.status, outcome.reason = "crashed", f"unreadable result {out.name}: {exc}"
        return outcome
    if proc.returncode != 0:
        outcome.status = "broken"
        outcome.reason = f"exit {proc.returncode}: the script's own checks failed (see its summary)"
    return outcome


def table_rows(outcome: Outcome) -> list[Row]:
    step = outcome.step
    if outcome.result is None:
        what = {"not run": "not run in this invocation (--only)", "missing": "no script",
                "timeout": "TIMED OUT", "crashed": "CRASHED"}[outcome.status]
        return [row(step.key, f"{what}: {outcome.reason}" if outcome.reason else what,
                    result="—" if outcome.status == "not run" else "**FAIL** (no result)")]
    r = outcome.result
    try:
        rows = step.rows(r)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        rows = [row(step.key, f"could not read its figures ({type(exc).__name__}: {exc}); the floors follow",
                    result="?")]
    claimed = {key for rw in rows for key in rw["claims"]}
    for key, f in (r.get("floors") or {}).items():   # no floor is left out, even one this script does not know
        if key not in claimed and isinstance(f, dict) and "pass" in f:
            value = f["value"] if f.get("value") is not None else f.get("measured")
            rows.append(row(step.key, f"{key}: {num(value, 2)}{unit_of(key)}", floor=floor_text(f, unit_of(key)),
                            result=verdict(f)))
    if outcome.status == "broken":
        rows.append(row(step.key, outcome.reason, result="**FAIL**"))
    return rows


# --- RESULTS.md ----------------------------------------------------------------------------------

def md_escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def section(outcomes: list[Outcome], args: argparse.Namespace, started: datetime, ended: datetime) -> str:
    m = machine()
    rev = git_revision()
    quick = " **Smoke run (`--quick`): reduced sizes and short quiet waits; these are not the published " \
            "figures.**" if args.quick else ""
    only = f" Only {', '.join(args.only)} were run (`--only`)." if args.only else ""
    busy = [o.quiet_before["busy_cores"] for o in outcomes if o.quiet_before]
    work = [o.quiet_before["reference_work_ms"] for o in outcomes if o.quiet_before]
    lines = [
        BEGIN,
        "## `make bench` (generated by `bench/run_all.py`; do not edit between these markers)",
        "",
        f"Run {started:%Y-%m-%d %H:%M}–{ended:%H:%M} UTC, git `{rev}`, command `bench/run_all.py"
        + "".join(f" {a}" for a in sys.argv[1:]) + "`." + quick + only,
        "",
        f"Machine: {m['nproc']} cores ({m['cpu_model']}), {m['mem_total_mb']:,} MB RAM, Python {m['python']}, "
        f"{m['os']} (kernel {m['kernel']})."
        + (f" Other processes used {min(busy):.2f}–{max(busy):.2f} cores just before the benchmarks started (after "
           f"waiting up to {args.quiet_wait:g} s for ≤ 0.3); each script's JSON records the same check before "
           f"each measured phase." if busy else "")
        + (f" A fixed piece of pure-Python work (`common.reference_work_ms`) took {min(work):.1f}–{max(work):.1f} ms "
           f"before the benchmarks: the machine's own speed varies, and CPU figures scale with it." if work else ""),
        "",
        "| benchmark | figure | p50 | p99 | floor | result |",
        "|---|---|---|---|---|---|",
    ]
    for outcome in outcomes:
        for rw in table_rows(outcome):
            lines.append("| " + " | ".join(md_escape(rw[k]) or " " for k in
                                             ("benchmark", "figure", "p50", "p99", "floor", "result")) + " |")
    lines += ["", "| benchmark | what | status | time | JSON |", "|---|---|---|---|---|"]
    out_rel = args.out_dir.relative_to(ROOT) if args.out_dir.is_relative_to(ROOT) else args.out_dir
    for o in outcomes:
        status = {"ok": "ok", "broken": "**checks failed**", "crashed": "**crashed**", "timeout": "**timed out**",
                  "missing": "missing", "not run": "not run"}[o.status]
        if o.reason:
            status += f": {o.reason}"
        lines.append(f"| {o.step.key} | {md_escape(o.step.title)} | {md_escape(status)} | "
                     f"{'—' if o.seconds is None else f'{o.seconds / 60:.1f} min'} | "
                     f"{f'`{out_rel}/{o.step.key}.json`' if o.result else '—'} |")
    summaries = [o for o in outcomes if o.summary]
    if summaries:
        lines += ["", "Each script's summary line:", "", "```text"]
        lines += [o.summary for o in summaries]
        lines += ["```"]
    lines.append(END)
    return "\n".join(lines)


def splice(text: str, generated: str) -> str:
    """Replaces what is between the markers; without markers, puts the section after the first
    paragraph (the first block of text that is not a heading)."""
    if BEGIN in text and END in text and text.index(BEGIN) < text.index(END):
        before = text[:text.index(BEGIN)]
        after = text[text.index(END) + len(END):]
        return before + generated + after
    lines = text.split("\n")
    i = 0
    while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
        i += 1                         # the title and blank lines
    while i < len(lines) and lines[i].strip():
        i += 1                         # the first paragraph
    return "\n".join(lines[:i] + ["", generated] + lines[i:])


def main() -> int:
    args = parse_args()
    logs = args.out_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    outcomes = []
    for step in STEPS:
        if args.only and step.key not in args.only:
            outcomes.append(Outcome(step, "not run"))
            continue
        if step.optional and not (BENCH / step.script).exists():
            outcomes.append(Outcome(step, "missing", f"{step.script} is not there yet"))
            continue
        outcome = run_step(step, args, logs)
        outcomes.append(outcome)
        log(f"== {step.key}: {outcome.status}" + (f" ({outcome.reason})" if outcome.reason else "")
            + (f" in {outcome.seconds / 60:.1f} min" if outcome.seconds else ""))
    ended = datetime.now(UTC)
    generated = section(outcomes, args, started, ended)
    text = args.results.read_text() if args.results.exists() else "# Benchmark results\n\n"
    args.results.write_text(splice(text, generated))

    ran = [o for o in outcomes if o.status != "not run"]
    bad = [o for o in ran if o.status in ("crashed", "timeout", "broken")
           or (o.status == "missing" and not o.step.optional)]
    floors = [f for o in ran if o.result for f in (o.result.get("floors") or {}).values()
              if isinstance(f, dict) and "pass" in f]
    failed = sum(1 for f in floors if f["pass"] is False)
    passed = sum(1 for f in floors if f["pass"] is True)
    print(f"run_all{' (quick)' if args.quick else ''}: {len(ran)} benchmarks, "
          + ", ".join(f"{o.step.key} {o.status}" for o in ran)
          + f" | floors {passed} PASS, {failed} FAIL, {len(floors) - passed - failed} n/a"
          + f" | {args.results.relative_to(ROOT) if args.results.is_relative_to(ROOT) else args.results} updated",
          flush=True)
    return 1 if bad or (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())

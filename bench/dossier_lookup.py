"""Dossier lookup and ingest at scale: seeds 1,000,000 dossiers straight into the server's SQLite
database, then measures GET /api/v1/dossiers/<code> latency at concurrency 1 and 16 (client side,
server side from the /metrics histogram, and DossierService.lookup timed in-process on the same file)
and the ingest throughput of POST /api/v1/dossiers/batch, sequential and at concurrency 2.

    .venv/bin/python bench/dossier_lookup.py [--dossiers 1000000] [--lookups 5000] [--ingest 20000]
                                             [--batch-size 500] [--url URL --database FILE --token T]

Seeding through the API would take hours, so the script creates the database (`motcua demo`), bulk
inserts realistic dossiers (codes `<agency>-<YYMMDD>-<NNNN>` over 300 agencies and ~20 months, 1–3
steps each, statuses 1–10) with sqlite3 executemany, and only then starts the server, with the
lookup rate limits raised. Writes bench/out/dossier_lookup.json and prints one summary line.
"""
from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import random
import re
import sqlite3
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

from common import (
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

NAME = "dossier_lookup"
FLOOR_SERVER_P99_MS = 5.0       # server-side lookup p99 with 1M dossiers
FLOOR_INGEST_PER_S = 1000.0     # dossiers/s through the batch API
FLOOR_DOSSIERS = 1_000_000
LOOKUP_ENDPOINT = "api.get_dossier"
INGEST_ENDPOINT = "api.upsert_batch"
HISTOGRAM = "motcua_http_request_duration_seconds"
LOCAL_TZ = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh has no DST
DEMO_AGENCY = "000.00.12.H56"            # the demo office's agency code (office id 1)
UNLIMITED = str(10**9)

# --- realistic content -------------------------------------------------------------------------------

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
          "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lâm", "Mai"]
FAMILY_WEIGHTS = [38, 11, 9, 7, 5, 4, 4, 4, 3, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Thu", "Hoàng", "Gia", "Xuân", "Kim",
          "Bảo", "Thị Thu", "Văn Minh"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương", "Khánh",
         "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga", "Ngọc", "Phong", "Phúc", "Quân", "Quỳnh", "Sơn",
         "Tâm", "Thảo", "Thắng", "Trang", "Trung", "Tuấn", "Vân", "Yến", "Đạt", "Huy", "Khoa", "Nhung", "Oanh",
         "Thư"]
# (procedure code, name, field, days allowed)
PROCEDURES = [
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch", 1),
    ("1.000894", "Đăng ký kết hôn", "Hộ tịch", 1),
    ("1.000656", "Đăng ký khai tử", "Hộ tịch", 1),
    ("1.004884", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", 1),
    ("1.001022", "Đăng ký nhận cha, mẹ, con", "Hộ tịch", 3),
    ("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 3),
    ("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan có thẩm quyền của Việt Nam cấp",
     "Chứng thực", 1),
    ("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", 1),
    ("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", "Chứng thực", 2),
    ("1.004227", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "Đất đai", 10),
    ("1.004193", "Cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất "
     "lần đầu", "Đất đai", 30),
    ("1.005398", "Tách thửa hoặc hợp thửa đất", "Đất đai", 15),
    ("2.000720", "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", 3),
    ("2.000575", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", 3),
    ("1.009994", "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ", "Hoạt động xây dựng", 15),
    ("1.009995", "Cấp giấy phép sửa chữa, cải tạo đối với nhà ở riêng lẻ", "Hoạt động xây dựng", 15),
    ("1.001776", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", "Bảo trợ xã hội", 10),
    ("1.003596", "Xác nhận thông tin về cư trú", "Đăng ký, quản lý cư trú", 1),
    ("2.001157", "Đăng ký thường trú", "Đăng ký, quản lý cư trú", 7),
    ("1.010940", "Cấp Giấy chứng nhận đủ điều kiện an toàn thực phẩm", "An toàn thực phẩm", 15),
]
PROCEDURE_WEIGHTS = [14, 6, 2, 5, 1, 4, 20, 8, 4, 6, 3, 2, 4, 2, 3, 1, 2, 8, 3, 1]
UNITS = ["Bộ phận Tiếp nhận và Trả kết quả", "Phòng Tư pháp", "Phòng Tài nguyên và Môi trường",
         "Chi nhánh Văn phòng Đăng ký đất đai", "Phòng Tài chính - Kế hoạch", "Phòng Quản lý đô thị",
         "Phòng Văn hóa - Xã hội", "Công an phường"]
ACTIONS = {1: "Nộp hồ sơ trực tuyến", 2: "Tiếp nhận hồ sơ", 3: "Từ chối tiếp nhận hồ sơ", 4: "Chuyển xử lý",
           5: "Yêu cầu bổ sung giấy tờ", 6: "Thông báo nghĩa vụ tài chính", 7: "Công dân rút hồ sơ",
           8: "Dừng xử lý", 9: "Hoàn thành xử lý", 10: "Trả kết quả cho công dân"}
# Status of an old dossier (past its deadline + 10 days) and of a recent one.
OLD_STATUS = ([10, 9, 3, 7, 8, 5, 6, 4], [70, 8, 3, 3, 2, 4, 2, 8])
NEW_STATUS = ([1, 2, 4, 5, 6, 9, 10], [8, 20, 40, 10, 5, 12, 5])
MALFORMED = ["abc", "000.00.12.H56-251340-0001", "000.00.12.H56-250915-0000", "HS-2025-0001", "000.00.12.H56",
             "0912345678", "000.00.12.H56-2509150007", "TRA-CUU", "000.00.12.H56-250231-0001"]


def make_agencies(rng: random.Random, count: int) -> list[str]:
    """Agency codes as the national catalogue writes them (province, department, district, unit)."""
    found = {DEMO_AGENCY}
    while len(found) < count:
        province = rng.randint(1, 96)
        kind = rng.random()
        if kind < 0.15:
            found.add(f"000.00.00.H{province:02d}")
        elif kind < 0.35:
            found.add(f"000.{rng.randint(1, 40):02d}.00.H{province:02d}")
        else:
            found.add(f"000.{rng.randint(0, 30):02d}.{rng.randint(1, 40):02d}.H{province:02d}")
    return sorted(found)


# --- seeding -----------------------------------------------------------------------------------------

DOSSIER_INSERT = (
    "INSERT INTO dossiers (id, code, agency_code, received_date, office_id, procedure_code, procedure_name, "
    "field_name, owner_name, owner_id_hash, channel, received_at, appointment_at, status, apology_new_date, "
    "apology_at, return_counter, postal, source, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
STEP_INSERT = "INSERT INTO dossier_steps (id, dossier_id, at, status, unit, action) VALUES (?,?,?,?,?,?)"


def seed_plan(rng: random.Random, n: int, agencies: list[str], today: date, days: int) -> list[tuple[date, str, int]]:
    """(day, agency, how many dossiers) going back from yesterday until n dossiers are planned;
    Sundays are closed, the busiest agencies get several times the quietest ones' load."""
    activity = {a: rng.uniform(0.3, 2.0) / 1.15 for a in agencies}   # mean ≈ 1
    mean = max(3.0, n / (len(agencies) * days * 6 / 7))   # a small run covers fewer days, not emptier ones
    plan = []
    total = 0
    day = today - timedelta(days=1)
    while total < n:
        if day.weekday() != 6:
            for agency in agencies:
                mu = mean * activity[agency]
                k = min(9000, max(0, round(rng.gauss(mu, mu / 3))))
                k = min(k, n - total)
                if k:
                    plan.append((day, agency, k))
                    total += k
                if total >= n:
                    break
        day -= timedelta(days=1)
    plan.reverse()  # ids grow with time, as they would in a real database
    return plan


def seed_database(db_path: Path, n: int, seed: int, today: date, days: int, chunk: int) -> dict:
    rng = random.Random(seed)
    agencies = make_agencies(rng, 300)
    started = time.perf_counter()
    plan = seed_plan(rng, n, agencies, today, days)
    con = sqlite3.connect(db_path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")      # a fresh file nobody else has open: no journal while loading
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")    # 400 MB: the code index stays in memory while it grows
    existing = con.execute("SELECT count(*) FROM dossiers").fetchone()[0]
    if existing:
        raise SystemExit(f"{db_path} already holds {existing} dossiers; seeding needs an empty table")
    now = datetime.now(UTC)
    date_text: dict[int, str] = {}

    def day_text(ordinal: int) -> str:
        text = date_text.get(ordinal)
        if text is None:
            text = date_text[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    families = rng.choices(FAMILY, FAMILY_WEIGHTS, k=n)
    procedures = rng.choices(range(len(PROCEDURES)), PROCEDURE_WEIGHTS, k=n)
    old_status = rng.choices(*OLD_STATUS, k=n)
    new_status = rng.choices(*NEW_STATUS, k=n)
    today_ordinal = today.toordinal()
    dossier_rows: list[tuple] = []
    step_rows: list[tuple] = []
    dossier_id = step_id = 0
    statuses: Counter = Counter()
    steps_per: Counter = Counter()
    generate_s = insert_s = 0.0
    t_gen = time.perf_counter()

    def flush() -> None:
        nonlocal insert_s, dossier_rows, step_rows
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.executemany(DOSSIER_INSERT, dossier_rows)
        con.executemany(STEP_INSERT, step_rows)
        con.execute("COMMIT")
        insert_s += time.perf_counter() - t0
        dossier_rows, step_rows = [], []

    rand = rng.random
    randint = rng.randint
    for day, agency, count in plan:
        ordinal = day.toordinal()
        received_date = day_text(ordinal)
        yymmdd = day.strftime("%y%m%d")
        office_id = 1 if agency == DEMO_AGENCY else None
        for seq in range(1, count + 1):
            i = dossier_id
            dossier_id += 1
            code_index, name, field, allowed = PROCEDURES[procedures[i]]
            # local 07:30–16:59 is 00:30–09:59 UTC, the same calendar day
            minute_of_day = randint(30, 599)
            clock = f" {minute_of_day // 60:02d}:{minute_of_day % 60:02d}:{randint(0, 59):02d}.000000"
            received_at = received_date + clock
            due = ordinal + allowed + (allowed // 5) * 2   # working days, roughly
            appointment_at = day_text(due) + clock
            old = today_ordinal - ordinal > allowed + 10
            status = old_status[i] if old else new_status[i]
            channel = 2 if status == 1 or rand() < 0.25 else (3 if rand() < 0.03 else 1)
            first = 1 if channel == 2 else 2
            if status in (1, 2) or (status == 3 and rand() < 0.7):
                chain = [status]
            elif status == 4:
                chain = [first, 5, 4] if rand() < 0.2 else [first, 4]
            elif rand() < 0.5:
                chain = [first, status]
            else:
                chain = [first, 4, status]
            late = rand() < 0.1
            span = max(1, min(today_ordinal - ordinal, (due - ordinal) + (randint(1, 10) if late else 0)))
            last_at = received_at
            for k, step_status in enumerate(chain):
                offset = 0 if k == 0 else (span if k == len(chain) - 1 else max(1, span // 2))
                at_ordinal = min(ordinal + offset, today_ordinal)
                at = received_at if k == 0 else day_text(at_ordinal) + f" {minute_of_day // 60 + k:02d}" + clock[3:]
                step_id += 1
                unit = UNITS[0] if step_status in (1, 2, 3, 10) else UNITS[1 + procedures[i] % (len(UNITS) - 1)]
                step_rows.append((step_id, dossier_id, at, step_status, unit, ACTIONS[step_status]))
                last_at = at
            apology_new = apology_at = None
            if late and status in (4, 5, 6) and rand() < 0.3:
                apology_new = day_text(due + 5) + clock
                apology_at = day_text(due - 1) + clock
            owner = f"{families[i]} {MIDDLE[randint(0, len(MIDDLE) - 1)]} {GIVEN[randint(0, len(GIVEN) - 1)]}"
            id_hash = f"{rng.getrandbits(256):064x}" if rand() < 0.8 else None
            dossier_rows.append((
                dossier_id, f"{agency}-{yymmdd}-{seq:04d}", agency, received_date, office_id, code_index, name, field,
                owner, id_hash, channel, received_at, appointment_at, status, apology_new, apology_at,
                randint(1, 5) if status == 9 and rand() < 0.5 else None, 1 if channel == 3 else 0,
                "import" if rand() < 0.4 else "api", last_at if last_at > received_at else received_at))
            statuses[status] += 1
            steps_per[len(chain)] += 1
            if len(dossier_rows) >= chunk:
                generate_s += time.perf_counter() - t_gen
                flush()
                log(f"  seeded {dossier_id:,} dossiers, {step_id:,} steps ({time.perf_counter() - started:.1f} s)")
                t_gen = time.perf_counter()
    generate_s += time.perf_counter() - t_gen
    if dossier_rows:
        flush()
    con.execute("PRAGMA journal_mode=WAL")   # what the server sets on every connection
    con.close()
    elapsed = time.perf_counter() - started
    size = sum(p.stat().st_size for p in db_path.parent.glob(db_path.name + "*"))
    first_day, last_day = plan[0][0], plan[-1][0]
    return {"dossiers": dossier_id, "steps": step_id, "seconds": round(elapsed, 1),
            "generate_s": round(generate_s, 1), "insert_s": round(insert_s, 1),
            "rows_per_s": round((dossier_id + step_id) / elapsed), "db_size_mb": round(size / 2**20, 1),
            "agencies": len(agencies), "received_dates": [first_day.isoformat(), last_day.isoformat()],
            "statuses": dict(sorted(statuses.items())), "steps_per_dossier": dict(sorted(steps_per.items())),
            "chunk_rows": chunk, "random_seed": seed, "loaded_at_utc": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "method": "sqlite3 executemany, journal_mode=OFF + synchronous=OFF while loading, explicit ids, "
                      f"one transaction per {chunk:,} dossiers (and their steps); WAL restored afterwards"}


def db_counts(db_path: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return (con.execute("SELECT count(*) FROM dossiers").fetchone()[0],
                con.execute("SELECT count(*) FROM dossier_steps").fetchone()[0])
    finally:
        con.close()


def sample_codes(db_path: Path, k: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """k random existing codes, and k well-formed codes of the same agencies and days that do not exist."""
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        low, high = con.execute("SELECT min(id), max(id) FROM dossiers").fetchone()
        if high is None:
            raise SystemExit(f"{db_path} holds no dossiers")
        codes: list[str] = []
        while len(codes) < k:
            ids = [rng.randint(low, high) for _ in range(min(900, k - len(codes)))]
            rows = con.execute(f"SELECT code FROM dossiers WHERE id IN ({','.join('?' * len(ids))})", ids).fetchall()
            codes += [code for (code,) in rows][: k - len(codes)]
        unknown = []
        for code in codes[:k]:
            candidate = code[:-4] + f"{rng.randint(9500, 9999):04d}"
            if con.execute("SELECT 1 FROM dossiers WHERE code = ?", (candidate,)).fetchone() is None:
                unknown.append(candidate)
        return codes, unknown
    finally:
        con.close()


# --- /metrics histograms -----------------------------------------------------------------------------

LABEL = re.compile(r'(\w+)="([^"]*)"')


async def scrape(conn: HttpConnection) -> dict:
    """{(endpoint, status): {"buckets": {le: cumulative}, "count": n, "sum": s}} for the request histogram."""
    status, raw = await conn.send(conn.build("GET", "/metrics"))
    if status != 200:
        raise SystemExit(f"/metrics answered HTTP {status}")
    out: dict = {}
    for line in raw.decode().splitlines():
        if not line.startswith(HISTOGRAM):
            continue
        name, _, rest = line.partition("{")
        labels_text, _, value = rest.rpartition("}")
        labels = dict(LABEL.findall(labels_text))
        key = (labels.get("endpoint"), labels.get("status"))
        entry = out.setdefault(key, {"buckets": {}, "count": 0.0, "sum": 0.0})
        if name.endswith("_bucket"):
            entry["buckets"][float(labels["le"])] = float(value)
        elif name.endswith("_count"):
            entry["count"] = float(value)
        elif name.endswith("_sum"):
            entry["sum"] = float(value)
    return out


def histogram_delta(before: dict, after: dict, endpoint: str) -> dict:
    """Per status and for all statuses together: the requests observed between two scrapes."""
    per: dict = {}
    for (ep, status), entry in after.items():
        if ep != endpoint:
            continue
        old = before.get((ep, status), {"buckets": {}, "count": 0.0, "sum": 0.0})
        per[status] = {"buckets": {le: c - old["buckets"].get(le, 0.0) for le, c in entry["buckets"].items()},
                       "count": entry["count"] - old["count"], "sum": entry["sum"] - old["sum"]}
    if per:
        les = sorted({le for e in per.values() for le in e["buckets"]})
        per["all"] = {"buckets": {le: sum(e["buckets"].get(le, 0.0) for e in per.values()) for le in les},
                      "count": sum(e["count"] for e in per.values()), "sum": sum(e["sum"] for e in per.values())}
    return {status: summarise_histogram(e) for status, e in sorted(per.items()) if e["count"] > 0}


def bucket_quantile(buckets: dict, count: float, q: float) -> tuple[float | None, float | None]:
    """Like Prometheus' histogram_quantile: linear inside the bucket the rank falls in. Returns
    (estimate, upper bound of that bucket), seconds; above the last finite bucket both are None."""
    rank = q * count
    lower, below = 0.0, 0.0
    for le in sorted(buckets):
        cumulative = buckets[le]
        if cumulative >= rank:
            if math.isinf(le):
                return None, None
            inside = cumulative - below
            estimate = lower + (le - lower) * ((rank - below) / inside if inside else 1.0)
            return estimate, le
        lower, below = le, cumulative
    return None, None


def summarise_histogram(entry: dict) -> dict:
    count = entry["count"]
    result = {"n": int(count), "mean_ms": round(entry["sum"] / count * 1000, 3) if count else None}
    for q in (0.5, 0.9, 0.99):
        estimate, upper = bucket_quantile(entry["buckets"], count, q)
        tag = f"p{round(q * 100)}"
        result[f"{tag}_est_ms"] = None if estimate is None else round(estimate * 1000, 3)
        result[f"{tag}_bucket_le_ms"] = None if upper is None else round(upper * 1000, 1)
    result["share_le_ms"] = {f"{le * 1000:g}": round(c / count, 4) for le, c in sorted(entry["buckets"].items())
                             if not math.isinf(le) and le <= 0.05}
    return result


# --- lookups over HTTP -------------------------------------------------------------------------------

def lookup_requests(rng: random.Random, found: list[str], unknown: list[str], total: int, unknown_share: float,
                    malformed_share: float) -> list[tuple[str, str]]:
    """(kind, path) for one level: mostly existing codes, some unknown, some malformed."""
    out = []
    for _ in range(total):
        r = rng.random()
        if r < malformed_share:
            out.append(("malformed", "/api/v1/dossiers/" + rng.choice(MALFORMED)))
        elif r < malformed_share + unknown_share and unknown:
            out.append(("unknown", "/api/v1/dossiers/" + rng.choice(unknown)))
        else:
            out.append(("found", "/api/v1/dossiers/" + rng.choice(found)))
    return out


EXPECTED = {"found": 200, "unknown": 404, "malformed": 422}


async def lookup_level(target, concurrency: int, plan: list[tuple[str, str]], timeout: float,  # noqa: ANN001
                       max_seconds: float, sampler: RssSampler) -> dict:
    conns = [HttpConnection(target.host, target.port, timeout) for _ in range(concurrency)]
    raws = [(kind, path, conns[0].build("GET", path)) for kind, path in plan]
    await asyncio.gather(*(c.open() for c in conns))
    latencies: dict[str, list[float]] = {"found": [], "unknown": [], "malformed": []}
    errors: Counter = Counter()
    samples: list[str] = []
    state = {"next": 0}
    deadline = time.monotonic() + max_seconds

    async def worker(conn: HttpConnection) -> None:
        while state["next"] < len(raws) and time.monotonic() < deadline:
            kind, path, raw = raws[state["next"]]
            state["next"] += 1
            t0 = time.perf_counter()
            try:
                status, body = await conn.send(raw)
            except Exception as exc:  # noqa: BLE001 - counted
                errors[type(exc).__name__] += 1
                continue
            elapsed = time.perf_counter() - t0
            ok = status == EXPECTED[kind]
            if ok and kind == "found" and path.rsplit("/", 1)[1].encode() not in body:
                ok = False
            if not ok:
                errors[f"{kind}: HTTP {status}"] += 1
                if len(samples) < 5:
                    samples.append(f"{kind} {path} → {status} {body[:160].decode(errors='replace')}")
                continue
            latencies[kind].append(elapsed)

    metrics_conn = HttpConnection(target.host, target.port, timeout)
    before = await scrape(metrics_conn)
    sampler.mark()
    window = CpuWindow(target.worker_pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    wall = time.perf_counter() - started
    cpu = window.result()
    after = await scrape(metrics_conn)
    await metrics_conn.close()
    await asyncio.gather(*(c.close() for c in conns))
    sampler.sample()
    ok = sum(len(v) for v in latencies.values())
    server = histogram_delta(before, after, LOOKUP_ENDPOINT)
    return {
        "concurrency": concurrency, "requested": len(raws), "sent": state["next"], "ok": ok,
        "errors": sum(errors.values()), "error_kinds": dict(errors), "error_samples": samples,
        "duration_s": round(wall, 3), "throughput_per_s": round(ok / wall, 1) if wall else None,
        "client_latency_ms": {kind: percentiles(v) for kind, v in latencies.items()},
        "server_histogram": {{"200": "found", "404": "unknown", "422": "malformed"}.get(k, k): v
                             for k, v in server.items()},
        "server_cpu_ms_per_lookup": round(cpu["server_cpu_s"] / ok * 1000, 3) if cpu["server_cpu_s"] and ok else None,
        "cpu": cpu, "rss_peak_mb": sampler.window_peak, "stopped_by_time_limit": state["next"] < len(raws),
    }


# --- the service in-process --------------------------------------------------------------------------

def in_process(db_path: Path, found: list[str], unknown: list[str], n: int, breakdown_n: int,
               rng: random.Random) -> dict:
    """DossierService.lookup called directly on the same database file: the server-side time without
    HTTP, WSGI or gevent. Then the same work split into its parts, to show where the time goes."""
    import sqlalchemy as sa

    from queue_server.domain.clock import SystemClock
    from queue_server.domain.dossiers import CodeRejected, parse_code
    from queue_server.domain.errors import NotFound
    from queue_server.persistence.database import Database
    from queue_server.persistence.tables import dossiers
    from queue_server.services.container import QueueServices

    db = Database(f"sqlite:///{db_path}")
    svc = QueueServices(db, SystemClock(), {"ID_HASH_KEY": "bench", "LOOKUPS_PER_MINUTE_ADDRESS": 10**9,
                                            "LOOKUPS_PER_MINUTE_KIOSK": 10**9}).dossiers
    perf = time.perf_counter
    thread_cpu = time.thread_time

    def timed(codes: list[str], expect: type[Exception] | None, cpu_out: list | None = None) -> list[float]:
        out = []
        for code in codes:
            c0 = thread_cpu()
            t0 = perf()
            try:
                svc.lookup(code, "vi", "web", "127.0.0.1", None)
            except Exception as exc:
                if expect is None or not isinstance(exc, expect):
                    raise
            out.append(perf() - t0)
            if cpu_out is not None:
                cpu_out.append(thread_cpu() - c0)
        return out

    timed([rng.choice(found) for _ in range(300)], None)          # warm-up: connections, statement cache
    # as queue_server/wsgi.py does after start-up: long-lived objects out of the collector's way
    gc.collect()
    gc.freeze()
    collections0 = [g["collections"] for g in gc.get_stats()]
    cpu0 = time.process_time()
    t0 = perf()
    found_cpu: list[float] = []
    found_s = timed([rng.choice(found) for _ in range(n)], None, found_cpu)
    wall = perf() - t0
    cpu = time.process_time() - cpu0
    collections = [g["collections"] - c for g, c in zip(gc.get_stats(), collections0, strict=True)]
    unknown_s = timed([rng.choice(unknown) for _ in range(max(1, n // 10))], NotFound) if unknown else []
    malformed_s = timed([rng.choice(MALFORMED) for _ in range(max(1, n // 10))], CodeRejected)

    parts: dict[str, list[float]] = {"parse_code": [], "read_transaction": [], "public_view": [],
                                     "log_write_transaction": [], "total": []}
    for code in (rng.choice(found) for _ in range(breakdown_n)):
        t0 = perf()
        text = str(parse_code(code))
        t1 = perf()
        with db.read() as conn:
            row = conn.execute(sa.select(dossiers).where(dossiers.c.code == text)).mappings().first()
            steps = svc._steps(conn, row["id"])      # the service's own reads, so the breakdown cannot drift
            tz = svc._tz(conn, row)
        t2 = perf()
        svc.public_view(row, steps, "vi", tz)
        t3 = perf()
        svc._log("web", None, "found", text)
        t4 = perf()
        for name, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0), strict=True):
            parts[name].append(value)
    # the two SQL statements alone, on one raw sqlite3 connection (no SQLAlchemy): the floor of the design
    raw = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    raw_s = []
    for code in (rng.choice(found) for _ in range(breakdown_n)):
        t0 = perf()
        row = raw.execute("SELECT * FROM dossiers WHERE code = ?", (code,)).fetchone()
        raw.execute("SELECT * FROM dossier_steps WHERE dossier_id = ? ORDER BY at, id", (row[0],)).fetchall()
        raw_s.append(perf() - t0)
    plan = [" ".join(str(c) for c in r) for r in raw.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM dossiers WHERE code = ?", ("x",)).fetchall()]
    plan += [" ".join(str(c) for c in r) for r in raw.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM dossier_steps WHERE dossier_id = ? ORDER BY at, id", (1,)).fetchall()]
    raw.close()
    db.dispose()
    gc.unfreeze()
    return {
        "calls": n, "wall_s": round(wall, 3), "calls_per_s": round(n / wall, 1),
        "cpu_per_call_ms": round(cpu / n * 1000, 3), "found_ms": percentiles(found_s),
        "found_thread_cpu_ms": percentiles(found_cpu),
        "gc_collections_during_found": dict(zip(("gen0", "gen1", "gen2"), collections, strict=True)),
        "unknown_ms": percentiles(unknown_s), "malformed_ms": percentiles(malformed_s),
        "breakdown_ms": {name: percentiles(v) for name, v in parts.items()},
        "raw_sqlite_two_selects_ms": percentiles(raw_s), "query_plan": plan,
        "note": "DossierService.lookup(code, 'vi', 'web', '127.0.0.1', None) on QueueServices(Database(file)); "
                "same code path as GET /api/v1/dossiers/<code> minus Flask, JSON and gevent. The breakdown "
                "re-runs the method's steps one by one (parse, read transaction with the dossier, its steps and "
                "its office's time zone, "
                "public_view, the dossier_lookups INSERT in its own BEGIN IMMEDIATE transaction).",
    }


# --- ingest ------------------------------------------------------------------------------------------

def ingest_items(rng: random.Random, agencies: list[str], day: date, count: int) -> list[dict]:
    """New dossiers received today, as an integrator sends them (with steps and an ID number);
    codes go round the agencies: <agency>-<day>-0001 for each, then 0002, …"""
    now = datetime.now(LOCAL_TZ)
    items = []
    for i in range(count):
        agency = agencies[i % len(agencies)]
        seq = 1 + i // len(agencies)
        code_, name, field, allowed = rng.choices(PROCEDURES, PROCEDURE_WEIGHTS)[0]
        received = now - timedelta(minutes=rng.randint(5, 480), seconds=rng.randint(0, 59))
        chain = rng.choice([[2], [2, 4], [2, 4, 5], [1, 2, 4]])
        steps = []
        at = received
        for k, status in enumerate(chain):
            at = received + timedelta(minutes=3 * k)
            steps.append({"at": at.isoformat(timespec="seconds"), "status": status,
                          "unit": UNITS[0] if status in (1, 2) else UNITS[1 + rng.randint(0, len(UNITS) - 2)],
                          "action": ACTIONS[status]})
        items.append({
            "code": f"{agency}-{day:%y%m%d}-{seq:04d}", "procedure_code": code_, "procedure_name": name,
            "field_name": field,
            "owner_name": f"{rng.choices(FAMILY, FAMILY_WEIGHTS)[0]} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "owner_id": f"0{rng.randint(10**10, 10**11 - 1)}", "channel": 2 if chain[0] == 1 else 1,
            "received_at": received.isoformat(timespec="seconds"),
            "appointment_at": (received + timedelta(days=allowed)).replace(hour=16, minute=30, second=0,
                                                                         microsecond=0).isoformat(),
            "status": chain[-1], "status_at": at.isoformat(timespec="seconds"),
            "steps": steps,
        })
    return items


def encode(items: list[dict]) -> bytes:
    return json.dumps({"items": items}, ensure_ascii=False, separators=(",", ":")).encode()


def pack(items: list[dict], batch_size: int, max_bytes: int) -> list[tuple[int, int, bytes]]:
    """Consecutive batches of at most batch_size items whose body fits max_bytes: (items, steps, body)."""
    batches = []
    start = 0
    while start < len(items):
        end = min(len(items), start + batch_size)
        body = encode(items[start:end])
        while len(body) > max_bytes and end - start > 1:
            end = start + max(1, math.floor((end - start) * max_bytes / len(body) * 0.995))
            body = encode(items[start:end])
        batches.append((end - start, sum(len(i["steps"]) for i in items[start:end]), body))
        start = end
    return batches


async def ingest_phase(target, token: str, batches: list[tuple[int, int, bytes]], concurrency: int,  # noqa: ANN001
                       timeout: float, sampler: RssSampler) -> dict:
    conns = [HttpConnection(target.host, target.port, timeout) for _ in range(concurrency)]
    headers = {"Authorization": f"Bearer {token}"}
    raws = [(n, steps, conns[0].build("POST", "/api/v1/dossiers/batch", body, headers)) for n, steps, body in batches]
    await asyncio.gather(*(c.open() for c in conns))
    latencies: list[float] = []
    errors: Counter = Counter()
    samples: list[str] = []
    totals = {"sent": 0, "created": 0, "updated": 0, "steps_sent": 0}
    state = {"next": 0}

    async def worker(conn: HttpConnection) -> None:
        while state["next"] < len(raws):
            n, steps, raw = raws[state["next"]]
            state["next"] += 1
            totals["sent"] += n
            t0 = time.perf_counter()
            try:
                status, body = await conn.send(raw)
            except Exception as exc:  # noqa: BLE001 - counted, never retried
                errors[type(exc).__name__] += 1
                continue
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors[f"HTTP {status}"] += 1
                if len(samples) < 5:
                    samples.append(f"{status} {body[:200].decode(errors='replace')}")
                continue
            answer = json.loads(body)
            totals["created"] += answer["created"]
            totals["updated"] += answer["count"] - answer["created"]
            totals["steps_sent"] += steps

    metrics_conn = HttpConnection(target.host, target.port, timeout)
    before = await scrape(metrics_conn)
    sampler.mark()
    window = CpuWindow(target.worker_pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    wall = time.perf_counter() - started
    cpu = window.result()
    after = await scrape(metrics_conn)
    await metrics_conn.close()
    await asyncio.gather(*(c.close() for c in conns))
    sampler.sample()
    sizes = [n for n, _, _ in batches]
    return {
        "concurrency": concurrency, "batches": len(batches), "dossiers_sent": totals["sent"],
        "created": totals["created"], "updated": totals["updated"], "errors": sum(errors.values()),
        "error_kinds": dict(errors), "error_samples": samples, "duration_s": round(wall, 3),
        "dossiers_per_s": round(totals["created"] / wall, 1) if wall else None,
        "items_per_batch": {"min": min(sizes), "max": max(sizes), "mean": round(sum(sizes) / len(sizes), 1)},
        "body_bytes": {"min": min(len(b) for *_, b in batches), "max": max(len(b) for *_, b in batches)},
        "batch_latency_ms": percentiles(latencies),
        "server_histogram": histogram_delta(before, after, INGEST_ENDPOINT),
        "server_cpu_ms_per_dossier": (round(cpu["server_cpu_s"] / totals["created"] * 1000, 3)
                                      if cpu["server_cpu_s"] and totals["created"] else None),
        "cpu": cpu, "rss_peak_mb": sampler.window_peak, "steps_sent": totals["steps_sent"],
    }


async def ingest(args, target, token: str, db_path: Path, rng: random.Random, sampler: RssSampler) -> dict:  # noqa: ANN001
    from queue_server.config import DEFAULTS

    max_bytes = int(DEFAULTS["MAX_CONTENT_LENGTH"])
    agencies = make_agencies(random.Random(args.random_seed), 300)
    day = datetime.now(LOCAL_TZ).date()
    # codes of today: the seeded data stops yesterday; on a reused database move on to a free day
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        for _ in range(60):
            everything = ingest_items(rng, agencies, day, args.batch_size + args.ingest)
            codes = [i["code"] for i in everything]
            parts = [codes[k:k + 900] for k in range(0, len(codes), 900)]
            taken = sum(con.execute(f"SELECT count(*) FROM dossiers WHERE code IN ({','.join('?' * len(part))})",
                                    part).fetchone()[0] for part in parts)
            if not taken:
                break
            log(f"{taken} of the codes of {day} exist already; trying the next day")
            day += timedelta(days=1)
    finally:
        con.close()
    per_phase = args.ingest // 2
    probe_items = everything[:args.batch_size]
    seq_items = everything[args.batch_size:args.batch_size + per_phase]
    c2_items = everything[args.batch_size + per_phase:]
    item_bytes = [len(json.dumps(i, ensure_ascii=False, separators=(",", ":")).encode()) for i in everything]
    count0, steps0 = db_counts(db_path)

    # Does a batch of the asked size get in at all? (the body limit is MAX_CONTENT_LENGTH)
    probe_body = encode(probe_items)
    conn = HttpConnection(target.host, target.port, args.timeout * 6)
    status, raw = await conn.send(conn.build("POST", "/api/v1/dossiers/batch", probe_body,
                                             {"Authorization": f"Bearer {token}"}))
    await conn.close()
    probe_created = json.loads(raw)["created"] if status == 200 else 0
    probe = {"items": len(probe_items), "body_bytes": len(probe_body), "status": status,
             "accepted": status == 200, "created": probe_created,
             "answer": None if status == 200 else raw[:300].decode(errors="replace")}
    log(f"probe: one batch of {len(probe_items)} dossiers ({len(probe_body):,} bytes) → HTTP {status}")
    phases = []
    for name, concurrency, items in (("sequential", 1, seq_items),
                                     ("concurrent", args.ingest_concurrency, c2_items)):
        if not items:
            continue
        batches = pack(items, args.batch_size, 10**9 if status == 200 else max_bytes)
        quiet = await wait_for_quiet(args.wait_quiet)
        phase = await ingest_phase(target, token, batches, concurrency, args.timeout * 6, sampler)
        phase["quiet_check_before"] = quiet
        phases.append({"phase": name, **phase})
        lat = phase["batch_latency_ms"]
        log(f"ingest c={concurrency}: {phase['created']} created in {phase['duration_s']} s = "
            f"{phase['dossiers_per_s']} dossiers/s ({phase['items_per_batch']['mean']} per batch), batch p50 "
            f"{lat['p50']} p99 {lat['p99']} ms, errors {phase['errors']}, server CPU "
            f"{phase['cpu']['server_utilisation']} ({phase['server_cpu_ms_per_dossier']} ms/dossier), other "
            f"{phase['cpu']['other_utilisation']}")
    count1, steps1 = db_counts(db_path)
    created = sum(p["created"] for p in phases) + probe_created
    steps_expected = sum(p["steps_sent"] for p in phases) + (
        sum(len(i["steps"]) for i in probe_items) if probe_created else 0)
    check = {"dossiers_before": count0, "dossiers_after": count1, "grew_by": count1 - count0,
             "created_reported": created, "sent": sum(p["dossiers_sent"] for p in phases),
             "steps_grew_by": steps1 - steps0, "steps_sent": steps_expected}
    check["ok"] = (check["grew_by"] == created == check["sent"] + probe_created
                   and check["steps_grew_by"] == steps_expected)
    log(f"row count: {count0:,} → {count1:,} (+{count1 - count0:,}, expected +{created:,}); steps "
        f"+{steps1 - steps0:,} (expected +{steps_expected:,}): {'ok' if check['ok'] else 'MISMATCH'}")
    return {"requested_batch_size": args.batch_size, "max_content_length": max_bytes,
            "item_bytes": {"mean": round(sum(item_bytes) / len(item_bytes)), "max": max(item_bytes)},
            "probe_full_batch": probe,
            "batch_size_used": args.batch_size if status == 200 else
            f"as many as fit in {max_bytes:,} bytes (at most {args.batch_size})",
            "code_date": day.isoformat(), "phases": phases, "count_check": check}


# --- the run -----------------------------------------------------------------------------------------

def parse_args():  # noqa: ANN201
    parser = base_parser(NAME, " ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--dossiers", type=int, default=FLOOR_DOSSIERS,
                        help="dossiers to seed (default 1,000,000; e.g. 100000 for a quick run)")
    parser.add_argument("--days", type=int, default=620, help="working-day span the seeded dossiers cover, roughly")
    parser.add_argument("--seed-chunk", type=int, default=100_000, help="dossiers per seeding transaction")
    parser.add_argument("--random-seed", type=int, default=20251, help="seed of the generated data")
    parser.add_argument("--concurrency", type=parse_int_list, default=[1, 16],
                        help="lookup concurrency levels (default 1,16)")
    parser.add_argument("--lookups", type=int, default=5000, help="lookups per level (default 5000)")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured lookups first (default 500)")
    parser.add_argument("--unknown-share", type=float, default=0.05, help="share of well-formed unknown codes")
    parser.add_argument("--malformed-share", type=float, default=0.05, help="share of malformed codes")
    parser.add_argument("--in-process", type=int, default=10000,
                        help="DossierService.lookup calls timed in-process (default 10000; 0: skip)")
    parser.add_argument("--breakdown", type=int, default=2000, help="lookups timed part by part in-process")
    parser.add_argument("--ingest", type=int, default=20000,
                        help="dossiers to ingest, half sequentially, half concurrently (default 20000; 0: skip)")
    parser.add_argument("--batch-size", type=int, default=500, help="dossiers per batch request (default 500)")
    parser.add_argument("--ingest-concurrency", type=int, default=2, help="connections of the second phase")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (ingest: ×6)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="a lookup level stops after this long")
    parser.add_argument("--database", type=Path,
                        help="with --url: the server's SQLite file (already holding dossiers; nothing is seeded)")
    parser.add_argument("--token", help="with --url: an integrator device token, for the ingest phases")
    args = parser.parse_args()
    if args.url and not args.database:
        parser.error("--url needs --database (the server's SQLite file): codes are sampled from it")
    if args.dossiers < 1 or args.batch_size < 1 or args.batch_size > 1000:
        parser.error("--dossiers ≥ 1 and 1 ≤ --batch-size ≤ 1000")
    return args


async def bench(args, target, db_path: Path, token: str | None) -> dict:  # noqa: ANN001
    rng = random.Random(args.random_seed + 1)
    n_codes = min(20000, max(1000, args.lookups))
    t0 = time.perf_counter()
    found, unknown = sample_codes(db_path, n_codes, rng)
    log(f"sampled {len(found)} existing and {len(unknown)} unknown codes in {time.perf_counter() - t0:.1f} s")
    sampler = RssSampler(target.worker_pid)
    await asyncio.sleep(1.0)
    rss_idle = rss_mb(target.worker_pid)
    sampler.start()
    warmup = None
    if args.warmup:
        log(f"warm-up: {args.warmup} lookups at concurrency 4")
        warmup = await lookup_level(target, 4, lookup_requests(rng, found, unknown, args.warmup, args.unknown_share,
                                                               args.malformed_share),
                                    args.timeout, args.max_seconds, sampler)
    levels = []
    for concurrency in args.concurrency:
        quiet = await wait_for_quiet(args.wait_quiet)
        plan = lookup_requests(rng, found, unknown, args.lookups, args.unknown_share, args.malformed_share)
        level = await lookup_level(target, concurrency, plan, args.timeout, args.max_seconds, sampler)
        level["quiet_check_before"] = quiet
        levels.append(level)
        c = level["client_latency_ms"]["found"]
        s = level["server_histogram"].get("found", {})
        log(f"lookup c={concurrency}: {level['ok']} ok, {level['errors']} errors, {level['throughput_per_s']}/s; found "
            f"p50 {c['p50']} p99 {c['p99']} max {c['max']} ms; server (histogram) p50≈{s.get('p50_est_ms')} "
            f"p99≈{s.get('p99_est_ms')} ms (bucket ≤{s.get('p99_bucket_le_ms')}); server CPU "
            f"{level['cpu']['server_utilisation']} ({level['server_cpu_ms_per_lookup']} ms/lookup), client "
            f"{level['cpu']['client_utilisation']}, other {level['cpu']['other_utilisation']}")
    inproc = None
    if args.in_process:
        quiet = await wait_for_quiet(args.wait_quiet)
        log(f"in-process: {args.in_process} DossierService.lookup calls")
        window = CpuWindow(target.worker_pid)
        inproc = in_process(db_path, found, unknown, args.in_process, args.breakdown, rng)
        inproc["cpu"] = window.result()
        inproc["quiet_check_before"] = quiet
        f = inproc["found_ms"]
        fc = inproc["found_thread_cpu_ms"]
        log(f"in-process found p50 {f['p50']} p99 {f['p99']} max {f['max']} ms (thread CPU p50 {fc['p50']} p99 "
            f"{fc['p99']} ms; other processes {inproc['cpu']['other_utilisation']} cores; gc "
            f"{inproc['gc_collections_during_found']}); parts p50/p99: " + ", ".join(
            f"{k} {v['p50']}/{v['p99']}" for k, v in inproc["breakdown_ms"].items())
            + f"; raw sqlite selects {inproc['raw_sqlite_two_selects_ms']['p50']}/"
              f"{inproc['raw_sqlite_two_selects_ms']['p99']} ms")
    ingest_result = None
    if args.ingest and token:
        ingest_result = await ingest(args, target, token, db_path, rng, sampler)
    elif args.ingest:
        log("no integrator token (--token): ingest skipped")
    peak = await sampler.stop()
    return {"codes_sampled": {"found": len(found), "unknown": len(unknown), "malformed_variants": len(MALFORMED)},
            "warmup": warmup, "lookup_levels": levels, "in_process": inproc, "ingest": ingest_result,
            "rss_mb": {"idle_before_load": rss_idle, "peak": peak, "after": rss_mb(target.worker_pid)}}


def floors_of(result: dict, dossiers_in_db: int) -> dict:
    inproc = result["in_process"]
    ingest_result = result["ingest"]
    seq = next((p for p in ingest_result["phases"] if p["phase"] == "sequential"), None) if ingest_result else None
    at_scale = dossiers_in_db >= FLOOR_DOSSIERS
    server_p99 = inproc["found_ms"]["p99"] if inproc else None
    out = {
        "server_lookup_p99_ms": {**floor(server_p99 if at_scale else None, FLOOR_SERVER_P99_MS, "max"),
                                 "measured": server_p99,
                                 "cpu_time_p99_ms": inproc["found_thread_cpu_ms"]["p99"] if inproc else None,
                                 "other_processes_cores": inproc["cpu"]["other_utilisation"] if inproc else None,
                                 "source": "DossierService.lookup in-process, existing codes, wall time "
                                           "(cpu_time_p99_ms: the same calls' thread CPU time, which other "
                                           "processes' load does not inflate)"},
        "ingest_sequential_per_s": {**floor(seq["dossiers_per_s"] if seq and at_scale else None, FLOOR_INGEST_PER_S,
                                            "min"),
                                    "measured": seq["dossiers_per_s"] if seq else None,
                                    "source": "POST /api/v1/dossiers/batch, one connection"},
    }
    if not at_scale:
        for f in out.values():
            f["note"] = f"only {dossiers_in_db:,} dossiers: floors apply at {FLOOR_DOSSIERS:,}"
    return out


def summary(result: dict) -> str:
    parts = []
    seeding = result.get("seeding")
    parts.append(f"{result['dossiers_in_db']:,} dossiers" + (f" seeded in {seeding['seconds']} s" if seeding else ""))
    for lv in result["lookup_levels"]:
        c = lv["client_latency_ms"]["found"]
        s = lv["server_histogram"].get("found", {})
        parts.append(f"lookup c{lv['concurrency']} {lv['throughput_per_s']}/s p50 {c['p50']} p99 {c['p99']} max "
                     f"{c['max']} ms (server≈{s.get('p50_est_ms')}/{s.get('p99_est_ms')}) err {lv['errors']}")
    ip = result["in_process"]
    if ip:
        parts.append(f"in-process p50 {ip['found_ms']['p50']} p99 {ip['found_ms']['p99']} ms (CPU p99 "
                     f"{ip['found_thread_cpu_ms']['p99']} ms, other processes {ip['cpu']['other_utilisation']} cores)")
    ing = result["ingest"]
    if ing:
        probe = ing["probe_full_batch"]
        text = " ".join(f"c{p['concurrency']} {p['dossiers_per_s']}/s (batch p50 {p['batch_latency_ms']['p50']} "
                        f"p99 {p['batch_latency_ms']['p99']} ms, {p['items_per_batch']['mean']}/batch)"
                        for p in ing["phases"])
        parts.append(f"ingest {text}; batch of {probe['items']} → HTTP {probe['status']}; count "
                     f"{'ok' if ing['count_check']['ok'] else 'MISMATCH'}")
    floors = result["floors"]
    if any(f["pass"] is False for f in floors.values()):
        verdict = "FAIL(" + ",".join(f"{k}={f['measured']}" for k, f in floors.items() if f["pass"] is False) + ")"
    elif all(f["pass"] for f in floors.values()):
        verdict = "PASS"
    else:
        verdict = "n/a (" + ", ".join(sorted({f["note"] for f in floors.values() if f.get("note")}) or
                                      ["not measured"]) + ")"
    verdict += " [" + ", ".join(f"{k} {f['measured']} vs {'≤' if f['kind'] == 'max' else '≥'} {f['limit']:g}"
                                for k, f in floors.items()) + "]"
    return f"{NAME}: " + " | ".join(parts) + f" | floors {verdict}"


def main() -> int:
    args = parse_args()
    os.environ.pop("DATABASE_URL", None)  # the server under test uses the SQLite file in its var dir
    started = time.time()
    seeding: dict = {}
    state: dict = {}

    def load(server) -> None:  # noqa: ANN001
        db_path = server.var_dir / "motcua.db"
        log(f"seeding {args.dossiers:,} dossiers into {db_path}")
        seeding.update(seed_database(db_path, args.dossiers, args.random_seed,
                                     datetime.now(LOCAL_TZ).date(), args.days, args.seed_chunk))
        log(f"seeded {seeding['dossiers']:,} dossiers and {seeding['steps']:,} steps in {seeding['seconds']} s "
            f"(generate {seeding['generate_s']} s, insert {seeding['insert_s']} s), {seeding['db_size_mb']} MB")
        state["db_path"] = db_path

    env = {"LOOKUPS_PER_MINUTE_ADDRESS": UNLIMITED, "LOOKUPS_PER_MINUTE_KIOSK": UNLIMITED}
    with target_server(args, extra_env=env, before_start=load) as target:
        db_path = state.get("db_path") or args.database
        token = args.token
        if target.process is not None and args.ingest:
            token = target.process.device_token("integrator", "bench-integrator")
        load_before = load_average()
        dossiers_in_db = db_counts(db_path)[0]
        body = asyncio.run(bench(args, target, db_path, token))
        server = target.describe()
    body["floors"] = floors_of(body, dossiers_in_db)
    problems = []
    for lv in body["lookup_levels"]:
        if lv["errors"]:
            problems.append(f"lookup c{lv['concurrency']}: {lv['errors']} errors {lv['error_kinds']}")
    if body["ingest"]:
        ing = body["ingest"]
        if not ing["probe_full_batch"]["accepted"]:
            probe = ing["probe_full_batch"]
            problems.append(f"a batch of {ing['requested_batch_size']} dossiers ({probe['body_bytes']:,}"
                            f" bytes) is refused with HTTP {ing['probe_full_batch']['status']}: the body limit "
                            f"MAX_CONTENT_LENGTH is {ing['max_content_length']:,} bytes, though the batch API "
                            f"accepts up to 1,000 items")
        if not ing["count_check"]["ok"]:
            problems.append(f"row count check failed: {ing['count_check']}")
        for p in ing["phases"]:
            if p["errors"]:
                problems.append(f"ingest c{p['concurrency']}: {p['errors']} errors {p['error_kinds']}")
    result = {"benchmark": NAME, "command": " ".join([".venv/bin/python", "bench/dossier_lookup.py", *sys.argv[1:]]),
              "git": git_revision(), "machine": machine(), "server": server,
              "config": {"dossiers": args.dossiers, "lookup_concurrency": args.concurrency,
                         "lookups_per_level": args.lookups, "warmup": args.warmup,
                         "unknown_share": args.unknown_share, "malformed_share": args.malformed_share,
                         "in_process_calls": args.in_process, "ingest_dossiers": args.ingest,
                         "batch_size": args.batch_size, "ingest_concurrency": [1, args.ingest_concurrency],
                         "server_env": env, "timeout_s": args.timeout,
                         "client": "asyncio streams, raw HTTP/1.1 keep-alive, one connection per concurrent worker",
                         "server_side_note": "server histogram = /metrics motcua_http_request_duration_seconds "
                                             "difference before/after a level (before_request → after_request; "
                                             "with the gevent worker it includes the gevent.sleep(0) turn-taking, "
                                             "so at concurrency > 1 it contains time spent on other requests)"},
              "load_average": {"before": load_before, "after": load_average()},
              "dossiers_in_db": dossiers_in_db, "seeding": seeding or None, **body, "problems": problems,
              "elapsed_s": round(time.time() - started, 1)}
    write_result(args.out, result)
    print(summary(result), flush=True)
    failed = any(f["pass"] is False for f in result["floors"].values())
    broken = bool(body["ingest"] and not body["ingest"]["count_check"]["ok"])
    return 1 if broken or (args.strict and failed) else 0


if __name__ == "__main__":
    sys.exit(main())

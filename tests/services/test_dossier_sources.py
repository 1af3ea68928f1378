"""Export files and the provincial system's HTTP JSON feed, through the real import path."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import sqlalchemy as sa

from queue_server.domain.clock import ManualClock
from queue_server.persistence.database import Database
from queue_server.persistence.tables import dossier_steps, dossiers
from queue_server.services.dossier_sources import (
    FieldMapping,
    HttpJsonSource,
    import_records,
    read_file,
    record_to_input,
)
from queue_server.services.dossiers import DossierService

PORTAL_RECORD = {
    "MaHoSo": "000.00.12.H56-250915-0007", "TenTTHC": "Đăng ký khai sinh", "MaTTHC": "1.001193",
    "TenLinhVuc": "Hộ tịch", "ChuHoSo": "Nguyễn Văn An", "SoGiayToChuHoSo": "001203004567",
    "KenhThucHien": "1", "NgayTiepNhan": "20250915081000", "NgayHenTra": "20250922170000", "TrangThaiHoSo": "4",
}


@pytest.fixture
def service(db: Database, clock: ManualClock) -> DossierService:
    return DossierService(db, clock, b"test-key")


def count(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(dossiers)).scalar_one()


def test_portal_record_maps_with_local_times() -> None:
    item = record_to_input(PORTAL_RECORD, FieldMapping(), "Asia/Ho_Chi_Minh")
    assert item.code == "000.00.12.H56-250915-0007" and item.status == 4 and item.channel == 1
    assert item.received_at.isoformat() == "2025-09-15T08:10:00+07:00"
    assert item.owner_id == "001203004567"


def test_csv_and_json_exports(tmp_path: Path, db: Database, service: DossierService) -> None:
    csv_path = tmp_path / "export.csv"
    header = list(PORTAL_RECORD)
    rows = [",".join(header)]
    for n in range(1, 4):
        rec = dict(PORTAL_RECORD, MaHoSo=f"000.00.12.H56-250915-{n:04d}")
        rows.append(",".join(str(rec[h]) for h in header))
    rows.append(",".join(str(dict(PORTAL_RECORD, MaHoSo="broken")[h]) for h in header))
    csv_path.write_text("\ufeff" + "\n".join(rows) + "\n", encoding="utf-8")
    report = import_records(service, read_file(csv_path), FieldMapping(), "Asia/Ho_Chi_Minh", "import")
    assert (report.created, report.updated) == (3, 0) and len(report.rejected) == 1
    json_path = tmp_path / "export.json"
    json_path.write_text(json.dumps({"data": [dict(PORTAL_RECORD, MaHoSo="000.00.12.H56-250915-0001",
                                                   TrangThaiHoSo="9")]}, ensure_ascii=False))
    report = import_records(service, read_file(json_path), FieldMapping(), "Asia/Ho_Chi_Minh", "import")
    assert (report.created, report.updated, report.rejected) == (0, 1, [])
    assert count(db) == 3
    with db.read() as conn:
        statuses = [r.status for r in conn.execute(sa.select(dossier_steps.c.status).order_by(dossier_steps.c.id))]
    assert statuses.count(9) == 1


def test_custom_mapping(service: DossierService, db: Database) -> None:
    mapping = FieldMapping.from_dict({"code": "ma", "status": "tt", "received_at": "nhan", "appointment_at": "hen",
                                      "procedure_name": "thu_tuc"})
    report = import_records(service, [{"ma": "H56.1-250101-0001", "tt": 2, "nhan": "2025-01-01T08:00:00+07:00",
                                       "hen": "2025-01-05T17:00:00+07:00", "thu_tuc": "Chứng thực"}],
                            mapping, "Asia/Ho_Chi_Minh", "import")
    assert report.created == 1 and count(db) == 1
    with pytest.raises(ValueError):
        FieldMapping.from_dict({"nonsense": "x"})


@pytest.mark.parametrize(("changes", "reason"), [
    ({"NgayTiepNhan": "yesterday"}, "not a valid time"),
    ({"NgayHenTra": ""}, "missing"),
    ({"TrangThaiHoSo": "12"}, "from 1 to 10"),
    ({"KenhThucHien": "x"}, "must be a number"),
    ({"MaHoSo": ""}, "missing"),
])
def test_bad_records_are_reported_and_skipped(service: DossierService, db: Database, changes: dict,
                                              reason: str) -> None:
    good = dict(PORTAL_RECORD, MaHoSo="000.00.12.H56-250915-0100")
    report = import_records(service, [dict(PORTAL_RECORD, **changes), good], FieldMapping(), "Asia/Ho_Chi_Minh",
                            "import")
    assert report.created == 1 and len(report.rejected) == 1
    assert report.rejected[0][0] == 1 and reason in report.rejected[0][1]


class _Portal(BaseHTTPRequestHandler):
    records: list = []

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("Authorization") != "Bearer s3cret":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"items": self.records}, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def portal():  # noqa: ANN201
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/hoso"
    server.shutdown()
    server.server_close()


def test_pull_from_a_local_http_server(portal: str, service: DossierService, db: Database) -> None:
    _Portal.records = [dict(PORTAL_RECORD, MaHoSo=f"000.00.12.H56-250916-{n:04d}") for n in range(1, 26)]
    report = import_records(service, HttpJsonSource(portal, token="s3cret").fetch(), FieldMapping(),
                            "Asia/Ho_Chi_Minh", "pull")
    assert report.created == 25 and count(db) == 25
    _Portal.records[0]["TrangThaiHoSo"] = "9"
    report = import_records(service, HttpJsonSource(portal, token="s3cret").fetch(), FieldMapping(),
                            "Asia/Ho_Chi_Minh", "pull")
    assert (report.created, report.updated) == (0, 25)
    with pytest.raises(OSError):
        HttpJsonSource(portal, token="wrong").fetch()

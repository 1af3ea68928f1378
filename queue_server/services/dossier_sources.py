"""Where dossiers come from besides the API: export files (CSV, JSON) and the provincial system.

Field names default to those of the national public-service portal's dossier records
(MaHoSo, TrangThaiHoSo, NgayTiepNhan, NgayHenTra, …); an office maps its own with a JSON
mapping. Times may be ISO 8601 or the portal's compact yyyyMMddHHmmss; times without a zone
are read in the office's time zone.
"""
from __future__ import annotations

import csv
import json
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from ..domain.errors import DomainError, InvalidInput
from .dossiers import DossierInput, DossierService


@dataclass(frozen=True)
class FieldMapping:
    """Our field → the source's field."""
    code: str = "MaHoSo"
    procedure_name: str = "TenTTHC"
    procedure_code: str = "MaTTHC"
    field_name: str = "TenLinhVuc"
    owner_name: str = "ChuHoSo"
    owner_id: str = "SoGiayToChuHoSo"
    channel: str = "KenhThucHien"
    received_at: str = "NgayTiepNhan"
    appointment_at: str = "NgayHenTra"
    status: str = "TrangThaiHoSo"
    status_at: str = "NgayCapNhat"
    apology_new_date: str = "NgayHenTraMoi"
    return_counter: str = "QuayTraKetQua"
    postal: str = "TraKetQuaBuuChinh"

    @classmethod
    def from_dict(cls, data: dict) -> FieldMapping:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fields in mapping: {sorted(unknown)}; known: {sorted(known)}")
        if not all(isinstance(v, str) and v for v in data.values()):
            raise ValueError("every mapping value must be a non-empty source field name")
        return cls(**data)


def parse_time(value: object, tz: str, what: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = (datetime.strptime(text, "%Y%m%d%H%M%S") if text.isdigit() and len(text) == 14
                      else datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            raise InvalidInput(f"«{what}» không phải thời điểm hợp lệ: {text[:40]}",
                               f"“{what}” is not a valid time: {text[:40]}", code="bad_time") from None
    else:
        raise InvalidInput(f"Thiếu «{what}».", f"“{what}” is missing.", code="missing_field")
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(tz))


def _int(value: object, what: str, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidInput(f"«{what}» phải là số.", f"“{what}” must be a number.", code="bad_number") from None
    if not low <= number <= high:
        raise InvalidInput(f"«{what}» phải từ {low} đến {high}.", f"“{what}” must be from {low} to {high}.",
                           code="bad_number")
    return number


def record_to_input(record: dict, mapping: FieldMapping, tz: str) -> DossierInput:
    def get(name: str) -> object:
        value = record.get(getattr(mapping, name))
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    if get("code") is None:
        raise InvalidInput(f"Thiếu mã hồ sơ ({mapping.code}).", f"The dossier code ({mapping.code}) is missing.",
                           code="missing_field")
    owner_id = get("owner_id")
    return DossierInput(
        code=str(get("code")).strip(),
        procedure_name=str(get("procedure_name") or "")[:500] or "(không rõ thủ tục)",
        procedure_code=str(get("procedure_code"))[:64] if get("procedure_code") else None,
        field_name=str(get("field_name") or "")[:300],
        owner_name=str(get("owner_name") or "")[:200],
        owner_id="".join(ch for ch in str(owner_id) if ch.isalnum())[:20] if owner_id else None,
        channel=_int(get("channel") or 1, mapping.channel, 1, 3),
        received_at=parse_time(get("received_at"), tz, mapping.received_at),
        appointment_at=parse_time(get("appointment_at"), tz, mapping.appointment_at),
        status=_int(get("status"), mapping.status, 1, 10),
        status_at=parse_time(get("status_at"), tz, mapping.status_at) if get("status_at") else None,
        apology_new_date=(parse_time(get("apology_new_date"), tz, mapping.apology_new_date)
                          if get("apology_new_date") else None),
        return_counter=_int(get("return_counter"), mapping.return_counter, 1, 999) if get("return_counter") else None,
        postal=str(get("postal") or "").strip().lower() in ("1", "true", "co", "có", "x"),
    )


def read_file(path: Path) -> Iterator[dict]:
    """Rows of a CSV export (UTF-8, with or without BOM) or records of a JSON export."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as handle:
            yield from csv.DictReader(handle)
        return
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    yield from _records(data)


def _records(data: object) -> list[dict]:
    if isinstance(data, dict):
        for key in ("items", "data", "result", "HoSo"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError("expected a list of records, or an object holding one under items/data/result/HoSo")
    return data


class DossierSource(Protocol):
    """The provincial one-stop system, seen from here: something that hands over dossier records."""

    def fetch(self) -> list[dict]: ...


@dataclass
class HttpJsonSource:
    """Pulls records from an HTTP JSON endpoint (GET, optional bearer token)."""
    url: str
    token: str | None = None
    timeout_s: float = 20.0
    headers: dict = field(default_factory=dict)

    def fetch(self) -> list[dict]:
        headers = {"Accept": "application/json", **self.headers}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, headers=headers)
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:   # noqa: S310 - configured URL
            return _records(json.loads(response.read().decode("utf-8-sig")))


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)   # (record number from 1, reason)


def import_records(service: DossierService, records: Iterable[dict], mapping: FieldMapping, tz: str,
                   source: str, batch_size: int = 500) -> ImportReport:
    """Good records land in batches; a bad one is reported by its number and skipped."""
    report = ImportReport()
    batch: list[DossierInput] = []

    def flush() -> None:
        if not batch:
            return
        try:
            results = service.upsert_many(batch, source)
        except DomainError:
            results = []
            for item in batch:                  # find the culprit, keep the rest
                try:
                    results.append(service.upsert(item, source))
                except DomainError as exc:
                    report.rejected.append((-1, f"{item.code}: {exc.message_en}"))
        for result in results:
            if result["created"]:
                report.created += 1
            else:
                report.updated += 1
        batch.clear()

    for number, record in enumerate(records, 1):
        try:
            batch.append(record_to_input(record, mapping, tz))
        except DomainError as exc:
            report.rejected.append((number, exc.message_en))
        if len(batch) >= batch_size:
            flush()
    flush()
    return report

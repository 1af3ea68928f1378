"""The slip is the contract between server and agent: it must survive JSON exactly and refuse
anything malformed with a message that says where."""
from __future__ import annotations

import json

import pytest

from hardware.slip import (
    BarcodeBlock,
    ColumnsBlock,
    NumberBlock,
    QrBlock,
    RuleBlock,
    Slip,
    SpaceBlock,
    TextBlock,
    printer_test_slip,
    slip_id_for,
    ticket_slip,
)

from .conftest import TRACK_URL, demo_ticket


def every_block_slip() -> Slip:
    return Slip("receipt-000.00.12.H56-250915-0007", "receipt", (
        TextBlock("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", size="large", bold=True, align="center"),
        TextBlock("Dòng một\nDòng hai", size="small", align="left"),
        NumberBlock("A025"),
        QrBlock("https://example.invalid/hs/000.00.12.H56-250915-0007", caption="Tra cứu hồ sơ"),
        QrBlock("Mã hồ sơ: 000.00.12.H56-250915-0007"),
        BarcodeBlock("000.00.12.H56-250915-0007"),
        RuleBlock(),
        SpaceBlock(24),
        ColumnsBlock("Số bộ hồ sơ:", "01", size="normal", bold=True),
    ))


@pytest.mark.parametrize("slip", [every_block_slip(), demo_ticket(), printer_test_slip()], ids=["blocks", "ticket",
                                                                                               "test-page"])
def test_json_round_trip(slip: Slip) -> None:
    wire = json.loads(json.dumps(slip.to_dict()))
    assert Slip.from_dict(wire) == slip


def test_to_dict_shape() -> None:
    data = Slip("t-1", "test", (TextBlock("Xin chào"), SpaceBlock(8))).to_dict()
    assert data == {"id": "t-1", "kind": "test", "blocks": [
        {"type": "text", "text": "Xin chào", "size": "normal", "bold": False, "align": "center"},
        {"type": "space", "height": 8}]}


def test_defaults_fill_in_optional_fields() -> None:
    slip = Slip.from_dict({"id": "x", "kind": "ticket", "blocks": [{"type": "text", "text": "a"}, {"type": "rule"}]})
    assert slip.blocks == (TextBlock("a"), RuleBlock())


def test_text_is_nfc_normalised() -> None:
    decomposed = "Vie\u0302\u0323t"            # "Việt" typed with combining marks
    assert TextBlock(decomposed).text == "Việt"


GOOD = {"id": "ticket-A025", "kind": "ticket", "blocks": [{"type": "number", "text": "A025"}]}


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.pop("id"), "missing field 'id'"),
    (lambda d: d.update(extra=1), "unknown field(s): extra"),
    (lambda d: d.update(id="../etc/passwd"), "slip.id"),
    (lambda d: d.update(id=""), "slip.id"),
    (lambda d: d.update(kind="letter"), "slip.kind"),
    (lambda d: d.update(blocks=[]), "at least one block"),
    (lambda d: d.update(blocks={"type": "rule"}), "expected a list"),
    (lambda d: d.update(blocks=["rule"]), "slip.blocks[0]: expected an object"),
    (lambda d: d.update(blocks=[{"type": "image"}]), "slip.blocks[0].type"),
    (lambda d: d.update(blocks=[{"type": "text"}]), "missing field(s) for a text block: text"),
    (lambda d: d.update(blocks=[{"type": "text", "text": "a", "colour": "red"}]), "unknown field(s)"),
    (lambda d: d.update(blocks=[{"type": "text", "text": 5}]), "expected a string"),
    (lambda d: d.update(blocks=[{"type": "text", "text": "a", "size": "huge"}]), "text.size"),
    (lambda d: d.update(blocks=[{"type": "text", "text": "a", "align": "justify"}]), "text.align"),
    (lambda d: d.update(blocks=[{"type": "text", "text": "a", "bold": 1}]), "text.bold"),
    (lambda d: d.update(blocks=[{"type": "text", "text": "a\x1b@"}]), "control"),
    (lambda d: d.update(blocks=[{"type": "number", "text": ""}]), "must not be empty"),
    (lambda d: d.update(blocks=[{"type": "number", "text": "A" * 13}]), "longer than 12"),
    (lambda d: d.update(blocks=[{"type": "qr", "data": ""}]), "qr.data"),
    (lambda d: d.update(blocks=[{"type": "qr", "data": "x" * 601}]), "600 bytes"),
    (lambda d: d.update(blocks=[{"type": "barcode", "data": "Mã"}]), "printable ASCII"),
    (lambda d: d.update(blocks=[{"type": "barcode", "data": ""}]), "printable ASCII"),
    (lambda d: d.update(blocks=[{"type": "space", "height": 0}]), "space.height"),
    (lambda d: d.update(blocks=[{"type": "space", "height": 2.5}]), "space.height"),
    (lambda d: d.update(blocks=[{"type": "space", "height": True}]), "space.height"),
    (lambda d: d.update(blocks=[{"type": "columns", "left": "a"}]), "missing field(s) for a columns block: right"),
])
def test_from_dict_refuses_bad_input(mutate, message: str) -> None:  # noqa: ANN001
    data = json.loads(json.dumps(GOOD))
    mutate(data)
    with pytest.raises(ValueError) as err:
        Slip.from_dict(data)
    assert message in str(err.value)


def test_from_dict_refuses_non_objects() -> None:
    with pytest.raises(ValueError, match="slip: expected an object"):
        Slip.from_dict([GOOD])


def test_ticket_layout_follows_the_domain() -> None:
    slip = ticket_slip(
        office_name="UBND PHƯỜNG BA ĐÌNH", office_lines=["Số 10 Phố Đội Cấn", " "], number="A025",
        service_name="Chứng thực", people_ahead=3, issued_text="08:15 — 23/11/2026", session_text="Buổi: Sáng",
        qr_url=TRACK_URL, footer="Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!",
        priority_text="Ưu tiên: Người cao tuổi", english_lines=["Queue ticket"],
    )
    assert slip.kind == "ticket" and slip.id == "ticket-A025"
    texts = [b.text for b in slip.blocks if isinstance(b, TextBlock)]
    assert texts == ["UBND PHƯỜNG BA ĐÌNH", "Số 10 Phố Đội Cấn", "PHIẾU SỐ THỨ TỰ", "Ưu tiên: Người cao tuổi",
                     "Chứng thực", "Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!", "Queue ticket"]
    assert [b for b in slip.blocks if isinstance(b, NumberBlock)] == [NumberBlock("A025")]
    columns = [(b.left, b.right) for b in slip.blocks if isinstance(b, ColumnsBlock)]
    assert columns == [("Số người chờ trước:", "3"), ("08:15 — 23/11/2026", "Buổi: Sáng")]
    assert [b.data for b in slip.blocks if isinstance(b, QrBlock)] == [TRACK_URL]


def test_ticket_without_qr_and_with_own_id() -> None:
    slip = ticket_slip("Văn phòng", [], "1001", "Hộ tịch", 0, "07:30", "Buổi: Sáng", None, slip_id="job-17")
    assert slip.id == "job-17"
    assert not any(isinstance(b, QrBlock) for b in slip.blocks)


@pytest.mark.parametrize("ahead", [-1, True, "3"])
def test_ticket_refuses_bad_people_ahead(ahead: object) -> None:
    with pytest.raises(ValueError, match="people_ahead"):
        ticket_slip("Văn phòng", [], "A1", "Hộ tịch", ahead, "07:30", "Buổi: Sáng", None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "expected"),
                         [("A025", "ticket-A025"), ("Số 7/Đ", "ticket-So-7-D"), ("!!", "ticket-x")])
def test_slip_ids_are_file_name_safe(text: str, expected: str) -> None:
    assert slip_id_for("ticket", text) == expected
    Slip(expected, "ticket", (RuleBlock(),))

"""A paper slip as plain data: the contract between the server, which lays slips out, and the agent,
which prints them.

The server puts `Slip.to_dict()` into a print job; the agent rebuilds it with `Slip.from_dict()`.
Both sides may run different versions, so `from_dict` is strict: an unknown block type or field, a
wrong type or an out-of-range value raises ValueError naming the offending path instead of
printing something half right. Slips say *what* goes on paper, never *how* a printer draws it, so
one slip prints on 80 mm and 58 mm paper, as a raster image or with native commands.

Only the standard library is used here, so the server can import this module without Pillow or
python-escpos.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, Literal, get_args

Size = Literal["small", "normal", "large", "xlarge"]
Align = Literal["left", "center", "right"]
SlipKind = Literal["ticket", "receipt", "apology", "test"]

SIZES: tuple[str, ...] = get_args(Size)
ALIGNS: tuple[str, ...] = get_args(Align)
SLIP_KINDS: tuple[str, ...] = get_args(SlipKind)

MAX_TEXT = 2000          # one text block; a receipt's document list is several blocks
MAX_QR_DATA = 600        # bytes (UTF-8); beyond this the symbol no longer fits 58 mm paper at 4 px/module
MAX_BARCODE_DATA = 80
MAX_SPACE_PX = 400
MAX_BLOCKS = 300
SLIP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")   # also the preview's file name


def _clean_text(value: Any, path: str, *, allow_newlines: bool, max_len: int = MAX_TEXT,
                allow_empty: bool = True) -> str:
    """Text is NFC-normalised (keyboards and browsers send both forms of "ệ") and free of control
    characters, which a printer would take for commands."""
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a string, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", value)
    for ch in text:
        if ch == "\n" and allow_newlines:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or ch in "\u2028\u2029":
            raise ValueError(f"{path}: control or unassigned character U+{ord(ch):04X} is not allowed")
    if len(text) > max_len:
        raise ValueError(f"{path}: longer than {max_len} characters")
    if not allow_empty and not text.strip():
        raise ValueError(f"{path}: must not be empty")
    return text


def _choice(value: Any, path: str, options: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{path}: expected one of {', '.join(options)}, got {value!r}")
    return value


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{path}: expected true or false, got {value!r}")
    return value


@dataclass(frozen=True)
class TextBlock:
    """Wrapped text; "\\n" forces a line break."""
    text: str
    size: Size = "normal"
    bold: bool = False
    align: Align = "center"
    type: ClassVar[str] = "text"

    def __post_init__(self) -> None:
        object.__setattr__(self, "text", _clean_text(self.text, "text.text", allow_newlines=True))
        _choice(self.size, "text.size", SIZES)
        _choice(self.align, "text.align", ALIGNS)
        _flag(self.bold, "text.bold")


@dataclass(frozen=True)
class NumberBlock:
    """The ticket number, drawn as large as the paper allows: it is what the citizen compares
    with the hall display."""
    text: str
    type: ClassVar[str] = "number"

    def __post_init__(self) -> None:
        text = _clean_text(self.text, "number.text", allow_newlines=False, max_len=12, allow_empty=False)
        object.__setattr__(self, "text", text.strip())


@dataclass(frozen=True)
class QrBlock:
    """A QR code (typically the ticket's tracking URL) with an optional caption under it."""
    data: str
    caption: str | None = None
    type: ClassVar[str] = "qr"

    def __post_init__(self) -> None:
        data = _clean_text(self.data, "qr.data", allow_newlines=True, allow_empty=False)
        if len(data.encode("utf-8")) > MAX_QR_DATA:
            raise ValueError(f"qr.data: longer than {MAX_QR_DATA} bytes")
        object.__setattr__(self, "data", data)
        if self.caption is not None:
            object.__setattr__(self, "caption", _clean_text(self.caption, "qr.caption", allow_newlines=True))


@dataclass(frozen=True)
class BarcodeBlock:
    """A CODE128 barcode with its data printed in clear under it (the dossier code on receipts)."""
    data: str
    type: ClassVar[str] = "barcode"

    def __post_init__(self) -> None:
        if not isinstance(self.data, str):
            raise ValueError(f"barcode.data: expected a string, got {type(self.data).__name__}")
        if not 1 <= len(self.data) <= MAX_BARCODE_DATA or not all(" " <= ch <= "~" for ch in self.data):
            raise ValueError(f"barcode.data: 1–{MAX_BARCODE_DATA} printable ASCII characters, got {self.data!r}")


@dataclass(frozen=True)
class RuleBlock:
    """A horizontal line across the paper."""
    type: ClassVar[str] = "rule"


@dataclass(frozen=True)
class SpaceBlock:
    """Blank paper, in printer dots (203 dpi: 8 dots ≈ 1 mm)."""
    height: int
    type: ClassVar[str] = "space"

    def __post_init__(self) -> None:
        if not isinstance(self.height, int) or isinstance(self.height, bool) or not 1 <= self.height <= MAX_SPACE_PX:
            raise ValueError(f"space.height: expected an integer 1–{MAX_SPACE_PX}, got {self.height!r}")


@dataclass(frozen=True)
class ColumnsBlock:
    """A label on the left and its value on the right of one line ("Số người chờ trước:" / "3")."""
    left: str
    right: str
    size: Size = "normal"
    bold: bool = False
    type: ClassVar[str] = "columns"

    def __post_init__(self) -> None:
        object.__setattr__(self, "left", _clean_text(self.left, "columns.left", allow_newlines=False))
        object.__setattr__(self, "right", _clean_text(self.right, "columns.right", allow_newlines=False))
        _choice(self.size, "columns.size", SIZES)
        _flag(self.bold, "columns.bold")


Block = TextBlock | NumberBlock | QrBlock | BarcodeBlock | RuleBlock | SpaceBlock | ColumnsBlock
BLOCK_TYPES: dict[str, type] = {cls.type: cls for cls in
                                (TextBlock, NumberBlock, QrBlock, BarcodeBlock, RuleBlock, SpaceBlock, ColumnsBlock)}


def block_to_dict(block: Block) -> dict[str, Any]:
    return {"type": block.type, **{f.name: getattr(block, f.name) for f in fields(block)}}


def block_from_dict(data: Any, path: str = "block") -> Block:
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected an object, got {type(data).__name__}")
    kind = data.get("type")
    cls = BLOCK_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"{path}.type: expected one of {', '.join(BLOCK_TYPES)}, got {kind!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known) - {"type"})
    if unknown:
        raise ValueError(f"{path}: unknown field(s) for a {kind} block: {', '.join(unknown)}")
    missing = [name for name, f in known.items() if name not in data and f.default is MISSING]
    if missing:
        raise ValueError(f"{path}: missing field(s) for a {kind} block: {', '.join(missing)}")
    try:
        return cls(**{name: data[name] for name in known if name in data})
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


@dataclass(frozen=True)
class Slip:
    """What to print, top to bottom. `id` names the print (and its preview file); `kind` lets the
    agent and the logs tell tickets from receipts."""
    id: str
    kind: SlipKind
    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not SLIP_ID.match(self.id):
            raise ValueError(f"slip.id: 1–100 characters of A–Z, a–z, 0–9, '.', '_', '-' "
                             f"(starting with a letter or digit), got {self.id!r}")
        _choice(self.kind, "slip.kind", SLIP_KINDS)
        blocks = tuple(self.blocks)
        if not blocks:
            raise ValueError("slip.blocks: a slip needs at least one block")
        if len(blocks) > MAX_BLOCKS:
            raise ValueError(f"slip.blocks: more than {MAX_BLOCKS} blocks")
        for i, block in enumerate(blocks):
            if not isinstance(block, tuple(BLOCK_TYPES.values())):
                raise ValueError(f"slip.blocks[{i}]: not a block: {block!r}")
        object.__setattr__(self, "blocks", blocks)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable; `Slip.from_dict(slip.to_dict()) == slip`."""
        return {"id": self.id, "kind": self.kind, "blocks": [block_to_dict(b) for b in self.blocks]}

    @classmethod
    def from_dict(cls, data: Any) -> Slip:
        if not isinstance(data, Mapping):
            raise ValueError(f"slip: expected an object, got {type(data).__name__}")
        unknown = sorted(set(data) - {"id", "kind", "blocks"})
        if unknown:
            raise ValueError(f"slip: unknown field(s): {', '.join(unknown)}")
        for name in ("id", "kind", "blocks"):
            if name not in data:
                raise ValueError(f"slip: missing field {name!r}")
        raw_blocks = data["blocks"]
        if not isinstance(raw_blocks, list | tuple):
            raise ValueError(f"slip.blocks: expected a list, got {type(raw_blocks).__name__}")
        blocks = tuple(block_from_dict(b, f"slip.blocks[{i}]") for i, b in enumerate(raw_blocks))
        return cls(id=data["id"], kind=data["kind"], blocks=blocks)


TICKET_TITLE = "PHIẾU SỐ THỨ TỰ"
TICKET_FOOTER = "Vui lòng giữ phiếu và chờ gọi số. Xin cảm ơn!"
QR_CAPTION = "Quét mã để theo dõi lượt gọi số"


def slip_id_for(prefix: str, text: str) -> str:
    """A deterministic, file-name-safe id such as "ticket-A025"."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D")).encode("ascii", "ignore")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_text.decode())
    return f"{prefix}-{safe.strip('-.') or 'x'}"[:100]


def ticket_slip(office_name: str, office_lines: Iterable[str], number: str, service_name: str, people_ahead: int,
                issued_text: str, session_text: str, qr_url: str | None, footer: str = TICKET_FOOTER,
                title: str = TICKET_TITLE, priority_text: str | None = None,
                english_lines: Iterable[str] | None = None, slip_id: str | None = None) -> Slip:
    """The queue ticket of a Vietnamese one-stop hall (DOMAIN.md, "Queue behaviour").

    Texts arrive ready to print (the server owns wording and time formats); this only decides the
    order and emphasis, so every kiosk prints the same ticket. `session_text` is printed as given
    (e.g. "Buổi: Sáng").
    """
    if not isinstance(people_ahead, int) or isinstance(people_ahead, bool) or people_ahead < 0:
        raise ValueError(f"people_ahead: expected a non-negative integer, got {people_ahead!r}")
    blocks: list[Block] = [TextBlock(office_name, size="normal", bold=True)]
    blocks += [TextBlock(line, size="small") for line in office_lines if line.strip()]
    blocks += [RuleBlock(), TextBlock(title, size="large", bold=True)]
    if priority_text:
        blocks.append(TextBlock(priority_text, size="normal", bold=True))
    blocks += [
        NumberBlock(number),
        TextBlock(service_name, size="large", bold=True),
        RuleBlock(),
        ColumnsBlock("Số người chờ trước:", str(people_ahead), size="large", bold=True),
        ColumnsBlock(issued_text, session_text),
    ]
    if qr_url:
        blocks += [SpaceBlock(8), QrBlock(qr_url, caption=QR_CAPTION)]
    blocks += [RuleBlock(), TextBlock(footer, size="normal", bold=True)]
    if english_lines:
        blocks += [TextBlock(line, size="small") for line in english_lines if line.strip()]
    return Slip(id=slip_id or slip_id_for("ticket", number), kind="ticket", blocks=tuple(blocks))


def printer_test_slip(title: str = "IN THỬ — MÁY IN PHIẾU", detail_lines: Iterable[str] = (),
              slip_id: str = "test-page") -> Slip:
    """A printer test page: every block kind and the Vietnamese letters that printers get wrong."""
    blocks: list[Block] = [TextBlock(title, size="large", bold=True), RuleBlock()]
    blocks += [TextBlock(line, size="small", align="left") for line in detail_lines]
    blocks += [
        TextBlock("Tiếng Việt: Đăng ký khai sinh, chứng thực bản sao, hỗ trợ chi phí mai táng; "
                  "ỆỮỴẪẶỖỰ ệữỵẫặỗự", align="left"),
        ColumnsBlock("Cột trái", "Cột phải"),
        NumberBlock("A025"),
        QrBlock("https://example.invalid/t/test", caption="Mã QR thử"),
        BarcodeBlock("000.00.12.H56-250915-0007"),
        RuleBlock(),
    ]
    return Slip(id=slip_id, kind="test", blocks=tuple(blocks))



RECEIPT_TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"
APOLOGY_TITLE = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
LOOKUP_CAPTION = "Quét mã để tra cứu tình trạng hồ sơ"


def receipt_slip(issuer: str, unit: str, code: str, applicant: str, procedure: str, received_text: str,
                 appointment_text: str, collect_at: str, lookup_url: str | None, documents: Iterable[str] = (),
                 sets: int | None = None, processing_time: str | None = None) -> Slip:
    """The essentials of form 01 (Giấy tiếp nhận hồ sơ và hẹn trả kết quả) on thermal paper.

    The code is printed three ways a scanner can read it back: as text, as CODE128 and as a QR
    of the public lookup address ending in the code.
    """
    blocks: list[Block] = [TextBlock(issuer, size="normal", bold=True)]
    if unit.strip():
        blocks.append(TextBlock(unit, size="small"))
    blocks += [RuleBlock(), TextBlock(RECEIPT_TITLE, size="normal", bold=True),
               TextBlock(f"Mã hồ sơ: {code}", size="normal", bold=True), BarcodeBlock(code), RuleBlock(),
               TextBlock(f"Người nộp hồ sơ: {applicant}", size="normal", align="left"),
               TextBlock(f"Thủ tục: {procedure}", size="normal", align="left")]
    docs = [d for d in documents if d.strip()]
    if docs:
        blocks.append(TextBlock("Thành phần hồ sơ:", size="normal", bold=True, align="left"))
        blocks += [TextBlock(f"{i}. {d}", size="small", align="left") for i, d in enumerate(docs, 1)]
    if sets:
        blocks.append(TextBlock(f"Số lượng hồ sơ: {sets} bộ", size="normal", align="left"))
    if processing_time:
        blocks.append(TextBlock(f"Thời hạn giải quyết: {processing_time}", size="normal", align="left"))
    blocks += [TextBlock(f"Thời gian nhận hồ sơ: {received_text}", size="normal", align="left"),
               TextBlock(f"Thời gian trả kết quả: {appointment_text}", size="normal", bold=True, align="left"),
               TextBlock(f"Nơi nhận kết quả: {collect_at}", size="normal", align="left")]
    if lookup_url:
        blocks += [SpaceBlock(8), QrBlock(lookup_url, caption=LOOKUP_CAPTION)]
    blocks += [RuleBlock(), ColumnsBlock("Người nộp hồ sơ", "Người tiếp nhận", size="small", bold=True),
               SpaceBlock(56)]
    return Slip(id=slip_id_for("receipt", code), kind="receipt", blocks=tuple(blocks))


def apology_slip(issuer: str, code: str, applicant: str, procedure: str, original_text: str, new_text: str,
                 reason: str, lookup_url: str | None) -> Slip:
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả, for a dossier that will be late."""
    blocks: list[Block] = [
        TextBlock(issuer, size="normal", bold=True), RuleBlock(),
        TextBlock(APOLOGY_TITLE, size="normal", bold=True),
        TextBlock(f"Mã hồ sơ: {code}", size="normal", bold=True), BarcodeBlock(code), RuleBlock(),
        TextBlock(f"{issuer} xin lỗi Ông/Bà {applicant} vì hồ sơ {procedure} chưa được giải quyết đúng hạn.",
                  size="normal", align="left"),
    ]
    if reason.strip():
        blocks.append(TextBlock(f"Lý do: {reason}", size="normal", align="left"))
    blocks += [TextBlock(f"Ngày hẹn trả ban đầu: {original_text}", size="normal", align="left"),
               TextBlock(f"Ngày hẹn trả mới: {new_text}", size="large", bold=True, align="left"),
               TextBlock("Rất mong Ông/Bà thông cảm. Xin trân trọng cảm ơn!", size="normal", align="left")]
    if lookup_url:
        blocks += [SpaceBlock(8), QrBlock(lookup_url, caption=LOOKUP_CAPTION)]
    return Slip(id=slip_id_for("apology", code), kind="apology", blocks=tuple(blocks))

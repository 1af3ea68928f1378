"""Ratings: one per visit, from the counter's tablet or keypad (a rating device bound to the counter) or from
the ticket's tracking page; and the officers' photos the tablet shows.

A rating is bound to what the ticket records: the counter that finished it, the officer who served it
(`served_by`) and its service. The UNIQUE ticket_id of the ratings table is what makes "one per visit"
hold under concurrency: a second insert fails, and that failure is reported as `already_rated`.
"""
from __future__ import annotations

import io
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import IntegrityError

from ..domain import events as ev
from ..domain import ratings as rd
from ..domain.clock import Clock, business_date, from_utc_naive, to_utc_naive
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from ..domain.model import DeviceKind, Role, TicketStatus
from ..persistence.database import Database
from ..persistence.tables import counters, ratings, services, tickets, user_counters, user_photos, users
from . import audit, sequence
from . import offices as directory
from .auth import Principal
from .bus import EventBus

FINISHED = TicketStatus.FINISHED.value
RATING_DEVICES = (DeviceKind.RATING, DeviceKind.AGENT)   # an agent only when its settings name a counter
MAX_TRANSFERS = 20            # a tracking token follows its ticket through at most this many transfers

MAX_PHOTO_BYTES = 2 * 1024 * 1024
PHOTO_PX = 512
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PHOTO_PIXELS = 40_000_000  # a 2 MB file claiming more is a decompression bomb, not a portrait


def staff_cannot_rate() -> Forbidden:
    return Forbidden("Cán bộ không được đánh giá. Chỉ công dân đánh giá, trên máy tính bảng tại quầy hoặc "
                     "trang theo dõi phiếu.",
                     "Staff cannot rate. Citizens rate on the counter's tablet or their ticket's tracking page.",
                     code="staff_cannot_rate")




def normalise_photo(data: bytes) -> bytes:
    """A JPEG of at most PHOTO_PX on its longer side from a JPEG, PNG or WebP upload; InvalidInput otherwise."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    not_an_image = InvalidInput("Tệp gửi lên không phải ảnh JPEG, PNG hoặc WebP hợp lệ.",
                                "The upload is not a valid JPEG, PNG or WebP image.", code="not_an_image")
    if not data:
        raise not_an_image
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in PHOTO_FORMATS:
                raise InvalidInput(f"Ảnh {probe.format or 'này'} không được hỗ trợ; hãy dùng JPEG, PNG hoặc WebP.",
                                   f"{probe.format or 'This'} images are not supported; use JPEG, PNG or WebP.",
                                   code="unsupported_image")
            width, height = probe.size
            if width * height > MAX_PHOTO_PIXELS:
                raise InvalidInput("Ảnh có quá nhiều điểm ảnh.", "The image has too many pixels.",
                                   code="image_too_large")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, "white")
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            elif image.mode != "RGB":
                image = image.convert("RGB")
            image.thumbnail((PHOTO_PX, PHOTO_PX), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            image.save(out, "JPEG", quality=85, optimize=True)
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise not_an_image from exc
    return out.getvalue()


class RatingService:
    def __init__(self, db: Database, clock: Clock, bus: EventBus) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus

    # who rates where -------------------------------------------------------------------------
    def _device_counter(self, conn: Connection, principal: Principal) -> RowMapping:
        """The counter a rating device (or an agent configured with a counter) stands at."""
        if principal.is_user:
            raise staff_cannot_rate()
        if not principal.is_device:
            raise Unauthorized("Cần mã thiết bị đánh giá của quầy.", "A rating device token is required.",
                               code="device_token_required")
        number = principal.device_settings.get("counter")
        if principal.device_kind not in RATING_DEVICES or (
                principal.device_kind is DeviceKind.AGENT and not isinstance(number, int)):
            raise Forbidden("Mã này không phải mã của thiết bị đánh giá. Vui lòng dùng mã thiết bị loại «rating».",
                            "This token does not belong to a rating device. Use a device token of kind “rating”.",
                            code="not_a_rating_device")
        if not isinstance(number, int) or isinstance(number, bool):
            raise Forbidden("Thiết bị đánh giá này chưa được gán quầy. Vui lòng cấp lại mã kèm số quầy.",
                            "This rating device is not assigned to a counter. Issue its token again with a counter.",
                            code="device_without_counter")
        row = conn.execute(sa.select(counters).where(counters.c.office_id == principal.office_id,
                                                     counters.c.number == number)).mappings().first()
        if row is None:
            raise NotFound(f"Không có quầy số {number} mà thiết bị đánh giá này được gán.",
                           f"Counter {number}, which this rating device is assigned to, does not exist.",
                           code="counter_not_found")
        return row

    def check_counter(self, principal: Principal, number: int) -> None:
        """The page at /rate/<number> refuses a device of another counter, with both numbers said."""
        with self.db.read() as conn:
            counter = self._device_counter(conn, principal)
        if counter["number"] != number:
            raise Forbidden(f"Thiết bị đánh giá này được cấp cho quầy {counter['number']}, không phải quầy {number}. "
                            f"Vui lòng mở trang /rate/{counter['number']} hoặc dùng mã của quầy {number}.",
                            f"This rating device belongs to counter {counter['number']}, not counter {number}. "
                            f"Open /rate/{counter['number']} or use counter {number}'s token.",
                            code="wrong_counter", details={"device_counter": counter["number"]})

    # what the tablet shows -------------------------------------------------------------------
    def state(self, principal: Principal, number: int | None = None) -> dict:
        if number is not None:
            self.check_counter(principal, number)
        now = self.clock.now()
        with self.db.read() as conn:
            counter = self._device_counter(conn, principal)
            office = directory.get_office(conn, counter["office_id"])
            officer = self._officer(conn, counter, business_date(now, office.timezone))
            pending = self._pending(conn, counter, office.id, office.timezone, now,
                                    rd.window_of(office.settings, rd.TABLET))
        return {
            "counter": {"id": counter["id"], "number": counter["number"], "name": counter["name"],
                        "name_en": counter["name_en"]},
            "officer": officer,
            "pending": _pending_view(pending) if pending else None,
            "levels": rd.scale_of(office.settings),
            "question": rd.question_of(office.settings),
            "reasons": [dict(r) for r in rd.REASONS],
            "window_s": int(rd.window_of(office.settings, rd.TABLET).total_seconds()),
            "server_time": now.isoformat(),
        }

    def _officer(self, conn: Connection, counter: RowMapping, today) -> dict | None:  # noqa: ANN001
        """Who serves at the counter: whoever called its latest ticket today, else its only assigned officer."""
        user_id = conn.execute(
            sa.select(tickets.c.served_by)
            .where(tickets.c.office_id == counter["office_id"], tickets.c.business_date == today,
                   tickets.c.counter_id == counter["id"], tickets.c.served_by.is_not(None))
            .order_by(tickets.c.called_at.desc(), tickets.c.id.desc()).limit(1)).scalar()
        if user_id is None:
            assigned = list(conn.execute(
                sa.select(users.c.id).join(user_counters, user_counters.c.user_id == users.c.id)
                .where(user_counters.c.counter_id == counter["id"], users.c.active.is_(True),
                       users.c.role == Role.STAFF.value)).scalars())
            user_id = assigned[0] if len(assigned) == 1 else None
        if user_id is None:
            return None
        row = conn.execute(sa.select(users.c.id, users.c.full_name, users.c.username, user_photos.c.updated_at)
                           .outerjoin(user_photos, user_photos.c.user_id == users.c.id)
                           .where(users.c.id == user_id)).mappings().first()
        if row is None:
            return None
        return {"id": row["id"], "full_name": row["full_name"] or row["username"],
                "photo_version": int(from_utc_naive(row["updated_at"]).timestamp()) if row["updated_at"] else None}

    def _pending(self, conn: Connection, counter: RowMapping, office_id: int, tz: str, now: datetime,
                 window) -> RowMapping | None:  # noqa: ANN001
        """The counter's latest finished visit if it is unrated and recent. Only the latest: once the next
        citizen has been served, the one before has left the counter."""
        since = now - window
        row = conn.execute(
            sa.select(tickets.c.id, tickets.c.number, tickets.c.finished_at, services.c.code.label("service"),
                      services.c.name_vi, services.c.name_en, ratings.c.id.label("rating_id"))
            .join(services, services.c.id == tickets.c.service_id)
            .outerjoin(ratings, ratings.c.ticket_id == tickets.c.id)
            .where(tickets.c.office_id == office_id, tickets.c.business_date >= business_date(since, tz),
                   tickets.c.status == FINISHED, tickets.c.counter_id == counter["id"],
                   tickets.c.finished_at >= to_utc_naive(since))
            .order_by(tickets.c.finished_at.desc(), tickets.c.id.desc()).limit(1)).mappings().first()
        if row is None or row["rating_id"] is not None:
            return None
        return row

    # rating ----------------------------------------------------------------------------------
    def rate_at_counter(self, principal: Principal, ticket_id: int, level: str, reason: str | None = None,
                        channel: str = rd.TABLET) -> dict:
        """A rating device rates a visit that ended at its own counter."""
        def find(conn: Connection) -> tuple[RowMapping, RowMapping]:
            counter = self._device_counter(conn, principal)
            ticket = conn.execute(sa.select(tickets).where(tickets.c.id == ticket_id,
                                                           tickets.c.office_id == counter["office_id"])
                                  ).mappings().first()
            if ticket is None:
                raise NotFound("Không tìm thấy phiếu.", "Ticket not found.", code="ticket_not_found")
            if ticket["counter_id"] != counter["id"]:
                raise Forbidden(f"Phiếu {ticket['number']} không được phục vụ tại quầy {counter['number']}; "
                                "thiết bị này chỉ đánh giá các lượt của quầy mình.",
                                f"Ticket {ticket['number']} was not served at counter {counter['number']}; this "
                                "device rates its own counter's visits only.", code="not_this_counter")
            return ticket, counter
        return self._rate(find, level, reason, channel)

    def rate_pending(self, principal: Principal, level: str | None = None, position: int | None = None,
                     channel: str = rd.KEYPAD) -> dict:
        """A keypad press: rates the visit the counter's tablet is asking about, if any."""
        def find(conn: Connection) -> tuple[RowMapping, RowMapping]:
            counter = self._device_counter(conn, principal)
            office = directory.get_office(conn, counter["office_id"])
            now = self.clock.now()
            pending = self._pending(conn, counter, office.id, office.timezone, now,
                                    rd.window_of(office.settings, rd.TABLET))
            if pending is None:
                raise Conflict(f"Quầy {counter['number']} không có lượt phục vụ nào đang chờ đánh giá.",
                               f"Counter {counter['number']} has no visit waiting for a rating.",
                               code="nothing_to_rate")
            ticket = conn.execute(sa.select(tickets).where(tickets.c.id == pending["id"])).mappings().one()
            return ticket, counter
        if level is None:
            if position is None:
                raise InvalidInput("Cần mức đánh giá.", "A rating level is needed.", code="unknown_level")
            with self.db.read() as conn:
                office = directory.get_office(conn, self._device_counter(conn, principal)["office_id"])
            level = rd.level_at(rd.scale_of(office.settings), position)["code"]
        return self._rate(find, level, None, channel)

    def rate_by_token(self, track_token: str, level: str, reason: str | None = None) -> dict:
        """The citizen rates from the ticket's tracking page, after the visit."""
        def find(conn: Connection) -> tuple[RowMapping, RowMapping | None]:
            ticket = self._visit_of_token(conn, track_token)
            counter = None
            if ticket["counter_id"] is not None:
                counter = conn.execute(sa.select(counters).where(counters.c.id == ticket["counter_id"])
                                       ).mappings().first()
            return ticket, counter
        return self._rate(find, level, reason, rd.WEB)

    def _visit_of_token(self, conn: Connection, track_token: str) -> RowMapping:
        """The ticket a tracking token names, followed through transfers to where the visit ended."""
        ticket = conn.execute(sa.select(tickets).where(tickets.c.track_token == track_token)).mappings().first()
        if ticket is None:
            raise NotFound("Không tìm thấy phiếu.", "Ticket not found.", code="ticket_not_found")
        for _ in range(MAX_TRANSFERS):
            if ticket["status"] != TicketStatus.TRANSFERRED.value or ticket["transferred_to_id"] is None:
                break
            ticket = conn.execute(sa.select(tickets).where(tickets.c.id == ticket["transferred_to_id"])
                                  ).mappings().one()
        return ticket

    def _rate(self, find, level_code: str, reason: str | None, channel: str) -> dict:  # noqa: ANN001
        if channel not in rd.CHANNELS:
            raise ValueError(f"unknown rating channel {channel!r}")
        attempted: dict = {}
        try:
            with self.db.write() as conn:
                ticket, counter = find(conn)
                attempted["ticket_id"] = ticket["id"]
                office = directory.get_office(conn, ticket["office_id"])
                level = rd.find_level(rd.scale_of(office.settings), level_code)
                self._check_ratable(conn, ticket, rd.window_of(office.settings, channel))
                values = {"office_id": office.id, "ticket_id": ticket["id"], "counter_id": ticket["counter_id"],
                          "user_id": ticket["served_by"], "service_id": ticket["service_id"], "level": level["code"],
                          "score": level["score"], "satisfied": level["satisfied"],
                          "reason": rd.clean_reason(reason) if level["asks_reason"] else None,
                          "channel": channel, "at": to_utc_naive(self.clock.now())}
                rating_id = conn.execute(sa.insert(ratings).values(**values).returning(ratings.c.id)).scalar_one()
                number = counter["number"] if counter is not None else None
                events = sequence.allocate(conn, office.id, [(ev.TICKET_RATED, {
                    "ticket": {"id": ticket["id"], "number": ticket["number"]}, "counter": number,
                    "channel": channel})])
        except IntegrityError as exc:
            # Two ratings of one visit at once: the UNIQUE ticket_id let exactly one through.
            ticket_id = attempted.get("ticket_id")
            with self.db.read() as conn:
                taken = ticket_id is not None and conn.execute(
                    sa.select(ratings.c.id).where(ratings.c.ticket_id == ticket_id)).scalar() is not None
            if taken:
                raise _already_rated() from exc
            raise
        self.bus.publish(events)
        return _rating_view({**values, "id": rating_id}, ticket["number"], number, level)

    def _check_ratable(self, conn: Connection, ticket: RowMapping, window) -> None:  # noqa: ANN001
        status = ticket["status"]
        if status in (TicketStatus.WAITING.value, TicketStatus.CALLED.value):
            raise Conflict(f"Phiếu {ticket['number']} chưa được phục vụ xong; mời đánh giá sau khi kết thúc.",
                           f"Ticket {ticket['number']} has not been served yet; rate it when the visit ends.",
                           code="not_finished")
        if status != FINISHED:
            raise Conflict(f"Phiếu {ticket['number']} không có lượt phục vụ để đánh giá.",
                           f"Ticket {ticket['number']} has no completed visit to rate.", code="not_served")
        if conn.execute(sa.select(ratings.c.id).where(ratings.c.ticket_id == ticket["id"])).scalar() is not None:
            raise _already_rated()
        if not rd.still_open(ticket["finished_at"], to_utc_naive(self.clock.now()), window):
            raise Conflict(f"Đã quá thời gian đánh giá lượt phục vụ này ({_span(window, 'vi')} sau khi phục vụ xong).",
                           f"The time to rate this visit has passed ({_span(window, 'en')} after it ended).",
                           code="too_late")

    # the tracking page -----------------------------------------------------------------------
    def track_state(self, track_token: str) -> dict:
        """What the tracking page offers: the question while the visit can be rated, or the rating given."""
        now = self.clock.now()
        with self.db.read() as conn:
            ticket = self._visit_of_token(conn, track_token)
            office = directory.get_office(conn, ticket["office_id"])
            scale = rd.scale_of(office.settings)
            window = rd.window_of(office.settings, rd.WEB)
            rated = conn.execute(sa.select(ratings).where(ratings.c.ticket_id == ticket["id"])).mappings().first()
            counter = None
            if ticket["counter_id"] is not None:
                counter = conn.execute(sa.select(counters.c.number).where(counters.c.id == ticket["counter_id"])
                                       ).scalar()
        until = from_utc_naive(ticket["finished_at"]) + window if ticket["finished_at"] else None
        if rated is not None:
            state = "rated"
        elif ticket["status"] in (TicketStatus.WAITING.value, TicketStatus.CALLED.value):
            state = "not_finished"
        elif ticket["status"] != FINISHED:
            state = "not_served"
        elif not rd.still_open(ticket["finished_at"], to_utc_naive(now), window):
            state = "closed"
        else:
            state = "open"
        rating = None
        if rated is not None:
            level = next((lv for lv in scale if lv["code"] == rated["level"]),
                         {"code": rated["level"], "vi": rated["level"], "en": rated["level"]})
            rating = _rating_view(rated, ticket["number"], counter, level)
        return {"state": state, "ticket": {"number": ticket["number"], "status": ticket["status"],
                                           "counter": counter},
                "rating": rating, "levels": scale, "question": rd.question_of(office.settings),
                "reasons": [dict(r) for r in rd.REASONS],
                "until": until.isoformat() if until and state == "open" else None}

    # officers' photos ------------------------------------------------------------------------
    def _user_of(self, conn: Connection, actor: Principal, user_id: int) -> RowMapping:
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
        if row is None or (actor.office_id is not None and row["office_id"] != actor.office_id):
            raise NotFound("Không tìm thấy người dùng.", "User not found.", code="user_not_found")
        return row

    def set_photo(self, actor: Principal, user_id: int, data: bytes) -> dict:
        if len(data) > MAX_PHOTO_BYTES:
            raise InvalidInput("Ảnh lớn hơn 2 MB.", "The photo is larger than 2 MB.", code="photo_too_large")
        jpeg = normalise_photo(data)
        now = to_utc_naive(self.clock.now())
        with self.db.write() as conn:
            user = self._user_of(conn, actor, user_id)
            done = conn.execute(sa.update(user_photos).where(user_photos.c.user_id == user_id)
                                .values(content_type="image/jpeg", data=jpeg, updated_at=now)).rowcount
            if not done:
                conn.execute(sa.insert(user_photos).values(user_id=user_id, content_type="image/jpeg", data=jpeg,
                                                           updated_at=now))
            audit.record(conn, self.clock, actor, user["office_id"], "user_photo", user_id,
                         "update" if done else "create", None, {"bytes": len(jpeg)})
        return {"user_id": user_id, "content_type": "image/jpeg", "bytes": len(jpeg),
                "version": int(from_utc_naive(now).timestamp())}

    def delete_photo(self, actor: Principal, user_id: int) -> None:
        with self.db.write() as conn:
            user = self._user_of(conn, actor, user_id)
            done = conn.execute(sa.delete(user_photos).where(user_photos.c.user_id == user_id)).rowcount
            if done:
                audit.record(conn, self.clock, actor, user["office_id"], "user_photo", user_id, "delete",
                             {"photo": True}, None)
        if not done:
            raise NotFound("Người dùng này chưa có ảnh.", "This user has no photo.", code="photo_not_found")

    def photo(self, user_id: int) -> tuple[str, bytes, datetime]:
        with self.db.read() as conn:
            row = conn.execute(sa.select(user_photos).where(user_photos.c.user_id == user_id)).mappings().first()
        if row is None:
            raise NotFound("Người dùng này chưa có ảnh.", "This user has no photo.", code="photo_not_found")
        return row["content_type"], bytes(row["data"]), from_utc_naive(row["updated_at"])


def _already_rated() -> Conflict:
    return Conflict("Lượt phục vụ này đã được đánh giá. Mỗi lượt chỉ đánh giá một lần.",
                    "This visit has already been rated. Each visit is rated once.", code="already_rated")


def _span(window, lang: str) -> str:  # noqa: ANN001
    minutes = int(window.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} giờ" if lang == "vi" else f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} phút" if lang == "vi" else f"{minutes} minutes"


def _pending_view(row: RowMapping) -> dict:
    return {"ticket_id": row["id"], "number": row["number"],
            "service": {"code": row["service"], "name_vi": row["name_vi"], "name_en": row["name_en"]},
            "finished_at": from_utc_naive(row["finished_at"]).isoformat()}


def _rating_view(values: dict | RowMapping, number: str, counter: int | None, level: dict) -> dict:
    return {"id": values["id"], "ticket": {"id": values["ticket_id"], "number": number}, "counter": counter,
            "level": values["level"], "name_vi": level["vi"], "name_en": level["en"], "score": values["score"],
            "satisfied": bool(values["satisfied"]), "reason": values["reason"], "channel": values["channel"],
            "at": from_utc_naive(values["at"]).isoformat()}

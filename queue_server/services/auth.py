"""Who is acting: staff logins, API tokens, device tokens, and what each may do."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain.clock import Clock, to_utc_naive
from ..domain.errors import Conflict, Forbidden, InvalidInput, NotFound, RateLimited, Unauthorized
from ..domain.model import DeviceKind, Role
from ..persistence.database import Database
from ..persistence.tables import api_tokens, counters, devices, login_failures, user_counters, users

LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
# Computed once so an unknown username costs the same time as a wrong password.
_DUMMY_HASH = generate_password_hash("motcua-timing-equaliser")


@dataclass(frozen=True)
class Principal:
    kind: str  # "user", "device" or "anonymous"
    office_id: int | None = None
    user_id: int | None = None
    username: str | None = None
    full_name: str = ""
    role: Role | None = None
    counter_ids: frozenset[int] = field(default_factory=frozenset)
    device_id: int | None = None
    device_kind: DeviceKind | None = None
    device_code: str | None = None
    device_settings: dict = field(default_factory=dict, compare=False)

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    @property
    def is_device(self) -> bool:
        return self.kind == "device"

    def may_manage_office(self, office_id: int) -> bool:
        """Admins and supervisors act anywhere in their office; one without office, everywhere."""
        return (self.is_user and self.role in (Role.ADMIN, Role.SUPERVISOR)
                and (self.office_id is None or self.office_id == office_id))

    def may_act_at(self, office_id: int, counter_id: int) -> bool:
        if not self.is_user:
            return False
        if self.may_manage_office(office_id):
            return True
        return self.role is Role.STAFF and self.office_id == office_id and counter_id in self.counter_ids


ANONYMOUS = Principal(kind="anonymous")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_PREFIX = "mc_"


def new_token() -> str:
    """A bearer token: 256 random bits, URL-safe. The prefix names it (and lets a secret scanner find
    one in a leaked file), and keeps it from starting with "-": a device token is typed after
    `--token` on the agent's command line, where argparse would take such a one for an option."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


NO_SESSION = object()   # a principal asked for without a browser session: no password stamp to check


class AuthService:
    def __init__(self, db: Database, clock: Clock, user_token_ttl: timedelta = timedelta(hours=12)) -> None:
        self.db = db
        self.clock = clock
        self.user_token_ttl = user_token_ttl

    # users -----------------------------------------------------------------
    def create_user(self, username: str, password: str, role: Role, office_id: int | None,
                    full_name: str = "", counter_numbers: list[int] | None = None) -> int:
        if len(password) < 8:
            raise InvalidInput("Mật khẩu cần ít nhất 8 ký tự.", "A password needs at least 8 characters.",
                               code="weak_password")
        with self.db.write() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar() is not None:
                raise Conflict(f"Tên đăng nhập «{username}» đã tồn tại.", f"The username “{username}” is taken.",
                               code="username_taken")
            user_id = conn.execute(sa.insert(users).values(
                username=username, full_name=full_name, password_hash=generate_password_hash(password),
                role=role.value, office_id=office_id, created_at=to_utc_naive(self.clock.now()),
            ).returning(users.c.id)).scalar_one()
            for number in counter_numbers or []:
                counter_id = conn.execute(sa.select(counters.c.id).where(
                    counters.c.office_id == office_id, counters.c.number == number)).scalar()
                if counter_id is None:
                    raise NotFound(f"Không có quầy số {number}.", f"There is no counter {number}.",
                                   code="counter_not_found")
                conn.execute(sa.insert(user_counters).values(user_id=user_id, counter_id=counter_id))
        return user_id

    def set_password(self, username: str, password: str) -> None:
        if len(password) < 8:
            raise InvalidInput("Mật khẩu cần ít nhất 8 ký tự.", "A password needs at least 8 characters.",
                               code="weak_password")
        with self.db.write() as conn:
            done = conn.execute(sa.update(users).where(users.c.username == username)
                                .values(password_hash=generate_password_hash(password))).rowcount
        if not done:
            raise NotFound("Không tìm thấy người dùng.", "User not found.", code="user_not_found")

    def login(self, username: str, password: str, address: str) -> Principal:
        now = self.clock.now()
        since = to_utc_naive(now - LOGIN_WINDOW)
        with self.db.read() as conn:
            by_user = conn.execute(sa.select(sa.func.count()).where(
                login_failures.c.username == username, login_failures.c.at >= since)).scalar_one()
            by_address = conn.execute(sa.select(sa.func.count()).where(
                login_failures.c.address == address, login_failures.c.at >= since)).scalar_one()
            if by_user >= MAX_FAILURES_PER_USER or by_address >= MAX_FAILURES_PER_ADDRESS:
                raise RateLimited("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.",
                                  "Too many failed sign-ins. Please try again in 15 minutes.",
                                  code="too_many_attempts",
                                  details={"retry_after_s": int(LOGIN_WINDOW.total_seconds())})
            row = conn.execute(sa.select(users).where(users.c.username == username)).mappings().first()
        valid = check_password_hash(row["password_hash"] if row else _DUMMY_HASH, password)
        if row is None or not valid:
            with self.db.write() as conn:
                conn.execute(sa.insert(login_failures).values(username=username[:64], address=address[:64],
                                                              at=to_utc_naive(now)))
            raise Unauthorized("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password.",
                               code="bad_credentials")
        if not row["active"]:     # said only to whoever knows the password: an officer, not a guesser
            raise Forbidden("Tài khoản này đã bị khóa. Vui lòng liên hệ quản trị viên.",
                            "This account is locked. Please contact the administrator.", code="account_locked")
        return self.user_principal(row["id"])

    @staticmethod
    def _stamp(password_hash: str) -> str:
        return hashlib.sha256(b"session:" + password_hash.encode()).hexdigest()[:16]

    def session_stamp(self, user_id: int) -> str:
        """What a browser session keeps of the password it signed in with: a new password ends it."""
        with self.db.read() as conn:
            return self._stamp(conn.execute(sa.select(users.c.password_hash).where(users.c.id == user_id)).scalar_one())

    def session_principal(self, user_id: int, stamp: object) -> Principal:
        """The user of a browser session, while the account is active and its password unchanged since."""
        with self.db.read() as conn:
            return self._user_principal(conn, user_id, stamp)

    def user_principal(self, user_id: int) -> Principal:
        with self.db.read() as conn:
            return self._user_principal(conn, user_id)

    def _user_principal(self, conn: Connection, user_id: int, stamp: object = NO_SESSION) -> Principal:
        """`stamp`: a browser session's (session_stamp at sign-in), which a new password no longer matches."""
        row = conn.execute(sa.select(users).where(users.c.id == user_id)).mappings().first()
        if row is None or not row["active"] or (stamp is not NO_SESSION and stamp != self._stamp(row["password_hash"])):
            raise Unauthorized("Phiên đăng nhập không còn hiệu lực.", "This sign-in is no longer valid.",
                               code="invalid_token")
        counter_ids = frozenset(conn.execute(
            sa.select(user_counters.c.counter_id).where(user_counters.c.user_id == user_id)).scalars())
        return Principal(kind="user", office_id=row["office_id"], user_id=row["id"], username=row["username"],
                         full_name=row["full_name"], role=Role(row["role"]), counter_ids=counter_ids)

    # tokens ----------------------------------------------------------------
    def issue_user_token(self, principal: Principal) -> tuple[str, int]:
        token = new_token()
        now = self.clock.now()
        with self.db.write() as conn:
            conn.execute(sa.insert(api_tokens).values(
                token_hash=token_hash(token), user_id=principal.user_id, created_at=to_utc_naive(now),
                expires_at=to_utc_naive(now + self.user_token_ttl)))
        return token, int(self.user_token_ttl.total_seconds())

    def issue_device_token(self, office_id: int, kind: DeviceKind, code: str, name: str = "",
                           settings: dict | None = None, conn: Connection | None = None) -> str:
        """Registers the device on first use; with `conn`, inside the caller's write transaction."""
        if conn is None:
            with self.db.write() as own:
                return self.issue_device_token(office_id, kind, code, name, settings, own)
        token = new_token()
        now = to_utc_naive(self.clock.now())
        device_id = conn.execute(sa.select(devices.c.id).where(
            devices.c.office_id == office_id, devices.c.code == code)).scalar()
        if device_id is None:
            device_id = conn.execute(sa.insert(devices).values(
                office_id=office_id, kind=kind.value, code=code, name=name or code,
            ).returning(devices.c.id)).scalar_one()
        elif conn.execute(sa.select(devices.c.kind).where(devices.c.id == device_id)).scalar() != kind.value:
            raise Conflict(f"Thiết bị «{code}» đã được đăng ký với loại khác.",
                           f"The device “{code}” is registered as another kind.", code="device_kind_mismatch")
        if settings is not None:
            conn.execute(sa.update(devices).where(devices.c.id == device_id).values(settings=settings))
        conn.execute(sa.insert(api_tokens).values(token_hash=token_hash(token), device_id=device_id,
                                                  created_at=now))
        return token

    def revoke(self, token: str) -> None:
        with self.db.write() as conn:
            conn.execute(sa.update(api_tokens).where(api_tokens.c.token_hash == token_hash(token))
                         .values(revoked_at=to_utc_naive(self.clock.now())))

    def principal_from_token(self, token: str) -> Principal:
        invalid = Unauthorized("Mã xác thực không hợp lệ hoặc đã hết hạn. Vui lòng đăng nhập lại.",
                               "The token is invalid or has expired. Please sign in again.", code="invalid_token")
        if not token or len(token) > 200:
            raise invalid
        now = to_utc_naive(self.clock.now())
        with self.db.read() as conn:
            row = conn.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == token_hash(token))
                               ).mappings().first()
            if row is None or row["revoked_at"] is not None or (row["expires_at"] and row["expires_at"] <= now):
                raise invalid
            if row["user_id"] is not None:
                return self._user_principal(conn, row["user_id"])
            device = conn.execute(sa.select(devices).where(devices.c.id == row["device_id"])).mappings().one()
        return Principal(kind="device", office_id=device["office_id"], device_id=device["id"],
                         device_kind=DeviceKind(device["kind"]), device_code=device["code"],
                         device_settings=device["settings"] or {})


def require_user(principal: Principal) -> None:
    if not principal.is_user:
        raise Unauthorized("Cần đăng nhập bằng tài khoản cán bộ.", "Staff sign-in is required.",
                           code="login_required")


def forbid_counter() -> Forbidden:
    return Forbidden("Bạn không được phân công tại quầy này.", "You are not assigned to this counter.",
                     code="not_your_counter")

"""The queue's vocabulary as plain data."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class TicketStatus(str, Enum):
    WAITING = "waiting"
    CALLED = "called"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        return self not in (TicketStatus.WAITING, TicketStatus.CALLED)


class CounterState(str, Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    OFFLINE = "offline"


class NumberingStyle(str, Enum):
    PREFIX = "prefix"  # A025
    BLOCK = "block"    # 1025: service block k issues k*1000 + n


class PriorityPolicy(str, Enum):
    STRICT = "strict"            # any waiting priority ticket goes first
    INTERLEAVED = "interleaved"  # one priority ticket after every N regular ones


class Role(str, Enum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    STAFF = "staff"


class DeviceKind(str, Enum):
    KIOSK = "kiosk"
    DISPLAY = "display"
    AGENT = "agent"
    RATING = "rating"
    INTEGRATOR = "integrator"   # the provincial one-stop system feeding dossiers
    PRINTER = "printer"         # a counter's receipt printer, served by an agent like a kiosk's


PRINTING_DEVICES = (DeviceKind.KIOSK.value, DeviceKind.PRINTER.value)


# Which transitions each counter action may make.
ALLOWED_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.WAITING: frozenset({TicketStatus.CALLED, TicketStatus.EXPIRED}),
    TicketStatus.CALLED: frozenset({TicketStatus.CALLED, TicketStatus.FINISHED,
                                    TicketStatus.NO_SHOW, TicketStatus.TRANSFERRED,
                                    TicketStatus.EXPIRED}),
    TicketStatus.NO_SHOW: frozenset({TicketStatus.CALLED}),  # a latecomer called back by number
    TicketStatus.FINISHED: frozenset(),
    TicketStatus.TRANSFERRED: frozenset(),
    TicketStatus.EXPIRED: frozenset(),
}


def can_transition(current: TicketStatus, target: TicketStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


@dataclass(frozen=True)
class NumberingRule:
    style: NumberingStyle
    prefix: str | None = None
    block: int | None = None
    digits: int = 3

    @property
    def capacity(self) -> int:
        """How many numbers fit in a day before the format would overflow."""
        return 10 ** self.digits - 1


@dataclass(frozen=True)
class Service:
    id: int
    office_id: int
    code: str
    name_vi: str
    name_en: str
    numbering: NumberingRule
    daily_limit: int | None
    opening_hours: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    active: bool = True
    position: int = 0
    avg_service_s: int = 300

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi

"""Counter endpoints: the actions a counter officer takes, and the console's view."""
from __future__ import annotations

from flask import Response, request

from ..domain.errors import InvalidInput
from ..identity import staff_principal
from ..services.counters import ANY
from . import endpoint, services
from .schemas import CallNumber, CounterState, Error, Pause, Ticket, Transfer
from .tickets import with_track_url

ERRORS = {401: ("Not signed in", Error), 403: ("Not your counter", Error), 404: ("No such counter", Error),
          409: ("Not allowed in the counter's current state", Error)}


EXPECT = {"X-Counter-Current": "Optional: the id of the ticket this screen shows as the counter's current one, "
                                "or 'none'. If the counter has moved on since (another screen acted), the action "
                                "is refused with 409 counter_moved_on and changes nothing"}


def _expect() -> object:
    text = request.headers.get("X-Counter-Current")
    if text is None:
        return ANY
    text = text.strip().lower()
    if text == "none":
        return None
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    raise InvalidInput("Tiêu đề X-Counter-Current phải là mã phiếu hoặc «none».",
                       "The X-Counter-Current header is a ticket id or “none”.", code="bad_expected_current")


def _ticket(view: dict | None):  # noqa: ANN202
    if view is None:
        return Response(status=204)
    return with_track_url(view)


@endpoint("/counters", "GET", "Counters the signed-in user may act at", "counters", access="staff",
          responses={200: ("Counters", None), 401: ERRORS[401]})
def list_counters():  # noqa: ANN201
    return {"counters": services().counters.counters_for(staff_principal())}


@endpoint("/counters/<int:counter_id>", "GET", "What the counter console shows", "counters", access="staff",
          responses={200: ("Counter state", CounterState), **ERRORS})
def counter_state(counter_id: int):  # noqa: ANN201
    state = services().counters.state(counter_id, staff_principal())
    if state["current"]:
        state["current"] = with_track_url(state["current"])
    return state


@endpoint("/counters/<int:counter_id>/call-next", "POST", "Finish the current ticket and call the next one",
          "counters", access="staff", responses={200: ("The called ticket", Ticket), 204: ("Nobody waits", None),
                                               **ERRORS}, headers=EXPECT)
def call_next(counter_id: int):  # noqa: ANN201
    return _ticket(services().counters.call_next(counter_id, staff_principal(), _expect()))


@endpoint("/counters/<int:counter_id>/recall", "POST", "Call the current ticket again", "counters", access="staff",
          responses={200: ("The recalled ticket", Ticket), **ERRORS}, headers=EXPECT)
def recall(counter_id: int):  # noqa: ANN201
    return _ticket(services().counters.recall(counter_id, staff_principal(), _expect()))


@endpoint("/counters/<int:counter_id>/call", "POST", "Call a given number (waiting, or missed earlier)",
          "counters", access="staff", body=CallNumber,
          responses={200: ("The called ticket", Ticket), 422: ("Invalid number", Error), **ERRORS}, headers=EXPECT)
def call_number(counter_id: int, body: CallNumber):  # noqa: ANN201
    return _ticket(services().counters.call_number(counter_id, body.number, staff_principal(), _expect()))


@endpoint("/counters/<int:counter_id>/no-show", "POST", "Mark the current ticket as not present", "counters",
          access="staff", responses={200: ("The ticket", Ticket), **ERRORS}, headers=EXPECT)
def no_show(counter_id: int):  # noqa: ANN201
    return _ticket(services().counters.no_show(counter_id, staff_principal(), _expect()))


@endpoint("/counters/<int:counter_id>/transfer", "POST", "Send the current ticket to another service's queue",
          "counters", access="staff", body=Transfer,
          responses={200: ("The transferred ticket", Ticket), 422: ("Invalid input", Error), **ERRORS},
          headers=EXPECT)
def transfer(counter_id: int, body: Transfer):  # noqa: ANN201
    return _ticket(services().counters.transfer(counter_id, body.service, staff_principal(), _expect()))


@endpoint("/counters/<int:counter_id>/finish", "POST", "Finish serving the current ticket", "counters",
          access="staff", responses={200: ("The finished ticket", Ticket), **ERRORS}, headers=EXPECT)
def finish(counter_id: int):  # noqa: ANN201
    return _ticket(services().counters.finish(counter_id, staff_principal(), _expect()))


@endpoint("/counters/<int:counter_id>/pause", "POST", "Pause the counter with a reason", "counters", access="staff",
          body=Pause, responses={200: ("Counter state", CounterState), 422: ("Invalid input", Error), **ERRORS})
def pause(counter_id: int, body: Pause):  # noqa: ANN201
    return services().counters.pause(counter_id, body.reason, staff_principal())


@endpoint("/counters/<int:counter_id>/resume", "POST", "Resume a paused counter", "counters", access="staff",
          responses={200: ("Counter state", CounterState), **ERRORS})
def resume(counter_id: int):  # noqa: ANN201
    return services().counters.resume(counter_id, staff_principal())

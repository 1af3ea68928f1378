"""The ratings API: who may rate what, one rating per visit, officers' photos, the keypad's socket event."""
from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from queue_server import create_app
from queue_server.domain.model import DeviceKind, Role
from queue_server.persistence.database import Database
from queue_server.services.auth import AuthService
from queue_server.sockets import socketio
from tests.factories import counter_id, make_office
from tests.socket_events import received


def issue(client, service: str = "HOTICH") -> dict:  # noqa: ANN001
    r = client.post("/api/v1/tickets", json={"service": service})
    assert r.status_code == 201, r.json
    return r.json


def served(client, api, counter: int = 1, service: str = "HOTICH") -> dict:  # noqa: ANN001
    """A visit from issue to finish at the counter, by the demo officer of that counter."""
    ticket = issue(client, service)
    h = api.headers(f"staff{counter}")
    assert client.post(f"/api/v1/counters/{counter}/call-next", headers=h).json["id"] == ticket["id"]
    assert client.post(f"/api/v1/counters/{counter}/finish", headers=h).status_code == 200
    return ticket


def device_token(client, api, counter: int | None, kind: str = "rating", code: str | None = None) -> str:  # noqa: ANN001
    body = {"kind": kind, "code": code or f"{kind}-{counter}"}
    if counter is not None:
        body["counter"] = counter
    r = client.post("/api/v1/devices/token", json=body, headers=api.headers("admin"))
    assert r.status_code == 201, r.json
    return r.json["token"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def track_token(ticket: dict) -> str:
    return ticket["track_url"].rsplit("/", 1)[1]


def rate(client, token: str | None, body: dict):  # noqa: ANN001, ANN201
    return client.post("/api/v1/ratings", json=body, headers=bearer(token) if token else {})


# --- rating from the counter's device ------------------------------------------------------------------

def test_the_tablet_rates_a_visit_of_its_counter(client, api) -> None:  # noqa: ANN001
    ticket = served(client, api)
    token = device_token(client, api, 1)
    state = client.get("/api/v1/rating/state?counter=1", headers=bearer(token))
    assert state.status_code == 200
    assert state.json["pending"]["ticket_id"] == ticket["id"]
    assert state.json["officer"] == {"id": 2, "full_name": "Cán bộ quầy 1", "photo_url": None}
    assert state.json["counter"] == {"id": 1, "number": 1, "name": "Tư pháp", "name_en": "Justice"}
    r = rate(client, token, {"ticket_id": ticket["id"], "level": "satisfied"})
    assert r.status_code == 201
    assert r.json == {"id": 1, "ticket": {"id": ticket["id"], "number": ticket["number"]}, "counter": 1,
                      "level": "satisfied", "name_vi": "Hài lòng", "name_en": "Satisfied", "score": 2,
                      "satisfied": True, "reason": None, "channel": "tablet", "at": r.json["at"]}
    assert client.get("/api/v1/rating/state", headers=bearer(token)).json["pending"] is None


@pytest.mark.parametrize(("case", "status", "code"), [
    ("another_counter", 403, "not_this_counter"),
    ("twice", 409, "already_rated"),
    ("unknown_level", 422, "unknown_level"),
    ("unfinished", 409, "not_finished"),
    ("too_late", 409, "too_late"),
    ("unknown_ticket", 404, "ticket_not_found"),
    ("staff", 403, "staff_cannot_rate"),
    ("admin", 403, "staff_cannot_rate"),
    ("no_token", 401, "device_token_required"),
    ("bad_token", 401, "invalid_token"),
    ("kiosk_token", 403, "not_a_rating_device"),
    ("no_counter", 403, "device_without_counter"),
    ("both_ids", 422, "ticket_or_token"),
    ("no_level", 422, "invalid_input"),
    ("extra_field", 422, "invalid_input"),
    ("not_json", 400, "malformed_json"),
])
def test_bad_ratings_are_refused_clearly(client, api, clock, case: str, status: int, code: str) -> None:  # noqa: ANN001
    ticket = served(client, api)
    token = device_token(client, api, 1)
    body = {"ticket_id": ticket["id"], "level": "satisfied"}
    if case == "another_counter":
        token = device_token(client, api, 2)
    elif case == "twice":
        assert rate(client, token, body).status_code == 201
        body["level"] = "unsatisfied"
    elif case == "unknown_level":
        body["level"] = "neutral"
    elif case == "unfinished":
        waiting = issue(client)
        client.post("/api/v1/counters/1/call-next", headers=api.headers("staff1"))
        body["ticket_id"] = waiting["id"]
    elif case == "too_late":
        clock.advance(minutes=31)
    elif case == "unknown_ticket":
        body["ticket_id"] = 999_999
    elif case in ("staff", "admin"):
        token = api.token("staff1" if case == "staff" else "admin")
    elif case == "no_token":
        token = None
    elif case == "bad_token":
        token = "not-a-real-token-at-all"
    elif case == "kiosk_token":
        token = device_token(client, api, None, "kiosk", "kiosk-9")
    elif case == "no_counter":
        token = device_token(client, api, None, "rating", "rating-loose")
    elif case == "both_ids":
        body["track_token"] = track_token(ticket)
    elif case == "no_level":
        del body["level"]
    elif case == "extra_field":
        body["officer"] = 2
    if case == "not_json":
        r = client.post("/api/v1/ratings", data=b"{level",
                        headers={**bearer(token), "Content-Type": "application/json"})
    else:
        r = rate(client, token, body)
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json
    assert r.json["error"]["message_vi"] and r.json["error"]["message_en"]
    expected = 1 if case == "twice" else 0
    rows = client.get(f"/api/v1/ratings/track/{track_token(ticket)}").json
    assert (rows["state"] == "rated") == bool(expected)


def test_the_tablet_of_another_counter_is_told_which_it_is(client, api) -> None:  # noqa: ANN001
    token = device_token(client, api, 2)
    r = client.get("/api/v1/rating/state?counter=1", headers=bearer(token))
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_counter"
    assert r.json["error"]["details"] == {"device_counter": 2}
    assert client.get("/api/v1/rating/state").status_code == 401
    staff = client.get("/api/v1/rating/state", headers=api.headers("staff1"))
    assert (staff.status_code, staff.json["error"]["code"]) == (403, "staff_cannot_rate")
    assert client.get("/api/v1/rating/state?counter=0", headers=bearer(token)).status_code == 422


def test_a_revoked_device_cannot_rate(client, api, app) -> None:  # noqa: ANN001
    ticket = served(client, api)
    token = device_token(client, api, 1)
    app.extensions["motcua"].auth.revoke(token)
    r = rate(client, token, {"ticket_id": ticket["id"], "level": "satisfied"})
    assert (r.status_code, r.json["error"]["code"]) == (401, "invalid_token")


# --- rating from the tracking page ---------------------------------------------------------------------

def test_the_tracking_page_rates_after_the_visit(client, api) -> None:  # noqa: ANN001
    ticket = issue(client)
    token = track_token(ticket)
    offered = client.get(f"/api/v1/ratings/track/{token}").json
    assert offered["state"] == "not_finished" and offered["rating"] is None
    r = rate(client, None, {"track_token": token, "level": "very_satisfied"})
    assert (r.status_code, r.json["error"]["code"]) == (409, "not_finished")
    h = api.headers("staff1")
    client.post("/api/v1/counters/1/call-next", headers=h)
    client.post("/api/v1/counters/1/finish", headers=h)
    offered = client.get(f"/api/v1/ratings/track/{token}").json
    assert offered["state"] == "open" and [lv["code"] for lv in offered["levels"]] == [
        "very_satisfied", "satisfied", "unsatisfied"]
    assert offered["question"]["vi"] == "Ông/Bà đánh giá thế nào về thái độ phục vụ của công chức?"
    r = rate(client, None, {"track_token": token, "level": "unsatisfied", "reason": "Chờ lâu"})
    assert r.status_code == 201 and (r.json["channel"], r.json["reason"], r.json["counter"]) == ("web", "Chờ lâu", 1)
    again = rate(client, None, {"track_token": token, "level": "satisfied"})
    assert (again.status_code, again.json["error"]["code"]) == (409, "already_rated")
    rated = client.get(f"/api/v1/ratings/track/{token}").json
    assert rated["state"] == "rated" and rated["rating"]["name_vi"] == "Không hài lòng"
    # The counter's tablet no longer asks about it either.
    device = device_token(client, api, 1)
    assert client.get("/api/v1/rating/state", headers=bearer(device)).json["pending"] is None


def test_the_tracking_page_refuses_staff_unknown_tickets_and_late_ratings(client, api, clock) -> None:  # noqa: ANN001
    ticket = served(client, api)
    token = track_token(ticket)
    r = client.post("/api/v1/ratings", json={"track_token": token, "level": "satisfied"}, headers=api.headers("staff1"))
    assert (r.status_code, r.json["error"]["code"]) == (403, "staff_cannot_rate")
    r = rate(client, None, {"track_token": "x" * 22, "level": "satisfied"})
    assert (r.status_code, r.json["error"]["code"]) == (404, "ticket_not_found")
    assert client.get("/api/v1/ratings/track/short").status_code == 404
    assert client.get("/api/v1/ratings/track/" + "y" * 22).status_code == 404
    r = rate(client, device_token(client, api, 1), {"track_token": token, "level": "satisfied"})
    assert (r.status_code, r.json["error"]["code"]) == (422, "ticket_or_token")
    clock.advance(hours=24, minutes=1)
    assert client.get(f"/api/v1/ratings/track/{token}").json["state"] == "closed"
    r = rate(client, None, {"track_token": token, "level": "satisfied"})
    assert (r.status_code, r.json["error"]["code"]) == (409, "too_late")


# --- the keypad, over Socket.IO ------------------------------------------------------------------------

def test_a_keypad_press_rates_the_counters_last_visit(app, client, api) -> None:  # noqa: ANN001
    ticket = served(client, api)
    token = device_token(client, api, 1)
    board = socketio.test_client(app)
    keypad = socketio.test_client(app, auth={"token": token})
    received(board)
    answer = keypad.emit("rating_key", {"token": token, "position": 3}, callback=True)
    assert answer["ok"] is True and answer["rating"]["level"] == "unsatisfied"
    assert answer["rating"]["channel"] == "keypad" and answer["rating"]["ticket"]["id"] == ticket["id"]
    [event] = [m["args"][0] for m in received(board) if m["name"] == "ticket_rated"]
    assert event["ticket"] == {"id": ticket["id"], "number": ticket["number"]} and event["counter"] == 1
    assert "level" not in event                              # the hall does not learn what the citizen said
    again = keypad.emit("rating_key", {"token": token, "level": "satisfied"}, callback=True)
    assert again == {"ok": False, "error": {"code": "nothing_to_rate", "message_vi": again["error"]["message_vi"],
                                            "message_en": "Counter 1 has no visit waiting for a rating."}}


@pytest.mark.parametrize(("data", "code"), [
    (None, "invalid_input"), ({"level": "satisfied"}, "device_token_required"),
    ({"token": "t" * 300, "level": "satisfied"}, "device_token_required"),
    ({"token": "whatever", "position": 0}, "unknown_level"), ({"token": "whatever", "position": True}, "unknown_level"),
    ({"token": "not-a-token", "level": "satisfied"}, "invalid_token"),
])
def test_bad_keypad_events(app, data: dict | None, code: str) -> None:  # noqa: ANN001
    keypad = socketio.test_client(app)
    answer = keypad.emit("rating_key", data, callback=True)
    assert answer["ok"] is False and answer["error"]["code"] == code


def test_a_staff_token_cannot_press_the_keypad(app, client, api) -> None:  # noqa: ANN001
    served(client, api)
    answer = socketio.test_client(app).emit("rating_key", {"token": api.token("staff1"), "position": 1}, callback=True)
    assert answer["error"]["code"] == "staff_cannot_rate"


# --- one rating per visit, under contention -------------------------------------------------------------

def test_two_tablets_rating_one_visit_at_once(any_db_url: str, clock, tmp_path) -> None:  # noqa: ANN001
    db = Database(any_db_url)
    office = make_office(db, "race", counters_spec=[(1, ["S1"])])
    auth = AuthService(db, clock)
    officer = auth.user_principal(auth.create_user("officer", "password-123", Role.STAFF, office, counter_numbers=[1]))
    token = auth.issue_device_token(office, DeviceKind.RATING, "rate-1", settings={"counter": 1})
    db.dispose()
    app = create_app({"DATABASE_URL": any_db_url, "TESTING": True, "BACKGROUND_TASKS": False, "SECRET_KEY": "t",
                      "VAR_DIR": str(tmp_path), "ASYNC_MODE": "threading"}, clock=clock)
    svc = app.extensions["motcua"]
    try:
        cid = counter_id(svc.db, office, 1)
        results: list[tuple[int, str | None]] = []
        for _ in range(5):
            ticket = app.test_client().post("/api/v1/tickets", json={"service": "S1", "office": "race"}).json
            svc.counters.call_next(cid, officer)
            svc.counters.finish(cid, officer)
            start = threading.Barrier(2)
            answers: list = []

            def post(level: str, ticket_id: int = ticket["id"], start: threading.Barrier = start,
                     answers: list = answers) -> None:
                client = app.test_client()
                start.wait()
                r = client.post("/api/v1/ratings", json={"ticket_id": ticket_id, "level": level}, headers=bearer(token))
                answers.append((r.status_code, (r.json.get("error") or {}).get("code")))

            threads = [threading.Thread(target=post, args=(level,)) for level in ("satisfied", "unsatisfied")]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert sorted(answers) == [(201, None), (409, "already_rated")], answers
            results += answers
        assert len(results) == 10
    finally:
        svc.db.dispose()


# --- officers' photos -----------------------------------------------------------------------------------

def png(size: tuple[int, int] = (800, 1000)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "navy").save(out, "PNG")
    return out.getvalue()


def test_an_admin_sets_an_officers_photo_and_the_tablet_shows_it(client, api) -> None:  # noqa: ANN001
    h = api.headers("admin")
    r = client.put("/api/v1/users/2/photo", data=png(), headers={**h, "Content-Type": "image/png"})
    assert r.status_code == 200, r.json
    assert r.json["content_type"] == "image/jpeg" and r.json["url"] == f"/api/v1/users/2/photo?v={r.json['version']}"
    photo = client.get(r.json["url"])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(photo.data)).size == (410, 512)
    assert "immutable" in photo.headers["Cache-Control"] and "public" in photo.headers["Cache-Control"]
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    plain = client.get("/api/v1/users/2/photo")
    assert plain.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/api/v1/users/2/photo", headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    state = client.get("/api/v1/rating/state", headers=bearer(device_token(client, api, 1))).json
    assert state["officer"]["photo_url"] == r.json["url"]

    form = client.put("/api/v1/users/3/photo", data={"photo": (io.BytesIO(png((64, 64))), "me.png")}, headers=h,
                      content_type="multipart/form-data")
    assert form.status_code == 200 and client.get("/api/v1/users/3/photo").status_code == 200
    assert client.delete("/api/v1/users/3/photo", headers=h).status_code == 204
    assert client.get("/api/v1/users/3/photo").status_code == 404


@pytest.mark.parametrize(("who", "data", "status", "code"), [
    ("admin", b"GIF89a not really", 422, "not_an_image"),
    ("admin", b"<svg xmlns='http://www.w3.org/2000/svg'/>", 422, "not_an_image"),
    ("admin", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, 422, "not_an_image"),
    ("admin", b"x" * (10 * 1024 * 1024), 413, "photo_too_large"),
    ("admin", b"x" * (2 * 1024 * 1024 + 1), 413, "photo_too_large"),
    ("staff1", None, 403, "admin_only"),
    (None, None, 401, "login_required"),
])
def test_bad_photos_are_refused(client, api, who: str | None, data: bytes | None, status: int, code: str) -> None:  # noqa: ANN001
    headers = {"Content-Type": "application/octet-stream", **(api.headers(who) if who else {})}
    r = client.put("/api/v1/users/2/photo", data=data if data is not None else png(), headers=headers)
    assert (r.status_code, r.json["error"]["code"]) == (status, code), r.json
    assert client.get("/api/v1/users/2/photo").status_code == 404


def test_photos_of_unknown_users(client, api) -> None:  # noqa: ANN001
    r = client.put("/api/v1/users/999/photo", data=png(), headers=api.headers("admin"))
    assert (r.status_code, r.json["error"]["code"]) == (404, "user_not_found")
    r = client.get("/api/v1/users/999/photo")
    assert (r.status_code, r.json["error"]["code"]) == (404, "photo_not_found")


def test_the_ratings_endpoints_are_documented(client) -> None:  # noqa: ANN001
    paths = client.get("/api/openapi.json").json["paths"]
    assert set(paths["/api/v1/ratings"]) == {"post"}
    assert "get" in paths["/api/v1/rating/state"]
    assert set(paths["/api/v1/users/{user_id}/photo"]) == {"get", "put", "delete"}

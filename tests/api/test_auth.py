from datetime import timedelta

import pytest

from hardware.agent import settings_from
from queue_server.services.auth import TOKEN_PREFIX
from queue_server.services.demo import DEMO_PASSWORD


def login(client, username: str = "staff1", password: str = DEMO_PASSWORD):  # noqa: ANN001, ANN201
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_token_flow(client) -> None:  # noqa: ANN001
    r = login(client)
    assert r.status_code == 200 and r.json["expires_in"] == 12 * 3600
    assert r.json["user"]["username"] == "staff1" and r.json["user"]["role"] == "staff"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.json['token']}"})
    assert me.status_code == 200 and me.json["user"]["counters"] == [1]


@pytest.mark.parametrize(("body", "status"), [
    ({"username": "staff1", "password": "wrong-password"}, 401),
    ({"username": "nobody", "password": DEMO_PASSWORD}, 401),
    ({"username": "staff1"}, 422),
    ({"username": "", "password": ""}, 422),
    ({"username": ["staff1"], "password": DEMO_PASSWORD}, 422),
])
def test_bad_credentials(client, body: dict, status: int) -> None:  # noqa: ANN001
    r = client.post("/api/v1/auth/token", json=body)
    assert r.status_code == status and "error" in r.json
    assert "token" not in r.json


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer ", "Bearer " + "x" * 500, "Basic abc"])
def test_invalid_tokens_are_401(client, header: str) -> None:  # noqa: ANN001
    r = client.post("/api/v1/counters/1/call-next", headers={"Authorization": header})
    assert r.status_code == 401


def test_expired_token_is_401(client, clock) -> None:  # noqa: ANN001
    token = login(client).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/counters", headers=headers).status_code == 200
    clock.advance(hours=12, seconds=1)
    r = client.get("/api/v1/counters", headers=headers)
    assert r.status_code == 401 and r.json["error"]["code"] == "invalid_token"


def test_login_is_rate_limited(client, clock) -> None:  # noqa: ANN001
    for _ in range(5):
        assert login(client, password="wrong-password").status_code == 401
    r = login(client)                      # even the right password waits now
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 0
    assert login(client, "staff2").status_code == 200   # other users are not locked out
    clock.advance(minutes=16)
    assert login(client).status_code == 200


def test_device_tokens_are_limited_to_their_job(client, api) -> None:  # noqa: ANN001
    admin = api.headers("admin")
    display = client.post("/api/v1/devices/token", json={"kind": "display", "code": "board-1"}, headers=admin)
    kiosk = client.post("/api/v1/devices/token", json={"kind": "kiosk", "code": "kiosk-9"}, headers=admin)
    assert display.status_code == 201 and kiosk.status_code == 201
    dh = {"Authorization": f"Bearer {display.json['token']}"}
    kh = {"Authorization": f"Bearer {kiosk.json['token']}"}
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers=dh)
    assert r.status_code == 403 and r.json["error"]["code"] == "device_scope"
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers=kh)
    assert r.status_code == 201
    assert client.get(f"/api/v1/tickets/{r.json['id']}", headers=kh).status_code == 200
    for headers in (dh, kh):
        assert client.post("/api/v1/counters/1/call-next", headers=headers).status_code == 401
        assert client.get("/api/v1/counters", headers=headers).status_code == 401
    assert client.get("/api/v1/display/state", headers=dh).status_code == 200


def test_tokens_can_follow_an_option_on_a_command_line(client, api) -> None:  # noqa: ANN001
    """The random part of a token may begin with "-"; the prefix keeps argparse from reading the token
    after the agent's --token as an option of its own."""
    issued = [client.post("/api/v1/devices/token", json={"kind": "kiosk", "code": "kiosk-cli"},
                          headers=api.headers("admin")).json["token"], login(client).json["token"]]
    assert all(token.startswith(TOKEN_PREFIX) and len(token) >= len(TOKEN_PREFIX) + 43 for token in issued)
    risky = TOKEN_PREFIX + "-AbCdEfGh"          # what the random part alone could have been at the front
    command = ["--server", "http://127.0.0.1:5000", "--kiosk", "kiosk-cli", "--token"]
    assert settings_from([*command, risky]).token == risky
    with pytest.raises(SystemExit):              # the same token without its prefix is taken for an option
        settings_from([*command, risky[len(TOKEN_PREFIX):]])
    assert client.get("/api/v1/counters", headers={"Authorization": f"Bearer {issued[1]}"}).status_code == 200


def test_only_admins_issue_device_tokens(client, api) -> None:  # noqa: ANN001
    r = client.post("/api/v1/devices/token", json={"kind": "kiosk", "code": "k"}, headers=api.headers("staff1"))
    assert r.status_code == 403
    assert client.post("/api/v1/devices/token", json={"kind": "kiosk", "code": "k"}).status_code == 401


def test_revoked_device_token(client, app, api) -> None:  # noqa: ANN001
    token = client.post("/api/v1/devices/token", json={"kind": "kiosk", "code": "kiosk-7"},
                        headers=api.headers("admin")).json["token"]
    app.extensions["motcua"].auth.revoke(token)
    r = client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


class TestSessionPages:
    def test_counter_page_needs_sign_in(self, client) -> None:  # noqa: ANN001
        r = client.get("/counter")
        assert r.status_code == 302 and "/login" in r.headers["Location"]

    def test_login_form_needs_csrf(self, client) -> None:  # noqa: ANN001
        r = client.post("/login", data={"username": "staff1", "password": DEMO_PASSWORD})
        assert r.status_code == 400
        assert client.get("/counter").status_code == 302

    def _signed_in(self, client) -> str:  # noqa: ANN001
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post("/login?next=/counter", data={"username": "staff1", "password": DEMO_PASSWORD,
                                                      "csrf_token": token})
        assert r.status_code == 302 and r.headers["Location"].endswith("/counter")
        page = client.get("/counter").get_data(as_text=True)   # signing in starts a new session and token
        return page.split('name="csrf-token" content="')[1].split('"')[0]

    def test_session_api_calls_need_the_csrf_header(self, client) -> None:  # noqa: ANN001
        token = self._signed_in(client)
        client.post("/api/v1/tickets", json={"service": "HOTICH"}, headers={"X-CSRFToken": token})
        r = client.post("/api/v1/counters/1/call-next")
        assert r.status_code == 400 and r.json["error"]["code"] == "csrf_failed"
        assert client.get("/api/v1/services").json["services"][0]["waiting"] == 1
        r = client.post("/api/v1/counters/1/call-next", headers={"X-CSRFToken": token})
        assert r.status_code == 200 and r.json["number"] == "A001"
        assert client.get("/counter").status_code == 200

    def test_a_password_reset_ends_the_browser_session_too(self, client, app, api) -> None:  # noqa: ANN001
        token = self._signed_in(client)
        assert client.get("/api/v1/counters").status_code == 200
        other = app.test_client()                         # the admin, elsewhere
        r = other.post("/api/v1/admin/users/staff1/password", json={}, headers=api.headers("admin"))
        assert r.status_code == 200
        assert client.get("/api/v1/counters").status_code == 401                 # the session has ended
        assert client.post("/api/v1/counters/1/call-next", headers={"X-CSRFToken": token}).status_code in (400, 401)
        assert client.get("/counter").status_code == 302
        assert client.get("/api/v1/services").json["services"][0]["waiting"] == 0   # nothing was done
        page = client.get("/login?next=/counter&ended=1").get_data(as_text=True)    # where the console goes
        assert "Phiên đăng nhập đã kết thúc" in page
        assert "Phiên đăng nhập đã kết thúc" not in client.get("/login?next=/counter").get_data(as_text=True)

    def test_a_locked_account_is_told_so_once_the_password_is_right(self, client, app, api) -> None:  # noqa: ANN001
        self._signed_in(client)
        body = {"full_name": "Cán bộ quầy 1", "role": "staff", "active": False, "counters": [1]}
        r = app.test_client().put("/api/v1/admin/users/staff1", json=body, headers=api.headers("admin"))
        assert r.status_code == 200, r.json
        assert client.get("/api/v1/counters").status_code == 401
        page = client.get("/login").get_data(as_text=True)
        csrf_token = page.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post("/login", data={"username": "staff1", "password": DEMO_PASSWORD, "csrf_token": csrf_token})
        assert r.status_code == 403 and "Tài khoản này đã bị khóa" in r.get_data(as_text=True)
        wrong = login(client, "staff1", "not-the-password")                   # a guesser learns nothing
        assert wrong.status_code == 401 and wrong.json["error"]["code"] == "bad_credentials"
        right = login(client, "staff1")
        assert right.status_code == 403 and right.json["error"]["code"] == "account_locked"

    def test_wrong_password_page(self, client) -> None:  # noqa: ANN001
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post("/login", data={"username": "staff1", "password": "nope", "csrf_token": token})
        assert r.status_code == 401 and "Tên đăng nhập hoặc mật khẩu không đúng" in r.get_data(as_text=True)

    def test_open_redirect_is_refused(self, client) -> None:  # noqa: ANN001
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post("/login?next=//evil.example/x", data={"username": "staff1", "password": DEMO_PASSWORD,
                                                              "csrf_token": token})
        assert r.headers["Location"].endswith("/counter")

    def test_logout(self, client) -> None:  # noqa: ANN001
        token = self._signed_in(client)
        client.post("/logout", data={"csrf_token": token})
        assert client.get("/counter").status_code == 302


def test_token_ttl_setting(app) -> None:  # noqa: ANN001
    assert app.extensions["motcua"].auth.user_token_ttl == timedelta(hours=12)

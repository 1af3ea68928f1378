"""Errors as people and programs meet them: numbers too large for any row, a stale sign-in form, pages
that do not exist (in Vietnamese and English, the project's look), JSON for the API, and the site icon."""
from __future__ import annotations

import pytest

from queue_server.services.demo import DEMO_PASSWORD

HUGE = "99999999999999999999999"


def form_token(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def meta_token(page: str) -> str:
    return page.split('name="csrf-token" content="')[1].split('"')[0]


# --- numbers in the address ---------------------------------------------------------------------------------------

API_ROUTES = [
    ("POST", "/api/v1/counters/{}/call-next"),
    ("GET", "/api/v1/counters/{}"),
    ("GET", "/api/v1/tickets/{}"),
    ("POST", "/api/v1/tickets/{}/reprint"),
    ("GET", "/api/v1/print-jobs/{}"),
    ("DELETE", "/api/v1/admin/counters/{}"),
    ("GET", "/api/v1/users/{}/photo"),
]


@pytest.mark.parametrize("number", [HUGE, str(2**63), str(2**63 - 1), str(10**18), "-1", "0"])
@pytest.mark.parametrize(("method", "rule"), API_ROUTES)
def test_an_id_no_row_can_have_is_not_found(client, api, method: str, rule: str, number: str) -> None:  # noqa: ANN001
    r = client.open(rule.format(number), method=method, headers=api.headers("admin"))
    assert r.status_code == 404, r.get_data(as_text=True)
    assert r.json["error"]["code"] != "internal_error"


def test_an_eighteen_digit_id_still_reaches_the_view(client, api) -> None:  # noqa: ANN001
    r = client.get(f"/api/v1/tickets/{10**18 - 1}", headers=api.headers("admin"))
    assert r.status_code == 404 and r.json["error"]["code"] == "ticket_not_found"


@pytest.mark.parametrize("number", [HUGE, str(2**63), "-1", "0"])
def test_a_rating_tablet_address_with_no_such_counter_is_not_found(client, number: str) -> None:  # noqa: ANN001
    r = client.get(f"/rate/{number}")
    assert r.status_code == 404 and "Không tìm thấy" in r.get_data(as_text=True)


# --- a stale sign-in form -----------------------------------------------------------------------------------------

def test_a_form_left_open_across_a_sign_out_shows_the_sign_in_page_again(client) -> None:  # noqa: ANN001
    stale = form_token(client.get("/login").get_data(as_text=True))       # the second tab
    r = client.post("/login", data={"username": "staff1", "password": DEMO_PASSWORD, "csrf_token": stale})
    assert r.status_code == 302                                            # the first tab signs in
    client.post("/logout", data={"csrf_token": meta_token(client.get("/counter").get_data(as_text=True))})

    r = client.post("/login?next=/counter", data={"username": "staff1", "password": DEMO_PASSWORD,
                                                  "csrf_token": stale})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại." in page and "csrf_failed" not in page
    assert 'value="staff1"' in page                                        # no need to type the name again
    r = client.post("/login?next=/counter", data={"username": "staff1", "password": DEMO_PASSWORD,
                                                  "csrf_token": form_token(page)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/counter")
    assert client.get("/counter").status_code == 200


def test_a_form_from_before_the_cookies_were_cleared_in_english(app) -> None:  # noqa: ANN001
    before = app.test_client()
    stale = form_token(before.get("/login").get_data(as_text=True))
    after = app.test_client()                                              # same browser, cookies cleared
    after.set_cookie("lang", "en")
    r = after.post("/login", data={"username": "staff1", "password": DEMO_PASSWORD, "csrf_token": stale})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "The sign-in form had expired. Please sign in again." in page and "Sign in" in page


def test_json_clients_keep_the_json_csrf_error(client) -> None:  # noqa: ANN001
    r = client.post("/login", data={"username": "staff1", "password": "x"}, headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.json["error"]["code"] == "csrf_failed"


def test_another_stale_form_gets_a_page_not_json(client) -> None:  # noqa: ANN001
    r = client.post("/logout", data={"csrf_token": "stale"})
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "Phiên làm việc đã hết hạn" in page and "reload the page" in page


# --- error pages outside the API ----------------------------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/t/", "/rate/abc", "/kiosk/x", "/nope", "/admin/nope", "/tra-cuu/"])
def test_a_missing_page_says_so_in_vietnamese_then_english(client, path: str) -> None:  # noqa: ANN001
    r = client.get(path, headers=BROWSER)
    page = r.get_data(as_text=True)
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "If you entered the URL manually" not in page
    vi, en = page.index("Không tìm thấy địa chỉ này."), page.index("This address does not exist.")
    assert vi < en
    assert 'href="/"' in page and "Về trang đầu" in page and "Go to the start page" in page
    assert "/static/app.css" in page                                        # the project's look


def test_a_wrong_method_on_a_page(client) -> None:  # noqa: ANN001
    r = client.delete("/kiosk", headers=BROWSER)
    page = r.get_data(as_text=True)
    assert r.status_code == 405 and r.mimetype == "text/html"
    assert "GET" in r.headers["Allow"]
    assert "Phương thức không được hỗ trợ ở địa chỉ này." in page and "This method is not allowed here." in page


def test_the_error_page_follows_the_page_language_around_it(client) -> None:  # noqa: ANN001
    page = client.get("/nope?lang=en", headers=BROWSER).get_data(as_text=True)
    assert '<html lang="en">' in page and "Không tìm thấy địa chỉ này." in page


def test_a_server_error_on_a_page(app) -> None:  # noqa: ANN001
    @app.get("/test-broken-page")
    def broken():  # noqa: ANN202
        raise RuntimeError("boom")

    client = app.test_client()
    r = client.get("/test-broken-page", headers=BROWSER)
    page = r.get_data(as_text=True)
    assert r.status_code == 500 and r.mimetype == "text/html"
    assert "Lỗi máy chủ. Vui lòng thử lại." in page and "Server error. Please try again." in page
    r = client.get("/test-broken-page", headers={"Accept": "application/json"})
    assert r.status_code == 500 and r.json["error"]["code"] == "internal_error"


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/api/v1/nope", 404),
                                                        ("DELETE", "/api/v1/services", 405)])
def test_the_api_keeps_json_errors_even_for_a_browser(client, method: str, path: str, status: int) -> None:  # noqa: ANN001
    r = client.open(path, method=method, headers=BROWSER)
    assert r.status_code == status and r.json["error"]["message_vi"] and r.json["error"]["message_en"]


def test_a_client_asking_for_json_gets_json_outside_the_api(client) -> None:  # noqa: ANN001
    r = client.get("/nope", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


# --- the site icon ------------------------------------------------------------------------------------------------

def test_the_site_icon_is_served_and_linked(client) -> None:  # noqa: ANN001
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
    assert r.data[:4] == b"\x00\x00\x01\x00"                              # an ICO file
    assert 'rel="icon" href="/favicon.ico"' in client.get("/login").get_data(as_text=True)

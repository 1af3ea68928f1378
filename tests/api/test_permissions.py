"""The permission matrix: every role against every admin page and every protected API endpoint.

Built from the routing tables themselves (admin_web.SECTIONS and api.OPERATIONS), so a page or an
endpoint added later is checked without anyone remembering to list it here.
"""
import re

import pytest

from queue_server.admin_web import SECTIONS
from queue_server.api import OPERATIONS
from queue_server.domain.model import Role
from queue_server.services.demo import DEMO_PASSWORD

ROLES = ("anonymous", "staff", "supervisor", "admin")
USERS = {"staff": "staff1", "supervisor": "leader", "admin": "admin"}
LEADER_PASSWORD = "leader-password-1"


@pytest.fixture
def supervisor(app) -> None:  # noqa: ANN001
    app.extensions["motcua"].auth.create_user("leader", LEADER_PASSWORD, Role.SUPERVISOR, 1, "Lãnh đạo")


def sign_in(client, role: str) -> None:  # noqa: ANN001
    if role == "anonymous":
        return
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    password = LEADER_PASSWORD if role == "supervisor" else DEMO_PASSWORD
    r = client.post("/login", data={"username": USERS[role], "password": password, "csrf_token": token})
    assert r.status_code == 302, role


def bearer(client, role: str) -> dict:  # noqa: ANN001
    if role == "anonymous":
        return {}
    password = LEADER_PASSWORD if role == "supervisor" else DEMO_PASSWORD
    r = client.post("/api/v1/auth/token", json={"username": USERS[role], "password": password})
    return {"Authorization": f"Bearer {r.json['token']}"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("endpoint", "roles"), [(e, roles) for e, _, roles in SECTIONS],
                         ids=[e for e, _, _ in SECTIONS])
def test_admin_pages(app, client, supervisor, role: str, endpoint: str, roles: frozenset) -> None:  # noqa: ANN001
    with app.test_request_context():
        from flask import url_for
        path = url_for(endpoint)
    sign_in(client, role)
    r = client.get(path)
    if role == "anonymous":
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    elif Role(role) in roles:
        assert r.status_code == 200, (role, path)
    else:
        assert r.status_code == 403 and "Không có quyền truy cập" in r.get_data(as_text=True)


PROTECTED = [op for op in OPERATIONS if op.access in ("staff", "manager", "admin")]


def concrete(path: str) -> str:
    path = re.sub(r"<int:[^>]+>", "1", path)
    return re.sub(r"<(?:path:)?[^>]+>", "x", path)


@pytest.mark.parametrize("role", ROLES)
def test_api_endpoints(client, supervisor, role: str) -> None:  # noqa: ANN001
    """Who may not is refused before anything is read: 401 without sign-in, 403 for the wrong role.

    One sign-in per role (password hashing is deliberately slow), then every protected endpoint."""
    headers = bearer(client, role)
    allowed = {"staff": ("staff", "supervisor", "admin"), "manager": ("supervisor", "admin"), "admin": ("admin",)}
    wrong = []
    for op in PROTECTED:
        r = client.open(concrete(op.path), method=op.method.upper(), json={}, headers=headers)
        code = (r.json or {}).get("error", {}).get("code") if r.is_json else None
        if role == "anonymous":
            ok = r.status_code == 401
        elif role in allowed[op.access]:
            ok = r.status_code not in (401, 403) or code == "not_your_counter"
        else:
            ok = r.status_code == 403 and code in ("admin_only", "manager_only")
        if not ok:
            wrong.append((op.method, op.path, r.status_code, code))
    assert wrong == []


def test_the_matrix_covers_the_admin_api() -> None:
    assert len(PROTECTED) >= 20 and any(op.access == "manager" for op in PROTECTED)

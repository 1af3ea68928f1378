from openapi_spec_validator import validate

from queue_server.api import OPERATIONS


def test_openapi_document_is_valid_and_complete(client) -> None:  # noqa: ANN001
    doc = client.get("/api/openapi.json").json
    validate(doc)
    paths = doc["paths"]
    assert {"/api/v1/tickets", "/api/v1/tickets/{ticket_id}", "/api/v1/services", "/api/v1/display/state",
            "/api/v1/auth/token", "/api/v1/counters/{counter_id}/call-next"} <= set(paths)
    for action in ("recall", "call", "no-show", "transfer", "finish", "pause", "resume"):
        assert f"/api/v1/counters/{{counter_id}}/{action}" in paths
    body = paths["/api/v1/tickets"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/TicketCreate"}
    schema = doc["components"]["schemas"]["TicketCreate"]
    assert schema["required"] == ["service"] and schema["additionalProperties"] is False
    assert len({op.name for op in OPERATIONS}) == len(OPERATIONS)


def test_every_registered_api_route_is_documented(app) -> None:  # noqa: ANN001
    documented = {(op.path, op.method.upper()) for op in OPERATIONS}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (rule.rule, method) in documented, rule.rule


def test_healthz(client) -> None:  # noqa: ANN001
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["status"] == "ok" and r.json["database"] == "sqlite"


def test_metrics_count_requests_and_events(client) -> None:  # noqa: ANN001
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'motcua_http_request_duration_seconds_count{endpoint="api.issue_ticket",method="POST",status="201"}' in text
    assert 'motcua_queue_events_total{event="ticket_issued",office="1"}' in text


def test_pages_answer_in_both_languages(client) -> None:  # noqa: ANN001
    vi = client.get("/").get_data(as_text=True)
    en = client.get("/?lang=en").get_data(as_text=True)
    assert "Bàn làm việc tại quầy" in vi and "Counter console" in en
    assert client.get("/login?lang=en").get_data(as_text=True).count("Sign in") >= 1


def test_track_page(client) -> None:  # noqa: ANN001
    ticket = client.post("/api/v1/tickets", json={"service": "HOTICH"}).json
    page = client.get(ticket["track_url"].replace("http://localhost", ""))
    assert page.status_code == 200 and "A001" in page.get_data(as_text=True)
    assert client.get("/t/unknown-token").status_code == 404
    assert client.get("/t/" + "x" * 100).status_code == 404


def test_metrics_histogram_waits_and_service_times_per_office(client, api, clock) -> None:  # noqa: ANN001
    import re

    def count(name: str) -> float:
        text = client.get("/metrics").get_data(as_text=True)
        found = re.search(rf'^{name}_count{{office="1"}} (\S+)$', text, re.M)
        return float(found.group(1)) if found else 0.0

    def total(name: str) -> float:
        text = client.get("/metrics").get_data(as_text=True)
        return float(re.search(rf'^{name}_sum{{office="1"}} (\S+)$', text, re.M).group(1))

    before = (count("motcua_ticket_wait_seconds"), count("motcua_ticket_service_seconds"))
    waits_before = total("motcua_ticket_wait_seconds") if before[0] else 0.0
    client.post("/api/v1/tickets", json={"service": "HOTICH"})
    clock.advance(seconds=420)
    client.post("/api/v1/counters/1/call-next", headers=api.headers("staff1"))
    clock.advance(seconds=300)
    client.post("/api/v1/counters/1/finish", headers=api.headers("staff1"))
    assert (count("motcua_ticket_wait_seconds"), count("motcua_ticket_service_seconds")) == (before[0] + 1,
                                                                                            before[1] + 1)
    assert total("motcua_ticket_wait_seconds") - waits_before == 420.0

"""One error shape for the whole API, and the one mapping from domain errors to HTTP codes."""
from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .domain import errors as de
from .i18n import request_lang

log = logging.getLogger(__name__)
Headers = Sequence[tuple[str, str]]

STATUS = {
    de.InvalidInput: 422,
    de.Unauthorized: 401,
    de.Forbidden: 403,
    de.NotFound: 404,
    de.Conflict: 409,
    de.Unavailable: 409,
    de.RateLimited: 429,
}

HTTP_MESSAGES = {
    400: ("Yêu cầu không hợp lệ.", "Bad request."),
    401: ("Cần đăng nhập.", "Sign-in required."),
    403: ("Không có quyền thực hiện thao tác này.", "You may not do this."),
    404: ("Không tìm thấy địa chỉ này.", "This address does not exist."),
    405: ("Phương thức không được hỗ trợ ở địa chỉ này.", "This method is not allowed here."),
    413: ("Dữ liệu gửi lên quá lớn.", "The request body is too large."),
    415: ("Kiểu dữ liệu không được hỗ trợ; hãy gửi JSON.", "Unsupported media type; send JSON."),
    429: ("Quá nhiều yêu cầu. Vui lòng thử lại sau.", "Too many requests. Please try again later."),
    500: ("Lỗi máy chủ. Vui lòng thử lại.", "Server error. Please try again."),
    503: ("Máy chủ tạm thời không sẵn sàng. Vui lòng thử lại sau ít phút.",
          "The server is temporarily unavailable. Please try again in a few minutes."),
}


CSRF_MESSAGE = ("Phiên làm việc đã hết hạn, vui lòng tải lại trang.",
                "The session form token is missing or expired; reload the page.")


def status_of(exc: de.DomainError) -> int:
    return next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)


def http_message(status: int) -> tuple[str, str]:
    """Every status has words in both languages: an unlisted one borrows its class's (400 or 500)."""
    return HTTP_MESSAGES.get(status) or HTTP_MESSAGES[500 if status >= 500 else 400]


def error_response(status: int, code: str, message_vi: str, message_en: str, details=None):  # noqa: ANN001, ANN201
    lang = request_lang()
    body = {"error": {"code": code, "message": message_en if lang == "en" else message_vi,
                      "message_vi": message_vi, "message_en": message_en}}
    if details:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    if status == 429 and isinstance(details, dict) and "retry_after_s" in details:
        response.headers["Retry-After"] = str(details["retry_after_s"])
    return response


def validation_response(exc: ValidationError):  # noqa: ANN201
    problems = exc.errors(include_url=False, include_context=False, include_input=False)
    if any(p["type"] == "json_invalid" for p in problems):
        return error_response(400, "malformed_json", "Dữ liệu JSON không đúng cú pháp.",
                              "The request body is not valid JSON.")
    details = [{"field": ".".join(str(x) for x in p["loc"]) or "(body)", "problem": p["msg"]} for p in problems]
    fields = ", ".join(d["field"] for d in details)
    return error_response(422, "invalid_input", f"Dữ liệu không hợp lệ ở trường: {fields}.",
                          f"Invalid data in: {fields}.", details)


def wants_json() -> bool:
    return (request.path.startswith(("/api/", "/healthz", "/metrics"))
            or request.accept_mimetypes.best == "application/json")


def error_page(status: int, message_vi: str, message_en: str, headers: Headers = ()):  # noqa: ANN201
    """What a browser sees instead of JSON: a small page in both languages, Vietnamese first."""
    try:
        body = render_template("error.html", status=status, message_vi=message_vi, message_en=message_en)
    except Exception:  # noqa: BLE001 - the error page itself must not turn into Werkzeug's English one
        log.exception("error page for %d failed to render", status)
        body = f"{status}\n{message_vi}\n{message_en}\n"
        headers = [*headers, ("Content-Type", "text/plain; charset=utf-8")]
    return body, status, list(headers)


def error_answer(status: int, code: str, message_vi: str, message_en: str, details=None,  # noqa: ANN001, ANN201
                 headers: Headers = ()):
    """The one place that picks the shape of an error: JSON for the API and JSON clients, a page for browsers."""
    if not wants_json():
        return error_page(status, message_vi, message_en, headers)
    response = error_response(status, code, message_vi, message_en, details)
    response.headers.extend(headers)
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(de.DomainError)
    def _domain(exc: de.DomainError):  # noqa: ANN202
        return error_answer(status_of(exc), exc.code, exc.message_vi, exc.message_en, exc.details or None)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):  # noqa: ANN202
        return validation_response(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):  # noqa: ANN202
        return error_answer(400, "csrf_failed", *CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # noqa: ANN202
        status = exc.code or 500
        # Allow (405), WWW-Authenticate, Retry-After…: the exception's own headers, minus its HTML body's type.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return error_answer(status, exc.name.lower().replace(" ", "_"), *http_message(status), headers=headers)

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):  # noqa: ANN202
        log.error("database unavailable: %s", exc)
        return error_answer(503, "database_unavailable", *HTTP_MESSAGES[503])

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # noqa: ANN202
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_answer(500, "internal_error", *HTTP_MESSAGES[500])

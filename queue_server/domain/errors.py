"""Domain errors carry a stable code and a message in Vietnamese and English.

The web layer maps each class to one HTTP status; nothing else decides that.
"""
from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message_vi: str, message_en: str, code: str | None = None,
                 details: dict | None = None) -> None:
        super().__init__(message_en)
        self.message_vi = message_vi
        self.message_en = message_en
        if code:
            self.code = code
        self.details = details or {}

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_vi


class NotFound(DomainError):
    code = "not_found"


class InvalidInput(DomainError):
    code = "invalid_input"


class Conflict(DomainError):
    """The request is valid but the current state does not allow it."""
    code = "conflict"


class Unavailable(DomainError):
    """Issuing is refused for now: closed, paused, or the day's limit is reached."""
    code = "unavailable"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"


class RateLimited(DomainError):
    code = "rate_limited"

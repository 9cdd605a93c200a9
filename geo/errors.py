"""One exception tree for the spatial core, mapped to HTTP status codes once by the web layer."""

from __future__ import annotations


class ZhengtuError(Exception):
    """Base error: ``message`` is safe to show a user; ``status`` is the HTTP status it maps to."""

    status = 500

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class BadRequest(ZhengtuError):
    """The caller sent something we cannot use (bad coordinates, unknown field...)."""

    status = 400


class NotFound(ZhengtuError):
    """The thing asked for does not exist (or is outside the loaded area)."""

    status = 404


class SetupError(ZhengtuError):
    """The machine lacks something the product needs; the message names the fix."""

    status = 503


class Unauthorized(ZhengtuError):
    """No valid login or token where one is required."""

    status = 401


class Conflict(ZhengtuError):
    """The request clashes with the current state (a repeated or skipped step, a key already used)."""

    status = 409


class Forbidden(ZhengtuError):
    """Logged in, but the role (or a CSRF check) does not allow this."""

    status = 403

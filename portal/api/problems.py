"""RFC 9457 problem details: every error the API answers, never an HTML page."""

from __future__ import annotations

import logging
import math
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

from telephony.errors import Refused
from telephony.vos import VosError, VosRejected

log = logging.getLogger("portal.api")

TYPE_BASE = "https://vos-portal.invalid/problems/"
CONTENT_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Server error",
    502: "The switch refused",
    503: "The switch is unavailable",
}


class FieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    type: str
    title: str
    status: int
    detail: str = ""
    errors: list[FieldError] = []


class ApiProblem(Exception):
    """Raised anywhere in the API layer to answer a problem."""

    def __init__(
        self,
        status: int,
        detail: str = "",
        *,
        kind: str = "",
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind or TITLES.get(status, "error").lower().replace(" ", "-")
        self.errors = errors or []
        self.headers = headers or {}
        self.replayed_body: dict[str, Any] | None = None

    def as_body(self) -> dict[str, Any]:
        return self.replayed_body or {
            "type": TYPE_BASE + self.kind,
            "title": TITLES.get(self.status, "Error"),
            "status": self.status,
            "detail": self.detail,
            "errors": self.errors,
        }

    @classmethod
    def replay(cls, body: dict[str, Any]) -> ApiProblem:
        problem = cls(int(body.get("status", 500)), str(body.get("detail", "")))
        problem.replayed_body = body
        return problem


def problem_response(api: NinjaAPI, request: HttpRequest, problem: ApiProblem) -> HttpResponse:
    response = api.create_response(request, problem.as_body(), status=problem.status)
    response["Content-Type"] = CONTENT_TYPE
    for name, value in problem.headers.items():
        response[name] = value
    return response


def refused_problem(exc: Refused, status: int = 422) -> ApiProblem:
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
    return ApiProblem(status, exc.message, kind="refused", errors=errors)


def vos_problem(exc: VosError) -> ApiProblem:
    """A switch error on a write: rejected (422, its text) or unavailable (503, Retry-After)."""
    if isinstance(exc, VosRejected):
        return ApiProblem(422, exc.message, kind="switch-rejected")
    return ApiProblem(
        503,
        "The switch is not answering; nothing was changed. Try again soon.",
        kind="switch-unavailable",
        headers={"Retry-After": "30"},
    )


def _validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        errors.append({"field": ".".join(location) or "body", "message": str(error.get("msg"))})
    return errors


def install(api: NinjaAPI) -> None:
    """Route every error the API can meet to a problem response."""

    @api.exception_handler(ApiProblem)
    def _problem(request, exc: ApiProblem):
        return problem_response(api, request, exc)

    @api.exception_handler(ValidationError)
    def _invalid(request, exc: ValidationError):
        errors = _validation_errors(exc)
        return problem_response(
            api,
            request,
            ApiProblem(422, "The request is not valid.", kind="invalid", errors=errors),
        )

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request, exc):
        detail = getattr(request, "api_key_refusal", "") or "Send Authorization: Bearer <key>."
        return problem_response(
            api,
            request,
            ApiProblem(401, detail, kind="unauthenticated", headers={"WWW-Authenticate": "Bearer"}),
        )

    @api.exception_handler(Http404)
    def _not_found(request, exc):
        return problem_response(api, request, ApiProblem(404, "No such resource."))

    @api.exception_handler(HttpError)
    def _http_error(request, exc: HttpError):
        headers = {}
        if isinstance(exc, Throttled):
            headers["Retry-After"] = str(max(1, math.ceil(exc.wait or 1)))
        return problem_response(
            api, request, ApiProblem(exc.status_code, str(exc), headers=headers)
        )

    @api.exception_handler(Refused)
    def _refused(request, exc: Refused):
        return problem_response(api, request, refused_problem(exc))

    @api.exception_handler(VosError)
    def _vos(request, exc: VosError):
        return problem_response(api, request, vos_problem(exc))

    @api.exception_handler(Exception)
    def _crash(request, exc: Exception):
        log.exception("API request %s %s failed", request.method, request.path)
        return problem_response(api, request, ApiProblem(500, "Something went wrong on our side."))

"""/customers/{account}/calls, statement, password, login link and invitation."""

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Status

from accounts.services import access, logins
from accounts.services import customers as customer_actions

from .auth import actor, scope_required
from .problems import ApiProblem, Problem
from .reports import CallsQuery, PeriodQuery, calls_of, statement_of
from .schemas import (
    CallsOut,
    DoneOut,
    InvitationIn,
    LoginLinkOut,
    PasswordCheckOut,
    PasswordIn,
    StatementOut,
)
from .scope import customer_of

router = Router(tags=["customers"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem, 503: Problem}


@router.get("/{account}/calls", response={200: CallsOut, **ERRORS}, summary="Call records")
def customer_calls(request: HttpRequest, account: str, query: Query[CallsQuery]):
    scope_required(request, "read")
    return calls_of(customer_of(request, account), query)


@router.get("/{account}/statement", response={200: StatementOut, **ERRORS}, summary="Statement")
def customer_statement(request: HttpRequest, account: str, period: Query[PeriodQuery]):
    scope_required(request, "read")
    return statement_of(request, customer_of(request, account), period)


@router.post("/{account}/password", response={200: DoneOut, **ERRORS}, summary="Set password")
def password_set(request: HttpRequest, account: str, payload: PasswordIn):
    scope_required(request, "accounts")
    logins.customer_password_set(
        actor=actor(request), vos_account=customer_of(request, account), password=payload.password
    )
    return {"ok": True}


@router.post(
    "/{account}/password/check", response={200: PasswordCheckOut, **ERRORS}, summary="Check"
)
def password_check(request: HttpRequest, account: str, payload: PasswordIn):
    scope_required(request, "accounts")
    try:
        valid = logins.customer_password_check(
            actor=actor(request),
            vos_account=customer_of(request, account),
            password=payload.password,
        )
    except logins.LoginThrottled as exc:
        retry = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
        raise ApiProblem(
            429, exc.message, kind="throttled", headers={"Retry-After": retry}
        ) from exc
    return {"valid": valid}


@router.post(
    "/{account}/login-link", response={201: LoginLinkOut, **ERRORS}, summary="Log in by URL"
)
def login_link(request: HttpRequest, account: str):
    scope_required(request, "accounts")
    user = logins.customer_login(customer_of(request, account))
    issued = access.sign_in_link_create(
        actor=actor(request), user=user, base_url=request.build_absolute_uri("/")
    )
    return Status(201, {"url": issued.url, "expires_at": issued.expires_at})


@router.post("/{account}/invitation", response={201: DoneOut, **ERRORS}, summary="Invite")
def invitation(request: HttpRequest, account: str, payload: InvitationIn):
    scope_required(request, "accounts")
    customer_actions.customer_invite(
        actor=actor(request),
        customer=customer_of(request, account),
        email=payload.email,
        base_url=request.build_absolute_uri("/"),
    )
    return Status(201, {"ok": True})

"""/me: the key's own account — figures, calls, payments, statement and phone book."""

from django.http import Http404, HttpRequest
from ninja import Query, Router, Status
from ninja.pagination import paginate

from accounts.models import Role
from accounts.services import phonebook

from .auth import actor, api_key, role, role_required, scope_required
from .customers import fresh_customer_out
from .pagination import KeysetPagination
from .problems import ApiProblem, Problem
from .reports import CallsQuery, PeriodQuery, calls_of, payment_out, payments_of, statement_of
from .schemas import (
    CallsOut,
    DoneOut,
    MeOut,
    PaymentOut,
    PhoneBookEntryIn,
    PhoneBookEntryOut,
    StatementOut,
)
from .scope import own_of

router = Router(tags=["me"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem, 503: Problem}


@router.get("", response={200: MeOut, **ERRORS}, summary="Who the key is")
def me(request: HttpRequest):
    scope_required(request, "read")
    key = api_key(request)
    current = role(request)
    account = None
    if current in (Role.CUSTOMER, Role.RESELLER):
        account = fresh_customer_out(own_of(request))
    return {
        "username": key.user.get_username(),
        "role": current or "",
        "scopes": key.scopes,
        "account": account,
    }


@router.get("/calls", response={200: CallsOut, **ERRORS}, summary="My call records")
def my_calls(request: HttpRequest, query: Query[CallsQuery]):
    scope_required(request, "read")
    return calls_of(own_of(request), query)


@router.get("/payments", response={200: list[PaymentOut], **ERRORS}, summary="My payments")
@paginate(KeysetPagination, column="paid_at", descending=True, item=payment_out)
def my_payments(request: HttpRequest):
    scope_required(request, "read")
    return payments_of(own_of(request))


@router.get("/statement", response={200: StatementOut, **ERRORS}, summary="My statement")
def my_statement(request: HttpRequest, period: Query[PeriodQuery]):
    scope_required(request, "read")
    return statement_of(request, own_of(request), period)


# --- phone book (customers) -------------------------------------------------------------------


def entry_out(entry) -> dict:
    return {
        "e164": entry.e164,
        "name": entry.name,
        "short_e164s": list(entry.short_e164s),
        "department": entry.department,
        "memo": entry.memo,
    }


def _entry_in(payload: PhoneBookEntryIn):
    fields = payload.model_dump()
    fields["short_numbers"] = ",".join(fields.pop("short_e164s"))
    try:
        return phonebook.phonebook_entry_clean(fields)
    except phonebook.PhoneBookInvalid as exc:
        errors = [
            {"field": "short_e164s" if name == "short_numbers" else name, "message": message}
            for name, messages in exc.errors.items()
            for message in messages
        ]
        raise ApiProblem(422, str(exc), kind="invalid", errors=errors) from exc


def _own_customer(request: HttpRequest):
    role_required(request, Role.CUSTOMER)
    return own_of(request)


@router.get(
    "/phonebook", response={200: list[PhoneBookEntryOut], **ERRORS}, summary="My phone book"
)
def phonebook_list(request: HttpRequest):
    scope_required(request, "read")
    return [entry_out(e) for e in phonebook.phonebook_entries(vos_account=_own_customer(request))]


@router.post("/phonebook", response={201: PhoneBookEntryOut, **ERRORS}, summary="Add an entry")
def phonebook_add(request: HttpRequest, payload: PhoneBookEntryIn):
    scope_required(request, "accounts")
    account = _own_customer(request)
    entry = _entry_in(payload)
    phonebook.phonebook_entry_create(vos_account=account, entry=entry, actor=actor(request))
    return Status(201, entry_out(entry))


@router.get("/phonebook/{e164}", response={200: PhoneBookEntryOut, **ERRORS}, summary="One entry")
def phonebook_get(request: HttpRequest, e164: str):
    scope_required(request, "read")
    entry = phonebook.phonebook_entry_find(vos_account=_own_customer(request), e164=e164)
    if entry is None:
        raise Http404
    return entry_out(entry)


@router.put(
    "/phonebook/{e164}", response={200: PhoneBookEntryOut, **ERRORS}, summary="Change an entry"
)
def phonebook_put(request: HttpRequest, e164: str, payload: PhoneBookEntryIn):
    scope_required(request, "accounts")
    account = _own_customer(request)
    if phonebook.phonebook_entry_find(vos_account=account, e164=e164) is None:
        raise Http404
    entry = _entry_in(payload)
    phonebook.phonebook_entry_update(
        vos_account=account, e164=e164, entry=entry, actor=actor(request)
    )
    return entry_out(entry)


@router.delete("/phonebook/{e164}", response={200: DoneOut, **ERRORS}, summary="Remove an entry")
def phonebook_delete(request: HttpRequest, e164: str):
    scope_required(request, "accounts")
    account = _own_customer(request)
    if phonebook.phonebook_entry_find(vos_account=account, e164=e164) is None:
        raise Http404
    phonebook.phonebook_entry_delete(vos_account=account, e164=e164, actor=actor(request))
    return {"ok": True}

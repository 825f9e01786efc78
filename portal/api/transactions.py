"""Money: add or remove a customer's credit (topup_submit, exactly as the top-up page does)."""

import hashlib
from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Header, Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from billing.models import LedgerEntry
from billing.reseller_selectors import reseller_ledger
from billing.services import topups
from billing.services.ledger import LedgerError

from .auth import actor, api_key, scope_required
from .idempotency import idempotent
from .pagination import KeysetPagination
from .problems import Problem, refused_problem
from .schemas import TransactionIn, TransactionOut, money
from .scope import customer_of, reseller_of

router = Router(tags=["transactions"])
ERRORS = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    429: Problem,
}
OPEN = (LedgerEntry.State.PENDING, LedgerEntry.State.UNKNOWN)


def transaction_out(entry: LedgerEntry) -> dict:
    return {
        "id": entry.pk,
        "account": entry.account,
        "amount": money(entry.amount),
        "state": entry.state,
        "balance_after": money(entry.balance_after),
        "memo": entry.memo,
        "error": entry.error,
        "created_at": entry.created_at,
        "settled_at": entry.settled_at,
    }


def ledger_key(*, user_id: int, key: str) -> str:
    """The ledger's idempotency key for an API key's Idempotency-Key (64 characters at most)."""
    return "api-" + hashlib.sha256(f"{user_id}:{key}".encode()).hexdigest()[:56]


def _status(entry: LedgerEntry) -> int:
    return 202 if entry.state in OPEN else 201


@router.post(
    "/customers/{account}/transactions",
    response={201: TransactionOut, 202: TransactionOut, **ERRORS},
    summary="Add or remove credit",
    description=(
        "Requires an `Idempotency-Key` header. 201: applied or failed; 202: the switch's "
        "answer was lost and the movement is being confirmed (GET /transactions/{id})."
    ),
)
def transaction_create(
    request: HttpRequest,
    account: str,
    payload: TransactionIn,
    idempotency_key: str = Header(
        ..., alias="Idempotency-Key", min_length=1, max_length=255, description="Any unique string."
    ),
):
    scope_required(request, "money")
    agent = reseller_of(request)
    customer = customer_of(request, account)
    user = api_key(request).user

    def run():
        movement = topups.TopupRequest(
            customer=customer,
            amount=abs(payload.amount),
            deduct=payload.amount < 0,
            memo=payload.memo,
            idempotency_key=ledger_key(user_id=user.pk, key=idempotency_key.strip()),
        )
        try:
            entry = topups.topup_submit(actor=actor(request), agent=agent, movement=movement)
        except LedgerError as exc:
            raise refused_problem(exc) from exc
        return _status(entry), transaction_out(entry)

    def replay(status: int, body: dict):
        if body.get("state") in OPEN:
            entry = LedgerEntry.objects.filter(pk=body["id"]).first()
            if entry is not None:
                return status, transaction_out(entry)
        return status, body

    payload_body = {"account": account, **payload.model_dump(mode="json")}
    status, body = idempotent(request, user=user, payload=payload_body, run=run, replay=replay)
    return Status(status, body)


class TransactionFilters(Schema):
    account: str = Field("", max_length=64)
    state: str = Field("", pattern=r"^(|pending|applied|failed|unknown)$")
    since: datetime | None = None
    until: datetime | None = None


@router.get("/transactions", response={200: list[TransactionOut], **ERRORS}, summary="Ledger")
@paginate(KeysetPagination, descending=True, item=transaction_out)
def transactions_list(request: HttpRequest, filters: Query[TransactionFilters]):
    scope_required(request, "read")
    rows = reseller_ledger(agent=reseller_of(request))
    if filters.account:
        rows = rows.filter(account=filters.account)
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.since:
        rows = rows.filter(created_at__gte=filters.since)
    if filters.until:
        rows = rows.filter(created_at__lt=filters.until)
    return rows


@router.get("/transactions/{pk}", response={200: TransactionOut, **ERRORS}, summary="One")
def transaction_detail(request: HttpRequest, pk: int):
    scope_required(request, "read")
    entry = reseller_ledger(agent=reseller_of(request)).filter(pk=pk).first()
    if entry is None:
        raise Http404
    return transaction_out(entry)

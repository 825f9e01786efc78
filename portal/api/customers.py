"""/customers: a reseller's customers, their figures, phones and account actions."""

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.pagination import paginate
from pydantic import Field

from accounts.models import Role
from accounts.services import customers as customer_actions
from accounts.services import phones as phone_actions
from billing.reseller_selectors import reseller_customer_rows
from telephony.models import VosAccount
from telephony.services.mirror import account_refresh

from .auth import actor, api_key, role_required, scope_required
from .pagination import KeysetPagination
from .problems import Problem
from .schemas import (
    CustomerCreatedOut,
    CustomerCreateIn,
    CustomerItem,
    CustomerOut,
    CustomerPatchIn,
    PhoneAddedOut,
    PhoneIn,
    PhonesOut,
    money,
)
from .scope import customer_of, reseller_of

router = Router(tags=["customers"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: Problem, 429: Problem, 503: Problem}


def customer_out(customer: VosAccount, *, stale: bool = False, phones=None) -> dict:
    if phones is None:
        phones = phone_actions.customer_phones(vos_account=customer)
    return {
        "account": customer.account,
        "name": customer.name,
        "balance": money(customer.balance),
        "limit_money": money(customer.limit_money),
        "available": money(customer.available_credit),
        "today_spend": money(customer.today_consumption),
        "locked": customer.locked,
        "as_of": customer.figures_as_of,
        "stale": stale,
        "phones": phones,
    }


def fresh_customer_out(customer: VosAccount) -> dict:
    """Figures asked of VOS now (page timeout); the last known ones, marked stale, if not."""
    refresh = account_refresh(vos_account=customer)
    return customer_out(refresh.account, stale=refresh.stale)


class CustomerFilters(Schema):
    search: str = Field("", max_length=64, description="Account or name contains this.")
    show: str = Field(
        "",
        pattern=r"^(|low|quiet|locked)$",
        description="low: running low; quiet: no call for two weeks; locked.",
    )


def _item(row) -> dict:
    return {
        "account": row.account,
        "name": row.name,
        "balance": money(row.balance),
        "limit_money": money(row.limit_money),
        "locked": row.locked,
        "running_low": bool(row.running_low),
        "last_call": row.last_call,
        "as_of": row.balance_as_of,
    }


@router.get("", response={200: list[CustomerItem], **ERRORS}, summary="List customers")
@paginate(KeysetPagination, column="account", item=_item)
def customers_list(request: HttpRequest, filters: Query[CustomerFilters]):
    scope_required(request, "read")
    role_required(request, Role.RESELLER)
    return reseller_customer_rows(
        user=api_key(request).user, search=filters.search.strip(), show=filters.show
    )


@router.post("", response={201: CustomerCreatedOut, **ERRORS}, summary="Create a customer")
def customer_create(request: HttpRequest, payload: CustomerCreateIn):
    scope_required(request, "accounts")
    agent = reseller_of(request)
    created = customer_actions.customer_create(
        actor=actor(request),
        agent=agent,
        account=payload.account,
        name=payload.name,
        limit_money=payload.limit_money,
        e164=payload.e164,
        web_password=payload.web_password,
        email=payload.email,
        base_url=request.build_absolute_uri("/"),
    )
    return Status(
        201,
        {
            "customer": customer_out(created.account),
            "phone_error": created.phone_error,
            "invited": created.invited,
            "invitation_error": created.invitation_error,
        },
    )


@router.get("/{account}", response={200: CustomerOut, **ERRORS}, summary="One customer")
def customer_detail(request: HttpRequest, account: str):
    scope_required(request, "read")
    return fresh_customer_out(customer_of(request, account))


@router.patch("/{account}", response={200: CustomerOut, **ERRORS}, summary="Lock, limit")
def customer_patch(request: HttpRequest, account: str, payload: CustomerPatchIn):
    scope_required(request, "accounts")
    customer = customer_of(request, account)
    if payload.locked is not None and payload.locked != customer.locked:
        customer = customer_actions.customer_lock_set(
            actor=actor(request), customer=customer, locked=payload.locked
        )
    if payload.limit_money is not None and payload.limit_money != customer.limit_money:
        customer = customer_actions.customer_limit_set(
            actor=actor(request), customer=customer, limit_money=payload.limit_money
        )
    return customer_out(customer)


@router.post("/{account}/phones", response={201: PhoneAddedOut, **ERRORS}, summary="Add a phone")
def phone_add(request: HttpRequest, account: str, payload: PhoneIn):
    scope_required(request, "accounts")
    customer = customer_of(request, account)
    sip_password = phone_actions.phone_add(
        actor=actor(request), account=customer, e164=payload.e164, web_password=payload.password
    )
    phones = phone_actions.customer_phones(vos_account=customer)
    return Status(201, {"phones": phones, "sip_password": sip_password})


@router.delete(
    "/{account}/phones/{e164}", response={200: PhonesOut, **ERRORS}, summary="Remove a phone"
)
def phone_remove(request: HttpRequest, account: str, e164: str):
    scope_required(request, "accounts")
    customer = customer_of(request, account)
    phone_actions.phone_remove(actor=actor(request), account=customer, e164=e164)
    return {"phones": phone_actions.customer_phones(vos_account=customer)}

"""Which VOS accounts a key may touch: the same accounts.scoping the pages use.

A reseller key reaches its own customers; a staff key any account (``1001`` when the number
is unique, ``1001@server`` otherwise); a customer key only its own account, through /me.
Anything else is a 404 problem, so probing tells nothing.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest

from accounts.models import Role
from accounts.scoping import own_account, reseller_agent, reseller_customer
from telephony.models import VosAccount

from .auth import api_key, role, role_required


def customer_of(request: HttpRequest, account: str) -> VosAccount:
    """One customer the key's reseller (or staff) may act on, or Http404."""
    who = role_required(request, Role.RESELLER, Role.STAFF)
    user = api_key(request).user
    if who == Role.RESELLER:
        return reseller_customer(user, account)
    number, _at, server = account.partition("@")
    accounts = VosAccount.objects.select_related("server").filter(account=number)
    if server:
        accounts = accounts.filter(server__name=server)
    found = list(accounts[:2])
    if len(found) != 1:
        raise Http404
    return found[0]


def own_of(request: HttpRequest) -> VosAccount:
    """The key's own account: a customer's, or a reseller's agent account."""
    who = role_required(request, Role.CUSTOMER, Role.RESELLER)
    user = api_key(request).user
    if who == Role.RESELLER:
        return reseller_agent(user)
    return own_account(user)


def reseller_of(request: HttpRequest) -> VosAccount:
    role_required(request, Role.RESELLER)
    return reseller_agent(api_key(request).user)


def is_reseller(request: HttpRequest) -> bool:
    return role(request) == Role.RESELLER

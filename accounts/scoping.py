"""The only way views find VOS accounts: always through the logged-in user.

Anything outside the user's own scope is a 404, never a 403, so probing tells nothing.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import render

from telephony.models import VosAccount

from .models import Profile, Role


def profile_of(user) -> Profile | None:
    """The user's profile, read once a request together with its VOS account and server
    (every portal page needs all three) and kept on the user object as ``user.profile``."""
    if not user.is_authenticated:
        return None
    relation = Profile.user.field.remote_field  # user.profile
    if not relation.is_cached(user):
        profile = (
            Profile.objects.select_related("vos_account__server").filter(user_id=user.pk).first()
        )
        relation.set_cached_value(user, profile)
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def role_of(user) -> str | None:
    profile = profile_of(user)
    return profile.role if profile else None


def role_required(role: str):
    """Login required, and the user's role must be `role`; anyone else gets a 404."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if role_of(request.user) != role:
                # The portal's own "not found" page, in DEBUG too (never Django's debug 404
                # with the URL list), and the same answer whether or not the page exists.
                return render(request, "404.html", status=404)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


customer_required = role_required(Role.CUSTOMER)
reseller_required = role_required(Role.RESELLER)


def own_account(user) -> VosAccount:
    """The customer's own VOS account (server selected), or 404."""
    profile = profile_of(user)
    if profile is None or profile.vos_account_id is None:
        raise Http404
    return profile.vos_account


def reseller_agent(user) -> VosAccount:
    """The reseller's own agent account, or 404."""
    profile = profile_of(user)
    if profile is None or profile.role != Role.RESELLER or profile.vos_account_id is None:
        raise Http404
    return profile.vos_account


def reseller_customers(user) -> QuerySet[VosAccount]:
    """Every VOS account whose agentAccount is this reseller's, on the reseller's server."""
    agent = reseller_agent(user)
    return (
        VosAccount.objects.filter(server_id=agent.server_id, agent_account=agent.account)
        .exclude(pk=agent.pk)
        .select_related("server")
    )


def reseller_customer(user, account: str) -> VosAccount:
    """One of the reseller's customers by VOS account number, or 404."""
    try:
        return reseller_customers(user).get(account=account)
    except VosAccount.DoesNotExist:
        raise Http404 from None

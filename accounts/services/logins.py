"""A customer's portal login as the API manages it: set a password, check one, log in by URL.

Each is audited. A password check is throttled like a login (AXES_FAILURE_LIMIT misses per
AXES_COOLOFF_TIME, per customer and per address, counted atomically in the cache); a login
link is a random token stored as a hash, valid LOGIN_LINK_MAX_AGE_SECONDS and used once.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from telephony.errors import Refused
from telephony.models import VosAccount

from ..models import Profile, Role
from .audit import Actor, audit_log


class LoginThrottled(Refused):
    """Too many failed password checks for this customer or from this address."""


def customer_login(vos_account: VosAccount):
    """The customer's portal login, or Refused when the account has none."""
    profile = (
        Profile.objects.select_related("user")
        .filter(vos_account=vos_account, role=Role.CUSTOMER, user__is_active=True)
        .first()
    )
    if profile is None:
        raise Refused(_("This account has no portal login yet; send an invitation."))
    return profile.user


def customer_password_set(*, actor: Actor, vos_account: VosAccount, password: str):
    """Set the customer's portal password (Django's validators apply)."""
    user = customer_login(vos_account)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise Refused(" ".join(exc.messages), field="password") from None
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_log(
        actor=actor,
        action="password.set",
        outcome="ok",
        server=vos_account.server,
        account=vos_account.account,
    )
    return user


def _throttle_keys(*, user_id: int, ip: str) -> list[str]:
    return [f"accounts:pwcheck:user:{user_id}", f"accounts:pwcheck:ip:{ip}"]


def _window() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def _miss_record(keys: list[str]) -> None:
    for key in keys:
        # add() opens the window; incr() is atomic in Redis and in the local-memory cache.
        if not cache.add(key, 1, _window()):
            try:
                cache.incr(key)
            except ValueError:
                cache.add(key, 1, _window())


def customer_password_check(*, actor: Actor, vos_account: VosAccount, password: str) -> bool:
    """Whether ``password`` is the customer's portal password, without logging in."""
    user = customer_login(vos_account)
    keys = _throttle_keys(user_id=user.pk, ip=actor.ip or "")
    counts = cache.get_many(keys)
    if any(count >= settings.AXES_FAILURE_LIMIT for count in counts.values()):
        raise LoginThrottled(_("Too many failed checks; try again later."))
    valid = user.check_password(password)
    if not valid:
        _miss_record(keys)
    audit_log(
        actor=actor,
        action="password.check",
        outcome="ok" if valid else "wrong",
        server=vos_account.server,
        account=vos_account.account,
    )
    return valid

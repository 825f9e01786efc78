"""The names a customer gave numbers in their phone book, for the call history.

The phone book lives on the switch, so the names are read with the page timeout and kept in
the cache for a few minutes (a phone-book write through the portal forgets them). When the
switch cannot be asked, the history shows the numbers alone, and the switch is not asked
again for a short while.
"""

from __future__ import annotations

from django.core.cache import cache

from telephony.models import VosAccount
from telephony.vos import VosError

from .phonebook import names_cache_key, number_key, phonebook_entries

NAMES_CACHE_SECONDS = 300
UNREADABLE_CACHE_SECONDS = 30


def phonebook_names(*, vos_account: VosAccount) -> dict[str, str]:
    """{number in its compared form: name} of the account's phone book ({} if unreadable)."""
    key = names_cache_key(vos_account)
    names = cache.get(key)
    if names is not None:
        return names
    try:
        entries = phonebook_entries(vos_account=vos_account)
    except VosError:
        cache.set(key, {}, UNREADABLE_CACHE_SECONDS)
        return {}
    names = {number_key(entry.e164): entry.name for entry in entries if entry.name}
    cache.set(key, names, NAMES_CACHE_SECONDS)
    return names

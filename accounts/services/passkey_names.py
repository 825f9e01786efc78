"""The name a new passkey gets (docs/ACCOUNTS.md, "Passkey names"): the passkey provider when
its AAGUID is one of the few everyone uses, else the browser and system of the User-Agent
that registered it ("Chrome on Android"), else "Passkey". The person can rename it.

Deliberately small: no AAGUID database, no User-Agent library. An AAGUID is often all zeros
(the authenticator keeps its make private) and a User-Agent can say anything; either only
ever suggests a label.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

NAME_MAX_LENGTH = 64  # django-otp's Device.name

# The providers most passkeys live in, by AAGUID (github.com/passkeydeveloper/
# passkey-authenticator-aaguids). Anything else is named by its browser.
PROVIDERS = {
    "ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4": "Google Password Manager",
    "fbfc3007-154e-4ecc-8c0b-6e020557d7bd": "iCloud Keychain",
    "dd4ec289-e01d-41c9-bb89-70fa845d4bf2": "iCloud Keychain",
    "08987058-cadc-4b81-b6e1-30de50dcbe96": "Windows Hello",
    "9ddd1817-af5a-4672-a2b9-3e3dd95000a9": "Windows Hello",
    "6028b017-b1d4-4c02-b4b3-afcdafc96bb2": "Windows Hello",
    "53414d53-554e-4700-0000-000000000000": "Samsung Pass",
    "bada5566-a7aa-401f-bd96-45619a55120d": "1Password",
    "d548826e-79b4-db40-a3d8-11116f7e8349": "Bitwarden",
    "531126d6-e717-415c-9320-3d9aa6981239": "Dashlane",
    "50726f74-6f6e-5061-7373-50726f746f6e": "Proton Pass",
}

# First match wins: Edge, Opera and Samsung Internet also say "Chrome", Chrome on an iPhone
# says "Safari", and every browser says "Mozilla".
_BROWSERS = (
    (("Edg/", "EdgA/", "EdgiOS/"), "Edge"),
    (("OPR/", "OPT/"), "Opera"),
    (("SamsungBrowser/",), "Samsung Internet"),
    (("Firefox/", "FxiOS/"), "Firefox"),
    (("Chrome/", "CriOS/", "Chromium/"), "Chrome"),
    (("Safari/",), "Safari"),
)
# iPhone and iPad before Mac ("like Mac OS X"), Android before Linux.
_SYSTEMS = (
    (("iPhone",), "iPhone"),
    (("iPad",), "iPad"),
    (("Android",), "Android"),
    (("Windows",), "Windows"),
    (("Macintosh", "Mac OS X"), "Mac"),
    (("CrOS",), "ChromeOS"),
    (("Linux",), "Linux"),
)


def _first(user_agent: str, table) -> str:
    for marks, name in table:
        if any(mark in user_agent for mark in marks):
            return name
    return ""


def passkey_name_from_agent(user_agent: str) -> str:
    """ "Chrome on Android", "Safari on iPhone", "Windows", … or "" when the User-Agent names
    neither a browser nor a system we know."""
    browser = _first(user_agent, _BROWSERS)
    system = _first(user_agent, _SYSTEMS)
    if browser and system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": system}
    return browser or system


def passkey_name_make(*, aaguid: str, user_agent: str) -> str:
    """The name a passkey gets when it is registered, in the active language."""
    name = PROVIDERS.get((aaguid or "").lower()) or passkey_name_from_agent(user_agent or "")
    return (name or _("Passkey"))[:NAME_MAX_LENGTH]

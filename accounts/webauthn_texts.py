"""The words django-otp-webauthn shows during a passkey ceremony, in our catalogue.

Its JavaScript (served from our static files) asks ``gettext("…")`` for every status text; the
catalogue it loads is ``accounts.webauthn_views.script_catalog``, built from ``SCRIPT_TEXTS``
and our own django.po — so the translators see these texts with the rest of the portal and
zh-Hant is derived from zh-Hans as usual (docs/ACCOUNTS.md, "Passkeys: the ceremony's texts").
``SERVER_TEXTS`` are the library's error answers (translated where it raises them); they are
listed here so that our catalogue carries them. tests/accounts/test_passkey_texts.py checks
that the library's scripts ask for nothing missing from this list.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

SCRIPT_TEXTS = (
    # otp_webauthn_register.js
    gettext_noop("Register a Passkey"),
    gettext_noop("Registering..."),
    gettext_noop("Registration failed. Unable to fetch registration options from server."),
    gettext_noop("Registration aborted."),
    gettext_noop(
        "Registration failed. You most likely already have a Passkey registered for this site."
    ),
    gettext_noop("Registration aborted or not allowed."),
    gettext_noop(
        "Registration failed. A technical problem occurred that prevents you from "
        "registering a Passkey for this site."
    ),
    gettext_noop("Registration failed. An unknown error occurred."),
    gettext_noop("Finishing registration..."),
    gettext_noop("Registration failed. The server was unable to verify this passkey."),
    gettext_noop("Registration failed. A server error occurred."),
    gettext_noop("Registration successful!"),
    gettext_noop("An error occurred during registration."),
    # otp_webauthn_auth.js
    gettext_noop("Verify with Passkey"),
    gettext_noop("Verifying..."),
    gettext_noop("Verification failed. Could not retrieve parameters from the server."),
    gettext_noop("Verification aborted."),
    gettext_noop("Verification canceled or not allowed."),
    gettext_noop("Verification failed. An unknown error occurred."),
    gettext_noop("Finishing verification..."),
    gettext_noop("Verification failed. An unknown server error occurred."),
    gettext_noop("Verification successful!"),
    gettext_noop("Verification failed. A server error occurred."),
    gettext_noop("An error occurred during verification."),
)

SERVER_TEXTS = (
    gettext_noop("Error processing WebAuthn request."),
    gettext_noop("Malformed request. JSON not parsable."),
    gettext_noop(
        "State is missing or invalid. Please begin the operation first before trying to "
        "complete it."
    ),
    gettext_noop("Passwordless login is disabled."),
    gettext_noop("This user account is marked as disabled."),
    gettext_noop("This Passkey has been marked as disabled."),
    gettext_noop("The Passkey you tried to use was not found. Perhaps it was removed?"),
    gettext_noop(
        "The Passkey you tried to use does not belong to the currently logged-in user. Try "
        "using a different Passkey or logout first to use this Passkey."
    ),
    gettext_noop("Authentication required."),
    gettext_noop("User is not verified."),
    gettext_noop(
        "You must verify your identity first with an existing MFA device before you can "
        "register a new passkey."
    ),
)

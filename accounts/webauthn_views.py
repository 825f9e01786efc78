"""django-otp-webauthn's passkey endpoints as the portal serves them (accounts/webauthn_urls.py):
the library does the ceremony; here its answers are put in the visitor's language, a new
passkey is named and audited, and its script gets its texts from our catalogue
(docs/ACCOUNTS.md)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.utils.translation import gettext as _
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions, views

from .services import mfa
from .services.audit import actor_for
from .webauthn_texts import SCRIPT_TEXTS


class _PlainErrors:
    """The library answers a malformed authenticator response with technical English
    ("Invalid CBOR data provided."); the person gets a sentence they can act on instead.
    Its other answers are gettext_lazy texts, translated by our catalogue."""

    def handle_exception(self, exc):
        if isinstance(exc, exceptions.UnprocessableEntity):
            exc.detail = _("Your passkey's answer could not be checked. Try again.")
        return super().handle_exception(exc)


class RegistrationBegin(_PlainErrors, views.BeginCredentialRegistrationView):
    pass


class RegistrationComplete(_PlainErrors, views.CompleteCredentialRegistrationView):
    def post(self, *args, **kwargs):
        response = super().post(*args, **kwargs)
        mfa.passkey_added(
            user=self.request.user,
            passkey_id=json.loads(response.content)["id"],
            user_agent=self.request.headers.get("User-Agent", ""),
            actor=actor_for(self.request),
        )
        # Shown by the two-factor page, which reloads itself to list the new passkey.
        messages.success(self.request, _("Your passkey is added."))
        return response


class AuthenticationBegin(_PlainErrors, views.BeginCredentialAuthenticationView):
    pass


class AuthenticationComplete(_PlainErrors, views.CompleteCredentialAuthenticationView):
    pass


class ScriptCatalog(JavaScriptCatalog):
    """The library's JavaScript catalogue, answered from our django.po (SCRIPT_TEXTS)."""

    packages = ["django_otp_webauthn"]

    def get_catalog(self):
        catalog = super().get_catalog()
        for text in SCRIPT_TEXTS:
            translated = _(text)
            if translated != text:
                catalog[text] = translated
        return catalog

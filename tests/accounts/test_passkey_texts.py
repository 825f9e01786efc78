"""The passkey ceremony speaks the visitor's language: django-otp-webauthn's script gets its
status texts from our catalogue, its error answers are translated (docs/ACCOUNTS.md)."""

from __future__ import annotations

import re
from pathlib import Path

import django_otp_webauthn
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from accounts.webauthn_texts import SCRIPT_TEXTS, SERVER_TEXTS
from tests.accounts.factories import CustomerFactory
from tests.mfa_support import passkey, verified_login

pytestmark = pytest.mark.django_db

CATALOG = "/accounts/webauthn/jsi18n/"
SCRIPTS = Path(django_otp_webauthn.__file__).parent / "static" / "django_otp_webauthn"


def _zh(client, language="zh-hans"):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_every_text_the_librarys_scripts_ask_for_is_in_our_list():
    asked = set()
    for script in SCRIPTS.glob("*.js"):
        asked |= set(re.findall(r'gettext\("((?:[^"\\]|\\.)*)"\)', script.read_text()))
    assert asked, "the library's scripts no longer call gettext()"
    assert asked <= set(SCRIPT_TEXTS), sorted(asked - set(SCRIPT_TEXTS))


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
def test_every_ceremony_text_has_a_chinese_translation(language):
    with translation.override(language):
        for text in SCRIPT_TEXTS + SERVER_TEXTS:
            assert translation.gettext(text) != text, text


def test_the_script_catalogue_answers_from_our_chinese_catalogue(client):
    body = _zh(client).get(CATALOG).content.decode()
    assert reverse("otp_webauthn:js-i18n-catalog") == CATALOG
    assert '"Registering...": "\\u6b63\\u5728\\u6dfb\\u52a0\\u2026\\u2026"' in body  # 正在添加……
    assert '"Registration successful!": "\\u6dfb\\u52a0\\u6210\\u529f\\uff01"' in body  # 添加成功！
    assert "Verification canceled or not allowed." in body


def test_the_script_catalogue_in_traditional_chinese(client):
    body = _zh(client, "zh-hant").get(CATALOG).content.decode()
    assert "\\u6b63\\u5728\\u65b0\\u589e" in body  # 正在新增


def test_the_two_factor_page_loads_our_catalogue_and_shows_chinese_labels(client):
    user = CustomerFactory()
    verified_login(client, user, device=passkey(user, name="Laptop"))
    html = _zh(client).get("/accounts/profile/two-factor/").content.decode()
    assert f'src="{CATALOG}"' in html
    assert "添加通行密钥" in html and "此浏览器无法创建通行密钥。" in html
    assert "/static/js/passkeys.js" in html


def test_the_login_page_offers_the_passkey_in_chinese(client):
    html = _zh(client).get("/accounts/login/").content.decode()
    assert f'src="{CATALOG}"' in html
    assert "使用通行密钥登录" in html


def test_an_error_answer_of_the_ceremony_is_translated(client):
    # Completing a sign-in that was never begun: the library's own error, in Chinese.
    response = _zh(client).post(
        "/accounts/webauthn/authentication/complete/", data="{}", content_type="application/json"
    )
    assert response.status_code == 400
    with translation.override("zh-hans"):
        expected = translation.gettext(
            "State is missing or invalid. Please begin the operation first before trying to "
            "complete it."
        )
    assert response.json()["detail"] == expected


def test_a_malformed_authenticator_answer_gets_a_plain_sentence(client):
    user = CustomerFactory()
    client.force_login(user)
    client.post("/accounts/webauthn/registration/begin/")
    response = _zh(client).post(
        "/accounts/webauthn/registration/complete/",
        data='{"id": "x", "rawId": "x", "type": "public-key", "response": {}}',
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "无法核对通行密钥的应答，请重试。"

"""The name a new passkey gets: its provider by AAGUID, else its browser and system."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.services.passkey_names import passkey_name_from_agent, passkey_name_make

CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (CHROME_ANDROID, "Chrome on Android"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1",
            "Chrome on iPhone",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
            "Safari on iPad",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Safari/605.1.15",
            "Safari on Mac",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.67",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) "
            "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
            "Samsung Internet on Android",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/124.0.0.0 Safari/537.36",
            "Chrome on ChromeOS",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/124.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Windows"),
        ("curl/8.5.0", ""),
        ("", ""),
    ],
)
def test_the_user_agent_names_the_browser_and_the_system(agent, name):
    with translation.override("en"):
        assert passkey_name_from_agent(agent) == name


def test_a_known_provider_is_named_before_the_browser():
    google = "EA9B8D66-4D01-1D21-3CE4-B6B48CB575D4"
    assert passkey_name_make(aaguid=google, user_agent=CHROME_ANDROID) == "Google Password Manager"


def test_an_unknown_or_zero_aaguid_falls_back_to_the_browser_then_to_passkey():
    zeros = "00000000-0000-0000-0000-000000000000"
    with translation.override("en"):
        assert passkey_name_make(aaguid=zeros, user_agent=SAFARI_IPHONE) == "Safari on iPhone"
        assert passkey_name_make(aaguid=zeros, user_agent="curl/8.5.0") == "Passkey"
        assert passkey_name_make(aaguid="", user_agent="") == "Passkey"


def test_the_name_is_in_the_language_of_the_registration():
    with translation.override("zh-hans"):
        name = passkey_name_make(aaguid="", user_agent=SAFARI_IPHONE)
        fallback = passkey_name_make(aaguid="", user_agent="")
    assert "Safari" in name and "iPhone" in name and name != "Safari on iPhone"
    assert fallback != "Passkey"

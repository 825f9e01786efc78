"""Country names in the three languages; Traditional Chinese from the committed
telephony/countries_zh_hant.json (manage.py messages_hant, docs/I18N.md)."""

from __future__ import annotations

import json

import phonenumbers
import pytest

from telephony.countries import HANT_NAMES, country_name, number_country, regions_named
from tests.i18n_support import SIMPLIFIED_ONLY

NAMES = json.loads(HANT_NAMES.read_text(encoding="utf-8"))


def test_every_supported_region_has_a_traditional_chinese_name():
    assert set(NAMES) == set(phonenumbers.SUPPORTED_REGIONS)
    nameless = {region: name for region, name in NAMES.items() if not name or name == region}
    assert nameless == {}


def test_the_traditional_names_hold_no_simplified_character():
    simplified = {r: n for r, n in NAMES.items() if set(n) & SIMPLIFIED_ONLY}
    assert simplified == {}


@pytest.mark.parametrize(
    ("region", "hant", "hans"),
    [
        ("US", "美國", "美国"),
        ("IT", "義大利", "意大利"),
        ("NZ", "紐西蘭", "新西兰"),
        ("TW", "台灣", ""),
    ],
)
def test_names_follow_the_language(region, hant, hans):
    assert country_name(region, "zh-hant") == hant
    if hans:
        assert country_name(region, "zh-hans") == hans
    assert country_name(region, "en") != hant


def test_a_number_is_named_in_traditional_chinese():
    assert number_country("8613800001001", "zh-hant") == "中國"
    assert number_country("447700900123", "zh-hant") == "英國"


def test_a_traditional_name_finds_its_region_and_english_still_works():
    assert "US" in regions_named("美國", "zh-hant")
    assert "US" in regions_named("united states", "zh-hant")
    assert regions_named("美国", "zh-hant") == set()


@pytest.mark.parametrize("language", ["en", "zh-hans", "zh-hant"])
def test_every_supported_region_has_a_real_name_in_every_language(language):
    import phonenumbers

    from telephony.countries import country_name

    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        name = country_name(region, language)
        assert name and name != region and "*" not in name, (region, language, name)

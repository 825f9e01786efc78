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


def _region_by_parsing(digits: str) -> str:
    """The reference: parse the number's first _PLACE_DIGITS digits, padded (the rule
    region_of keeps, now without parsing where the calling code decides alone)."""
    digits = digits[:8]
    for length in (1, 2, 3):
        code = int(digits[:length])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return ""
    regions = phonenumbers.region_codes_for_country_code(code)
    if len(regions) == 1:
        return "" if regions[0] == "001" else regions[0]
    number = phonenumbers.parse("+" + digits.ljust(12, "0"))
    return phonenumbers.region_code_for_number(number) or regions[0]


def test_region_of_places_numbers_as_parsing_them_does():
    import random

    from telephony.countries import region_of

    rng = random.Random(20261201)
    shared = [c for c, r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items() if len(r) > 1]
    numbers = [f"1{area}{rng.randrange(10**7):07d}" for area in range(200, 1000)]
    numbers += [f"{c}{rng.randrange(10**9):09d}" for c in shared for _ in range(200)]
    numbers += ["447624123456", "441481123456", "3906698123", "61891621234", "76012345678"]
    numbers += [f"{rng.randrange(1, 10**12)}" for _ in range(3000)]
    numbers += [f"1{rng.randrange(10**8):08d}" for _ in range(3000)]  # any digits after +1
    numbers += ["1", "10", "11", "12", "1876"]
    for number in numbers:
        assert region_of(number) == _region_by_parsing(number), number


def test_a_namer_for_long_lists_names_every_number_as_number_country_does():
    import random

    from telephony.countries import country_namer

    rng = random.Random(7)
    numbers = ["", "anonymous", "+8613912345678", "'+447624123456", "1", "1876", "118765551234"]
    numbers += [f"{rng.randrange(1, 10**12)}" for _ in range(3000)]
    numbers += [f"1{rng.randrange(10**10):010d}" for _ in range(1000)]
    for language in ("en", "zh-hans", "zh-hant"):
        namer = country_namer(language, wrap=str.upper)
        for number in numbers * 2:
            expected = number_country((number or "").lstrip("'+")[:8], language).upper()
            assert namer(number) == expected, (language, number)

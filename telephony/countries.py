"""Countries of numbers and rate prefixes, and their names in the user's language.

Backed by ``phonenumbers`` (Google's libphonenumber metadata). A prefix is as the switch
bills it: digits with the country calling code first, no ``+``. The metadata's Chinese names
are Simplified; Traditional ones (Taiwan usage) are read from ``countries_zh_hant.json``,
written by ``manage.py messages_hant`` (docs/I18N.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import phonenumbers
from phonenumbers import geocoder

# Languages the portal ships, as phonenumbers names them (zh-hant: HANT_NAMES).
_LANGS = {"zh-hans": ("zh", "Hans"), "en": ("en", None)}
HANT = "zh-hant"
HANT_NAMES = Path(__file__).resolve().with_name("countries_zh_hant.json")
# The leading digits that place a number in its region (NANPA and shared codes included);
# in the North American plan, +1 and the area code.
_PLACE_DIGITS = 8
_NANP_DIGITS = 4
_PAD_TO = 12  # digits; a short prefix is padded so phonenumbers can place it in its region


def _calling_code(digits: str) -> int | None:
    for length in (1, 2, 3):
        if (
            len(digits) >= length
            and int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
        ):
            return int(digits[:length])
    return None


def region_of(digits: str) -> str:
    """ISO region code (``"CN"``) of a number or prefix; ``""`` when none is known.

    A calling code of one region decides alone (no parsing). A shared one is decided by the
    digits after it: the area code in the North American plan (+1), up to _PLACE_DIGITS in
    all for the others (+44 and its crown dependencies, +7, +39 and the Vatican...). Those
    are parsed once per prefix and kept, so a long call list parses each area code once."""
    digits = digits.lstrip("+")
    if not digits.isdigit():
        return ""
    code = _calling_code(digits)
    if code is None:
        return ""
    regions = phonenumbers.region_codes_for_country_code(code)
    if len(regions) == 1:
        return "" if regions[0] == "001" else regions[0]
    if code == 1:
        # The area code decides, but after a repeated trunk "1" (+1 1 876...) parsing looks
        # further: those keep the longer key.
        length = _PLACE_DIGITS if digits[1:2] == "1" else _NANP_DIGITS
        return _shared_region(digits[:length], regions[0])
    return _shared_region(digits[:_PLACE_DIGITS], regions[0])


@lru_cache(maxsize=16384)
def _shared_region(digits: str, main: str) -> str:
    try:
        number = phonenumbers.parse("+" + digits.ljust(max(_PAD_TO, len(digits)), "0"))
    except phonenumbers.NumberParseException:
        number = None
    region = phonenumbers.region_code_for_number(number) if number is not None else None
    return region or main


def _lang(language: str) -> tuple[str, str | None]:
    return _LANGS.get((language or "en").lower(), ("en", None))


@lru_cache(maxsize=1)
def hant_names() -> dict[str, str]:
    """Region -> its name in Traditional Chinese, Taiwan usage."""
    return json.loads(HANT_NAMES.read_text(encoding="utf-8"))


# Regions phonenumbers' geocoder has no name for (or a garbled one: Samoa is "*zh" in its
# Chinese data, Bosnia and Herzegovina "Bosnia and Montenegro"): CLDR's names.
NAMES = {
    "en": {
        "AC": "Ascension Island",
        "BL": "St. Barthélemy",
        "EH": "Western Sahara",
        "MF": "St. Martin",
        "TA": "Tristan da Cunha",
        "XK": "Kosovo",
    },
    "zh-hans": {
        "AC": "阿森松岛",
        "BA": "波斯尼亚和黑塞哥维那",
        "BL": "圣巴泰勒米",
        "EH": "西撒哈拉",
        "MF": "法属圣马丁",
        "TA": "特里斯坦-达库尼亚群岛",
        "WS": "萨摩亚",
        "XK": "科索沃",
    },
}


@lru_cache(maxsize=2048)
def country_name(region: str, language: str = "en") -> str:
    """The region's name in ``language`` (a Django language code); ``""`` if unknown."""
    if not region:
        return ""
    if (language or "").lower() == HANT:
        return hant_names().get(region) or region
    lang, script = _lang(language)
    fixed = NAMES.get("zh-hans" if script == "Hans" else lang, {}).get(region)
    if fixed:
        return fixed
    example = phonenumbers.example_number(region)
    if example is None:
        return region
    return geocoder.country_name_for_number(example, lang, script) or region


def deciding_digits(digits: str) -> int:
    """How many leading digits of a number region_of reads: its calling code where that
    names one region, the area code in the North American plan, _PLACE_DIGITS for the other
    shared codes. Three digits always tell which."""
    digits = digits[:3]
    if not digits.isdigit():
        return 0
    code = _calling_code(digits)
    if code is None:
        return len(digits)
    if len(phonenumbers.region_codes_for_country_code(code)) == 1:
        return len(str(code))
    if code == 1:
        return _PLACE_DIGITS if digits[1:2] == "1" else _NANP_DIGITS
    return _PLACE_DIGITS


def country_namer(language: str, wrap: Callable[[str], str] = str) -> Callable[[str], str]:
    """``number_country`` for a long list of numbers (a CSV export): each name is looked up
    once per distinct set of deciding digits, and passed through ``wrap`` once."""
    lengths: dict[str, int] = {}
    names: dict[str, str] = {}

    def name(number: str) -> str:
        digits = (number or "").lstrip("'+")
        lead = digits[:3]
        length = lengths.get(lead)
        if length is None:
            length = lengths[lead] = deciding_digits(lead)
        key = digits[:length]
        found = names.get(key)
        if found is None:
            found = names[key] = wrap(number_country(key, language))
        return found

    return name


def number_country(digits: str, language: str = "en") -> str:
    """The country name of a dialled number or a prefix, in ``language``."""
    digits = (digits or "").lstrip("+")
    return country_name(region_of(digits[:_PLACE_DIGITS]), language)


@lru_cache(maxsize=8)
def _names(language: str) -> tuple[tuple[str, str], ...]:
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    return tuple((country_name(r, language).casefold(), r) for r in regions)


def regions_named(text: str, language: str = "en") -> set[str]:
    """Regions whose name (in the user's language or English) contains ``text``."""
    needle = text.strip().casefold()
    if not needle:
        return set()
    found = set()
    for lang in {language, "en"}:
        found |= {region for name, region in _names(lang) if needle in name}
    return found


def calling_code(region: str) -> str:
    code = phonenumbers.country_code_for_region(region)
    return str(code) if code else ""

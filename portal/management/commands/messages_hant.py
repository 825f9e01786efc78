"""Write the Traditional Chinese catalogue and country names from the Simplified ones
(docs/I18N.md).

The zh-Hans catalogue is the one translators keep; zh-Hant is converted from it with OpenCC's
``s2twp`` (Traditional characters with Taiwan usage: 軟體, 簡訊, 預設), then the portal's own
terms are put right (``TERMS``). Country names come from phonenumbers' geocoder, whose Chinese
is Simplified only: they are converted the same way, names Taiwan writes otherwise are taken
from ``COUNTRY_NAMES``, and the result is written to ``telephony/countries_zh_hant.json``, which
``telephony.countries`` reads (OpenCC is a development tool, never needed at run time). Run by
``make messages``; commit the .po, the .mo and the .json.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Words OpenCC leaves in a form our customers would not write, in the order applied:
# Taiwan's words for a top-up (儲值), an e-mail address (信箱), a QR code, a carrier
# (電信業者), the portal (平台), permissions, recovery codes, and its 「」 quotation marks.
TERMS = (
    ("賬戶", "帳戶"),
    ("賬號", "帳號"),
    ("賬單", "帳單"),
    ("賬", "帳"),
    # OpenCC turns 添加 into 新增 everywhere but before 於 ("added on" a date).
    ("添加於", "新增於"),
    ("充值", "儲值"),
    ("郵箱", "信箱"),
    ("二維碼", "QR 碼"),
    ("運營商", "電信業者"),
    ("門戶", "平台"),
    ("許可權", "權限"),
    ("恢復碼", "復原碼"),
    ("文本", "文字"),
    ("“", "「"),
    ("”", "」"),
    ("‘", "『"),
    ("’", "』"),
)

# Country names as Taiwan writes them (CLDR zh_Hant) where the geocoder has none, a wrong
# one, or one OpenCC cannot turn into Taiwan usage.
COUNTRY_NAMES = {
    "AC": "阿森松島",
    "AI": "安奎拉",
    "AS": "美屬薩摩亞",
    "AU": "澳洲",
    "BA": "波士尼亞與赫塞哥維納",
    "BL": "聖巴瑟米",
    "BQ": "荷蘭加勒比區",
    "BZ": "貝里斯",
    "CC": "科克斯（基靈）群島",
    "CW": "古拉索",
    "CZ": "捷克",
    "DJ": "吉布地",
    "DM": "多米尼克",
    "EH": "西撒哈拉",
    "ER": "厄利垂亞",
    "FK": "福克蘭群島",
    "GG": "根息",
    "GP": "瓜地洛普",
    "GW": "幾內亞比索",
    "ID": "印尼",
    "KG": "吉爾吉斯",
    "KP": "北韓",
    "KR": "南韓",
    "ME": "蒙特內哥羅",
    "MF": "法屬聖馬丁",
    "MK": "北馬其頓",
    "ML": "馬利",
    "MO": "澳門",
    "MP": "北馬利安納群島",
    "MQ": "馬丁尼克",
    "MS": "蒙哲臘",
    "MT": "馬爾他",
    "MW": "馬拉威",
    "NC": "新喀里多尼亞",
    "NU": "紐埃",
    "PF": "法屬玻里尼西亞",
    "PM": "聖皮埃與密克隆群島",
    "PR": "波多黎各",
    "RE": "留尼旺",
    "SC": "塞席爾",
    "SJ": "挪威屬斯瓦巴及尖棉",
    "SL": "獅子山",
    "ST": "聖多美普林西比",
    "SX": "荷屬聖馬丁",
    "SZ": "史瓦帝尼",
    "TA": "特里斯坦達庫尼亞群島",
    "TC": "土克斯及開科斯群島",
    "TK": "托克勞群島",
    "TO": "東加",
    "TW": "台灣",
    "WF": "瓦利斯群島和富圖那群島",
    "WS": "薩摩亞",
    "XK": "科索沃",
    "YT": "馬約特",
}


class Command(BaseCommand):
    help = (
        "Convert locale/zh_Hans to locale/zh_Hant and the country names to "
        "telephony/countries_zh_hant.json (OpenCC s2twp), compile the .mo."
    )

    def handle(self, *args, **options):
        try:
            import opencc
            import polib
        except ImportError as exc:  # development tools: requirements-dev.txt
            raise CommandError(
                f"{exc.name} is missing: pip install -r requirements-dev.txt"
            ) from exc
        converter = opencc.OpenCC("s2twp")

        def convert(text: str) -> str:
            text = converter.convert(text)
            for wrong, right in TERMS:
                text = text.replace(wrong, right)
            return text

        self.stdout.write(_catalogue_write(polib, convert))
        self.stdout.write(_countries_write(convert))


def _catalogue_write(polib, convert) -> str:
    base = Path(settings.BASE_DIR) / "locale"
    source = polib.pofile(str(base / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    target = polib.POFile(wrapwidth=source.wrapwidth)
    target.metadata = {**source.metadata, "Language": "zh_Hant"}
    target.header = "Traditional Chinese, converted from zh_Hans by manage.py messages_hant."
    for entry in source:
        if entry.obsolete:
            continue
        entry.msgstr = convert(entry.msgstr)
        entry.msgstr_plural = {k: convert(v) for k, v in entry.msgstr_plural.items()}
        target.append(entry)
    out = base / "zh_Hant" / "LC_MESSAGES"
    out.mkdir(parents=True, exist_ok=True)
    target.save(str(out / "django.po"))
    target.save_as_mofile(str(out / "django.mo"))
    return f"{len(target)} messages written to {out}"


def _countries_write(convert) -> str:
    import phonenumbers
    from phonenumbers import geocoder

    from telephony.countries import HANT_NAMES

    names = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number(region)
        simplified = geocoder.country_name_for_number(example, "zh") if example else ""
        names[region] = COUNTRY_NAMES.get(region) or convert(simplified)
    missing = sorted(region for region, name in names.items() if not name)
    if missing:
        raise CommandError(f"No Traditional Chinese name for {', '.join(missing)}: COUNTRY_NAMES")
    HANT_NAMES.write_text(
        json.dumps(names, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8"
    )
    return f"{len(names)} country names written to {HANT_NAMES}"

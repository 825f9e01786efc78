"""Write the Traditional Chinese catalogue from the Simplified one (docs/I18N.md).

The zh-Hans catalogue is the one translators keep; zh-Hant is converted from it with OpenCC's
``s2twp`` (Traditional characters with Taiwan usage: 軟體, 簡訊, 預設), then the portal's own
terms are put right (``TERMS``). Run after ``make messages``; commit the .po and .mo.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Words OpenCC leaves in a form our customers would not write, in the order applied.
TERMS = (
    ("賬戶", "帳戶"),
    ("賬號", "帳號"),
    ("賬單", "帳單"),
    ("賬", "帳"),
    # OpenCC turns 添加 into 新增 everywhere but before 於 ("added on" a date).
    ("添加於", "新增於"),
)


class Command(BaseCommand):
    help = "Convert locale/zh_Hans to locale/zh_Hant (OpenCC s2twp), compile the .mo."

    def handle(self, *args, **options):
        try:
            import opencc
            import polib
        except ImportError as exc:  # development tools: requirements-dev.txt
            raise CommandError(
                f"{exc.name} is missing: pip install -r requirements-dev.txt"
            ) from exc
        base = Path(settings.BASE_DIR) / "locale"
        source = polib.pofile(str(base / "zh_Hans" / "LC_MESSAGES" / "django.po"))
        converter = opencc.OpenCC("s2twp")

        def convert(text: str) -> str:
            text = converter.convert(text)
            for wrong, right in TERMS:
                text = text.replace(wrong, right)
            return text

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
        self.stdout.write(f"{len(target)} messages written to {out}")

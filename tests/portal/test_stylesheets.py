"""Stylesheets whose braces do not pair leave every later rule inside a media query: forms
and buttons went unstyled on desktop once. Each file must pair its braces itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

SHEETS = sorted((Path(settings.BASE_DIR) / "static" / "css").glob("*.css"))


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_every_rule_block_of_a_stylesheet_is_closed_in_that_file(sheet: Path):
    text = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
    depth = 0
    for number, line in enumerate(text.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"{sheet.name}:{number}: a '}}' closes nothing"
    assert depth == 0, f"{sheet.name}: {depth} block(s) left open"

"""CSV cells a spreadsheet shows as text and never runs as formulas."""

from __future__ import annotations


def csv_cell(value) -> str:
    """Text a spreadsheet shows as text, never runs as a formula ("+8613..." stays as is)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(".", "", 1).isdigit()
    ):
        return "'" + text
    return text

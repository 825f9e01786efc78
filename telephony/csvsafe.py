"""CSV cells a spreadsheet shows as text and never runs as formulas, and their inverse."""

from __future__ import annotations


def _needs_guard(text: str) -> bool:
    # A leading apostrophe is guarded too, so that ``csv_value`` can tell our guard from a
    # value that really starts with one: ``csv_value(csv_cell(x)) == x`` for every text.
    return text[:1] in ("=", "@", "\t", "\r", "'") or (
        text[:1] in ("+", "-") and not text[1:].replace(".", "", 1).isdigit()
    )


def csv_cell(value) -> str:
    """Text a spreadsheet shows as text, never runs as a formula ("+8613..." stays as is)."""
    text = "" if value is None else str(value)
    return "'" + text if _needs_guard(text) else text


def csv_value(cell: str) -> str:
    """The value ``csv_cell`` wrote: the guarding apostrophe removed, nothing else."""
    text = cell or ""
    if text[:1] == "'" and _needs_guard(text[1:]):
        return text[1:]
    return text

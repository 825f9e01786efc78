"""The customer's VOS phone book: live reads and writes through the VOS client.

Callers catch ``VosUnavailable`` (show a notice) and ``VosRejected`` (show ``exc.message``);
``PhoneBookRefused`` is raised before anything is sent when the portal itself can tell the
change would fail (a number already present, the account's limit reached).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telephony.csvsafe import csv_cell
from telephony.errors import Refused
from telephony.models import VosAccount
from telephony.vos import (
    PhoneBookEntry,
    VosClient,
    VosRejected,
    VosUnavailable,
    client_for,
    page_client_for,
)

from .audit import Actor, audit_log

# VOS reports "no limit" as the largest Java int.
UNLIMITED = 2**31 - 1
IMPORT_COLUMNS = ("e164", "name", "short_numbers", "department", "memo")
MAX_IMPORT_ROWS = 2000


E164_MAX = 32
MAX_IMPORT_BYTES = 1024 * 1024
E164 = re.compile(r"^(?=.{3,32}$)\+?[0-9]+$")
SHORT_NUMBER = re.compile(r"^[0-9]{1,16}$")
SHORT_NUMBER_SPLIT = re.compile(r"[\s,;]+")
FIELD_LABELS = {
    "e164": gettext_lazy("Number"),
    "name": gettext_lazy("Name"),
    "short_numbers": gettext_lazy("Short numbers"),
    "department": gettext_lazy("Department"),
    "memo": gettext_lazy("Note"),
}
FIELD_MAX = {"e164": E164_MAX, "name": 64, "short_numbers": 200, "department": 64, "memo": 255}


class PhoneBookRefused(Refused):
    """A phone-book change the portal refuses without asking VOS."""


class PhoneBookInvalid(Exception):
    """An entry that breaks the phone book's rules; ``errors``: field -> messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


def split_short_numbers(value: str) -> list[str]:
    return [part for part in SHORT_NUMBER_SPLIT.split(value or "") if part]


def phonebook_entry_clean(fields: dict) -> PhoneBookEntry:
    """An entry from the form's or a CSV row's fields, or PhoneBookInvalid (field -> messages)."""
    values = {name: str(fields.get(name) or "").strip() for name in FIELD_LABELS}
    errors: dict[str, list[str]] = {}
    for name, limit in FIELD_MAX.items():
        if len(values[name]) > limit:
            errors.setdefault(name, []).append(
                _("At most %(limit)d characters.") % {"limit": limit}
            )
    if not values["e164"]:
        errors.setdefault("e164", []).append(_("This field is required."))
    elif not E164.match(values["e164"]):
        errors.setdefault("e164", []).append(_("Enter 3 to 32 digits, optionally starting with +."))
    numbers = split_short_numbers(values["short_numbers"])
    bad = [n for n in numbers if not SHORT_NUMBER.match(n)]
    if bad:
        errors.setdefault("short_numbers", []).append(
            _("Short numbers are 1 to 16 digits: %(bad)s") % {"bad": ", ".join(bad)}
        )
    elif len(set(numbers)) != len(numbers):
        errors.setdefault("short_numbers", []).append(_("A short number is listed twice."))
    if errors:
        raise PhoneBookInvalid(errors)
    return PhoneBookEntry(
        e164=values["e164"],
        name=values["name"],
        short_e164s=tuple(numbers),
        department=values["department"],
        memo=values["memo"],
    )


def phonebook_limit(vos_account: VosAccount) -> int | None:
    """The account's entry limit, None when there is none."""
    limit = vos_account.phone_book_limit
    if limit is None or limit < 0 or limit >= UNLIMITED:
        return None
    return limit


def _reader(vos_account: VosAccount) -> VosClient:
    return page_client_for(vos_account.server)


def _writer(vos_account: VosAccount) -> VosClient:
    # Writes are never retried; they get the server's normal timeouts so an answer that is
    # merely slow is not mistaken for a failure.
    return client_for(vos_account.server)


def _audit(*, vos_account: VosAccount, action: str, outcome: str, actor: Actor, **detail) -> None:
    audit_log(
        actor=actor,
        action=action,
        outcome=outcome,
        server=vos_account.server,
        account=vos_account.account,
        **detail,
    )


def phonebook_entries(*, vos_account: VosAccount) -> list[PhoneBookEntry]:
    """The account's phone book from VOS (page timeout), sorted by name then number."""
    entries = _reader(vos_account).get_phone_book(account=vos_account.account)
    return sorted(entries, key=lambda e: (e.name.casefold() or "\uffff", e.e164))


def phonebook_entry_find(*, vos_account: VosAccount, e164: str) -> PhoneBookEntry | None:
    for entry in phonebook_entries(vos_account=vos_account):
        if entry.e164 == e164:
            return entry
    return None


def _check_room(
    *, vos_account: VosAccount, entry: PhoneBookEntry, existing: list[PhoneBookEntry]
) -> None:
    if any(e.e164 == entry.e164 for e in existing):
        raise PhoneBookRefused(_("This number is already in your phone book."), field="e164")
    limit = phonebook_limit(vos_account)
    if limit is not None and len(existing) >= limit:
        raise PhoneBookRefused(
            _("Your phone book is full (limit: %(limit)d entries).") % {"limit": limit}
        )


@contextmanager
def _audited(*, vos_account: VosAccount, action: str, actor: Actor, **detail) -> Iterator[None]:
    """Audit one phone-book write: "rejected" (with VOS's text) when VOS refuses, else "ok"."""
    try:
        yield
    except VosRejected as exc:
        _audit(
            vos_account=vos_account,
            action=action,
            outcome="rejected",
            actor=actor,
            error=exc.message,
            **detail,
        )
        raise
    _audit(vos_account=vos_account, action=action, outcome="ok", actor=actor, **detail)


def phonebook_entry_create(*, vos_account: VosAccount, entry: PhoneBookEntry, actor: Actor) -> None:
    existing = phonebook_entries(vos_account=vos_account)
    _check_room(vos_account=vos_account, entry=entry, existing=existing)
    with _audited(vos_account=vos_account, action="phonebook.create", actor=actor, e164=entry.e164):
        _writer(vos_account).create_phone_book_entry(account=vos_account.account, entry=entry)


def phonebook_entry_update(
    *,
    vos_account: VosAccount,
    e164: str,
    entry: PhoneBookEntry,
    actor: Actor,
) -> None:
    """Change entry ``e164``; ``entry.e164`` may be a new number for it."""
    if entry.e164 != e164:
        existing = phonebook_entries(vos_account=vos_account)
        if any(e.e164 == entry.e164 for e in existing):
            raise PhoneBookRefused(_("This number is already in your phone book."), field="e164")
    with _audited(
        vos_account=vos_account,
        action="phonebook.update",
        actor=actor,
        e164=e164,
        new_e164=entry.e164,
    ):
        _writer(vos_account).modify_phone_book_entry(
            account=vos_account.account, e164=e164, entry=entry
        )


def phonebook_entry_delete(*, vos_account: VosAccount, e164: str, actor: Actor) -> None:
    with _audited(vos_account=vos_account, action="phonebook.delete", actor=actor, e164=e164):
        _writer(vos_account).delete_phone_book_entries(account=vos_account.account, e164s=[e164])


# --- CSV import and export -------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRowError:
    line: int
    e164: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[ImportRowError] = field(default_factory=list)
    # Set when VOS stopped answering part-way: the rows from ``stopped_at_line`` on were not sent.
    stopped: str = ""
    stopped_at_line: int | None = None

    @property
    def imported(self) -> int:
        return self.created + self.updated


def _decode(data: bytes) -> str:
    # Excel saves "CSV UTF-8" with a BOM, and plain "CSV" in the system code page (GB18030
    # on Chinese Windows).
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def phonebook_csv_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of an uploaded CSV, header names normalised.

    Raises PhoneBookRefused when the file has no e164 column or too many rows.
    """
    reader = csv.reader(io.StringIO(_decode(data)))
    header = next(reader, None)
    if not header:
        raise PhoneBookRefused(_("The file is empty."), field="file")
    names = [h.strip().lower().replace(" ", "_") for h in header]
    if "e164" not in names:
        raise PhoneBookRefused(
            _("The first line must name the columns: %(columns)s.")
            % {"columns": ", ".join(IMPORT_COLUMNS)},
            field="file",
        )
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise PhoneBookRefused(
                _("At most %(count)d rows can be imported at once.") % {"count": MAX_IMPORT_ROWS},
                field="file",
            )
        row = {
            name: (values[i].strip() if i < len(values) else "")
            for i, name in enumerate(names)
            if name in IMPORT_COLUMNS
        }
        rows.append((reader.line_num, row))
    return rows


def phonebook_import(
    *,
    vos_account: VosAccount,
    data: bytes,
    overwrite: bool = False,
    actor: Actor,
) -> ImportResult:
    """Add (and with ``overwrite``, update) entries from a CSV file, row by row.

    Every row is validated like the entry form; rows that are invalid, duplicated, already
    present (without ``overwrite``) or over the account's limit are reported and skipped.
    """
    rows = phonebook_csv_rows(data)
    existing = {e.e164 for e in phonebook_entries(vos_account=vos_account)}
    limit = phonebook_limit(vos_account)
    count = len(existing)
    seen: set[str] = set()
    result = ImportResult()
    writer = _writer(vos_account)
    for line, row in rows:
        try:
            entry = phonebook_entry_clean(row)
        except PhoneBookInvalid as exc:
            message = "; ".join(
                f"{FIELD_LABELS[name]}: {' '.join(errors)}" for name, errors in exc.errors.items()
            )
            result.errors.append(ImportRowError(line, row.get("e164", ""), message))
            continue
        if entry.e164 in seen:
            result.errors.append(
                ImportRowError(line, entry.e164, _("This number appears earlier in the file."))
            )
            continue
        seen.add(entry.e164)
        update = entry.e164 in existing
        if update and not overwrite:
            result.errors.append(
                ImportRowError(line, entry.e164, _("This number is already in your phone book."))
            )
            continue
        if not update and limit is not None and count >= limit:
            result.errors.append(
                ImportRowError(
                    line,
                    entry.e164,
                    _("Your phone book is full (limit: %(limit)d entries).") % {"limit": limit},
                )
            )
            continue
        try:
            writer.create_phone_book_entry(
                account=vos_account.account, entry=entry, overwrite=update
            )
        except VosRejected as exc:
            result.errors.append(ImportRowError(line, entry.e164, exc.message))
            continue
        except VosUnavailable as exc:
            result.stopped = exc.message
            result.stopped_at_line = line
            break
        if update:
            result.updated += 1
        else:
            result.created += 1
            count += 1
            existing.add(entry.e164)
    _audit(
        vos_account=vos_account,
        action="phonebook.import",
        outcome="partial" if result.errors or result.stopped else "ok",
        actor=actor,
        created=result.created,
        updated=result.updated,
        errors=len(result.errors),
        stopped=result.stopped,
    )
    return result


def phonebook_csv(entries: list[PhoneBookEntry]) -> str:
    """The phone book as CSV text in the import format (UTF-8 BOM added by the caller)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(IMPORT_COLUMNS)
    for e in entries:
        writer.writerow(
            [csv_cell(v) for v in (e.e164, e.name, " ".join(e.short_e164s), e.department, e.memo)]
        )
    return out.getvalue()

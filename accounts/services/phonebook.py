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
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from telephony.csvsafe import csv_cell, csv_value
from telephony.errors import Refused
from telephony.models import VosAccount
from telephony.vos import (
    PhoneBookEntry,
    VosClient,
    VosRejected,
    VosUnavailable,
    deadline_client_for,
    page_client_for,
    request_deadline,
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
# One separator rule everywhere (form, import, export): commas, semicolons or spaces.
SHORT_NUMBER_SPLIT = re.compile(r"[\s,;]+")
# What people write inside a number and VOS never stores: "+86 138-0000.9999", "(020) 1234".
NUMBER_PUNCTUATION = re.compile(r"[\s\-.()]+")
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


def number_clean(value: str) -> str:
    """A number as VOS stores it: spaces, dashes, dots and parentheses removed."""
    return NUMBER_PUNCTUATION.sub("", value or "")


def number_key(e164: str) -> str:
    """The form two numbers are compared in: "+8613800001002" is "8613800001002"."""
    return e164[1:] if e164.startswith("+") else e164


def _field_errors(values: dict[str, str]) -> dict[str, list[str]]:
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
    return errors


def phonebook_entry_clean(fields: dict) -> PhoneBookEntry:
    """An entry from the form's or a CSV row's fields, or PhoneBookInvalid (field -> messages)."""
    values = {name: str(fields.get(name) or "").strip() for name in FIELD_LABELS}
    values["e164"] = number_clean(values["e164"])
    errors = _field_errors(values)
    if errors:
        raise PhoneBookInvalid(errors)
    return PhoneBookEntry(
        e164=values["e164"],
        name=values["name"],
        short_e164s=tuple(split_short_numbers(values["short_numbers"])),
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


def _writer(vos_account: VosAccount, deadline: float | None = None) -> VosClient:
    # Writes are never retried; they get the server's normal timeouts, cut to what is left
    # of the request's one budget (VOS_WRITE_BUDGET_SECONDS) for the read and the write.
    return deadline_client_for(vos_account.server, deadline)


def names_cache_key(vos_account: VosAccount) -> str:
    """Where the call history keeps the phone book's names (phonebook_names)."""
    return f"phonebook:names:{vos_account.server_id}:{vos_account.account}"


def _audit(*, vos_account: VosAccount, action: str, outcome: str, actor: Actor, **detail) -> None:
    # Every write is audited, so this is where the call history's copy of the names goes.
    cache.delete(names_cache_key(vos_account))
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
    key = number_key(e164)
    for entry in phonebook_entries(vos_account=vos_account):
        if number_key(entry.e164) == key:
            return entry
    return None


def _short_owner(existing: list[PhoneBookEntry], entry: PhoneBookEntry) -> PhoneBookEntry | None:
    """Another entry already holding one of ``entry``'s short numbers (a short number dials
    one number, so it belongs to one entry)."""
    mine = set(entry.short_e164s)
    for other in existing:
        if mine.intersection(other.short_e164s):
            return other
    return None


def _check_entry(
    *, entry: PhoneBookEntry, others: list[PhoneBookEntry], number_taken: bool
) -> None:
    if number_taken:
        raise PhoneBookRefused(_("This number is already in your phone book."), field="e164")
    owner = _short_owner(others, entry)
    if owner is not None:
        raise PhoneBookRefused(
            _("A short number is already used by %(number)s.") % {"number": owner.e164},
            field="short_numbers",
        )


def _check_room(
    *, vos_account: VosAccount, entry: PhoneBookEntry, existing: list[PhoneBookEntry]
) -> None:
    key = number_key(entry.e164)
    _check_entry(
        entry=entry,
        others=existing,
        number_taken=any(number_key(e.e164) == key for e in existing),
    )
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
    writer = _writer(vos_account)  # the budget starts before the read
    existing = phonebook_entries(vos_account=vos_account)
    _check_room(vos_account=vos_account, entry=entry, existing=existing)
    with _audited(vos_account=vos_account, action="phonebook.create", actor=actor, e164=entry.e164):
        writer.create_phone_book_entry(account=vos_account.account, entry=entry)


def phonebook_entry_update(
    *,
    vos_account: VosAccount,
    e164: str,
    entry: PhoneBookEntry,
    actor: Actor,
) -> None:
    """Change entry ``e164``; ``entry.e164`` may be a new number for it."""
    writer = _writer(vos_account)  # the budget starts before the read
    old_key, new_key = number_key(e164), number_key(entry.e164)
    others = [
        e for e in phonebook_entries(vos_account=vos_account) if number_key(e.e164) != old_key
    ]
    _check_entry(
        entry=entry,
        others=others,
        number_taken=any(number_key(e.e164) == new_key for e in others),
    )
    with _audited(
        vos_account=vos_account,
        action="phonebook.update",
        actor=actor,
        e164=e164,
        new_e164=entry.e164,
    ):
        writer.modify_phone_book_entry(account=vos_account.account, e164=e164, entry=entry)


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


def _looks_like_gb18030(text: str) -> bool:
    """False for text that decodes as GB18030 only by accident.

    A Latin-1 (or Windows-1252) file decodes as GB18030 without error more often than not:
    an accented letter followed by an ASCII one lands in GBK's extension area (a two-byte
    character whose second byte is ASCII) or in the user-defined area (private use). Real
    Chinese text from Excel is GB2312 almost always, whose two bytes are both above 0xA0.
    """
    for char in text:
        if char.isascii():
            continue
        if "\ue000" <= char <= "\uf8ff":
            return False
        encoded = char.encode("gb18030")
        if len(encoded) == 2 and encoded[1] < 0x80:
            return False
    return True


def _decode(data: bytes) -> str:
    # Excel saves "CSV UTF-8" with a BOM, and plain "CSV" in the system code page (GB18030
    # on Chinese Windows). Anything else is refused rather than silently garbled.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        text = None
    if text is None or not _looks_like_gb18030(text):
        raise PhoneBookRefused(
            _(
                'This file is neither UTF-8 nor GB18030 text. Save it as "CSV UTF-8" and '
                "upload it again."
            ),
            field="file",
        )
    return text


def _csv_header(reader) -> list[str]:
    header = next(reader, None)
    if not header:
        raise PhoneBookRefused(_("The file is empty."), field="file")
    names = [csv_value(h).strip().lower().replace(" ", "_") for h in header]
    if "e164" not in names:
        raise PhoneBookRefused(
            _("The first line must name the columns: %(columns)s.")
            % {"columns": ", ".join(IMPORT_COLUMNS)},
            field="file",
        )
    return names


def _csv_records(reader, names: list[str]) -> list[tuple[int, dict[str, str]]]:
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise PhoneBookRefused(
                _("At most %(count)d rows can be imported at once.") % {"count": MAX_IMPORT_ROWS},
                field="file",
            )
        # csv_value undoes the export's formula guard, so export -> import is the identity.
        row = {
            name: (csv_value(values[i]).strip() if i < len(values) else "")
            for i, name in enumerate(names)
            if name in IMPORT_COLUMNS
        }
        rows.append((reader.line_num, row))
    return rows


def phonebook_csv_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) pairs of an uploaded CSV, header names normalised.

    Raises PhoneBookRefused when the file is not UTF-8 or GB18030 text, is not CSV, has no
    e164 column or has too many rows.
    """
    reader = csv.reader(io.StringIO(_decode(data)))
    try:
        return _csv_records(reader, _csv_header(reader))
    except csv.Error as exc:
        # e.g. a field over the csv module's 128 KB limit, or a NUL byte
        raise PhoneBookRefused(
            _("Line %(line)d of the file is not valid CSV.") % {"line": reader.line_num},
            field="file",
        ) from exc


def _row_message(exc: PhoneBookInvalid) -> str:
    return "; ".join(
        f"{FIELD_LABELS[name]}: {' '.join(errors)}" for name, errors in exc.errors.items()
    )


class _Import:
    """One import run: the book as it grows, what the file has claimed so far."""

    def __init__(self, *, vos_account: VosAccount, overwrite: bool):
        self.vos_account = vos_account
        self.overwrite = overwrite
        self.book = {number_key(e.e164): e for e in phonebook_entries(vos_account=vos_account)}
        self.limit = phonebook_limit(vos_account)
        self.seen: set[str] = set()
        self.result = ImportResult()
        # An import may send up to MAX_IMPORT_ROWS writes: its own, longer budget; the rows
        # it leaves unsent are reported (stopped_at_line) for a second upload.
        self.writer = _writer(
            vos_account, request_deadline(settings.PHONEBOOK_IMPORT_BUDGET_SECONDS)
        )

    def refusal(self, entry: PhoneBookEntry) -> str:
        """Why this row is skipped, or ""."""
        key = number_key(entry.e164)
        if key in self.seen:
            return _("This number appears earlier in the file.")
        self.seen.add(key)
        update = key in self.book
        if update and not self.overwrite:
            return _("This number is already in your phone book.")
        owner = _short_owner([e for k, e in self.book.items() if k != key], entry)
        if owner is not None:
            return _("A short number is already used by %(number)s.") % {"number": owner.e164}
        if not update and self.limit is not None and len(self.book) >= self.limit:
            return _("Your phone book is full (limit: %(limit)d entries).") % {"limit": self.limit}
        return ""

    def row(self, line: int, row: dict[str, str]) -> bool:
        """Import one row; False when VOS stopped answering (the rest is not sent)."""
        try:
            entry = phonebook_entry_clean(row)
        except PhoneBookInvalid as exc:
            self.result.errors.append(ImportRowError(line, row.get("e164", ""), _row_message(exc)))
            return True
        refusal = self.refusal(entry)
        if refusal:
            self.result.errors.append(ImportRowError(line, entry.e164, refusal))
            return True
        return self.send(line, entry)

    def send(self, line: int, entry: PhoneBookEntry) -> bool:
        key = number_key(entry.e164)
        current = self.book.get(key)
        if current is not None:
            # Overwrite the entry VOS holds under its own spelling of the number.
            entry = replace(entry, e164=current.e164)
        try:
            self.writer.create_phone_book_entry(
                account=self.vos_account.account, entry=entry, overwrite=current is not None
            )
        except VosRejected as exc:
            self.result.errors.append(ImportRowError(line, entry.e164, exc.message))
            return True
        except VosUnavailable as exc:
            self.result.stopped = exc.message
            self.result.stopped_at_line = line
            return False
        if current is not None:
            self.result.updated += 1
        else:
            self.result.created += 1
        self.book[key] = entry
        return True


def phonebook_import(
    *,
    vos_account: VosAccount,
    data: bytes,
    overwrite: bool = False,
    actor: Actor,
) -> ImportResult:
    """Add (and with ``overwrite``, update) entries from a CSV file, row by row.

    Every row is validated like the entry form; rows that are invalid, duplicated (numbers
    compared without a leading +), already present (without ``overwrite``), holding a short
    number of another entry or over the account's limit are reported and skipped.
    """
    rows = phonebook_csv_rows(data)
    run = _Import(vos_account=vos_account, overwrite=overwrite)
    for line, row in rows:
        if not run.row(line, row):
            break
    result = run.result
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

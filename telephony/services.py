"""The customer's VOS phone book: live reads and writes through the VOS client.

Callers catch ``VosUnavailable`` (show a notice) and ``VosRejected`` (show ``exc.message``);
``PhoneBookRefused`` is raised before anything is sent when the portal itself can tell the
change would fail (a number already present, the account's limit reached).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from billing.services import Actor, audit_log

from .forms import PhoneBookEntryForm
from .models import VosAccount
from .vos import PhoneBookEntry, VosClient, VosRejected, VosUnavailable, page_client_for

# VOS reports "no limit" as the largest Java int.
UNLIMITED = 2**31 - 1
IMPORT_COLUMNS = ("e164", "name", "short_numbers", "department", "memo")
MAX_IMPORT_ROWS = 2000


class PhoneBookRefused(Exception):
    """A change the portal refuses without asking VOS; ``field`` names the form field."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


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
    return vos_account.server.client()


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
        form = PhoneBookEntryForm(data=row)
        if not form.is_valid():
            message = "; ".join(
                f"{form.fields[name].label}: {' '.join(errors)}"
                if name in form.fields
                else " ".join(errors)
                for name, errors in form.errors.items()
            )
            result.errors.append(ImportRowError(line, row.get("e164", ""), message))
            continue
        entry = form.entry()
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


def csv_cell(value) -> str:
    """Text a spreadsheet shows as text, never runs as a formula ("+8613..." stays as is)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not text[1:].replace(".", "", 1).isdigit()
    ):
        return "'" + text
    return text


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

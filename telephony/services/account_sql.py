"""The batch UPDATE of the account mirror in plain SQL (`mirror.accounts_apply`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from ..models import MIRRORED_FIELDS, VosAccount


class AccountSql:
    """The statements of `accounts_apply`, in plain SQL: on a batch of 200 accounts, building
    them through the ORM took longer than running them.

    Each UPDATE carries the `mirror.fresh_enough` condition: a reading older than the stored one
    never overwrites it.
    """

    def __init__(self, read_at: datetime) -> None:
        # The connection itself, not the proxy: row() asks it for every field of every row.
        self.connection = transaction.get_connection()
        meta = VosAccount._meta
        quote = self.connection.ops.quote_name
        self.fields = [meta.get_field(name) for name in sorted(MIRRORED_FIELDS)]
        self.stamp = meta.get_field("balance_as_of").get_db_prep_save(read_at, self.connection)
        col = {f.name: quote(f.column) for f in meta.concrete_fields}
        table, pk, as_of = quote(meta.db_table), quote(meta.pk.column), col["balance_as_of"]

        def fresh(prefix: str = "") -> str:
            return f"({prefix}{as_of} IS NULL OR {prefix}{as_of} <= %s)"

        stamped = f"{col['wire_digest']} = %s, {as_of} = %s, {col['missing_since']} = NULL"
        # One UPDATE a row, sent by executemany.
        assignments = ", ".join(f"{col[f.name]} = %s" for f in self.fields)
        self._write_row = (
            f"UPDATE {table} SET {assignments}, {stamped} WHERE {pk} = %s AND {fresh()}"
        )
        # PostgreSQL: one UPDATE ... FROM (VALUES ...) a batch (a statement a row costs a
        # round of the protocol each, even pipelined).
        names = ", ".join(quote(f.column) for f in self.fields)
        casts = ", ".join(
            f"{col[f.name]} = CAST(v.{quote(f.column)} AS {f.db_type(self.connection)})"
            for f in self.fields
        )
        self._write_joined = (
            f"UPDATE {table} AS t SET {casts}, {col['wire_digest']} = v.digest, "
            f"{as_of} = %s, {col['missing_since']} = NULL "
            f"FROM (VALUES {{rows}}) AS v(pk, digest, {names}) "
            f"WHERE t.{pk} = v.pk AND {fresh('t.')}"
        )

    def row(self, pk: int, digest: str, fields: dict) -> tuple:
        return (
            pk,
            digest,
            *(f.get_db_prep_save(fields[f.name], self.connection) for f in self.fields),
        )

    def write(self, cursor, rows: Sequence[tuple]) -> int:
        """Write every `row` unless a newer reading is stored; returns the rows written."""
        if self.connection.vendor == "postgresql":
            marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
            cursor.execute(
                self._write_joined.format(rows=", ".join([marks] * len(rows))),
                [self.stamp, *(value for row in rows for value in row), self.stamp],
            )
        else:
            cursor.executemany(
                self._write_row,
                [(*values, digest, self.stamp, pk, self.stamp) for pk, digest, *values in rows],
            )
        return cursor.rowcount

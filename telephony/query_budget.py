"""A time budget for one read query on a page: past it the database stops the query.

PostgreSQL: ``SET LOCAL statement_timeout`` inside a transaction. SQLite: a progress handler
that interrupts the statement once the deadline has passed. Either way the caller gets
:class:`QueryTooSlow` and shows a notice instead of waiting (a number search that adds up
every matching call of a long window: billing.call_views)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection, transaction

# SQLite calls the handler every this many virtual-machine instructions (~0.1 ms).
_SQLITE_STEPS = 1000


class QueryTooSlow(Exception):
    """The query did not finish within its budget and was stopped."""


@contextmanager
def query_budget(seconds: float) -> Iterator[None]:
    """Run the block's queries within ``seconds`` in all, or raise QueryTooSlow."""
    if connection.vendor == "postgresql":
        with _postgres(seconds):
            yield
    elif connection.vendor == "sqlite":
        with _sqlite(seconds):
            yield
    else:
        yield


@contextmanager
def _postgres(seconds: float) -> Iterator[None]:
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [max(1, int(seconds * 1000))])
            yield
            # Inside an outer transaction SET LOCAL would outlive this block's savepoint.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) == "57014":  # query_canceled
            raise QueryTooSlow from error
        raise


@contextmanager
def _sqlite(seconds: float) -> Iterator[None]:
    deadline = time.monotonic() + seconds
    connection.ensure_connection()
    raw = connection.connection
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), _SQLITE_STEPS)
    try:
        yield
    except DatabaseError as error:
        if "interrupted" in str(error):
            raise QueryTooSlow from error
        raise
    finally:
        raw.set_progress_handler(None, 0)

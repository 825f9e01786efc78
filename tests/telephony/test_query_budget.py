"""telephony.query_budget stops a query past its budget, on both databases."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from telephony.query_budget import QueryTooSlow, query_budget

pytestmark = pytest.mark.django_db


def _slow_sql() -> str:
    if connection.vendor == "postgresql":
        return "SELECT pg_sleep(2)"
    # About a second of work for SQLite's virtual machine.
    return (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000000)"
        " SELECT count(*) FROM n"
    )


def test_a_query_past_its_budget_is_stopped_and_named():
    started = time.monotonic()
    with pytest.raises(QueryTooSlow):
        with query_budget(0.05):
            with connection.cursor() as cursor:
                cursor.execute(_slow_sql())
                cursor.fetchall()
    assert time.monotonic() - started < 1.0


def test_a_query_within_its_budget_answers_and_the_connection_stays_usable():
    with query_budget(5):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 + 1")
            assert cursor.fetchone()[0] == 2
    with pytest.raises(QueryTooSlow):
        with query_budget(0.05):
            with connection.cursor() as cursor:
                cursor.execute(_slow_sql())
                cursor.fetchall()
    # No budget left behind: a later query runs to the end.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2 + 2")
        assert cursor.fetchone()[0] == 4

"""Fixture setup for the scenarios (never measured): server rows, mirrors, users, bulk CDRs.

Accounts follow the emulator's scale seed: customers ``c000001``..., agents ``a0001``...,
customer ``i`` under agent ``(i - 1) % agents + 1``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

SCALE_AGENTS = 50
BULK_CHUNK = 250_000


def customer_name(i: int) -> str:
    return f"c{i:06d}"


def agent_name(j: int) -> str:
    return f"a{j:04d}"


def agent_of(i: int, agents: int = SCALE_AGENTS) -> str:
    return agent_name((i - 1) % agents + 1)


def server_create(url: str, name: str = "bench"):
    from telephony.models import VosServer

    server, _ = VosServer.objects.update_or_create(
        name=name, defaults={"url": url, "connect_timeout": 3, "read_timeout": 60}
    )
    return server


def mirror_create(server, customers: int, agents: int = SCALE_AGENTS) -> None:
    """VosAccount rows as discovery would leave them (figures are refreshed by the scenario)."""
    from telephony.models import VosAccount

    rows = [
        VosAccount(server=server, account=agent_name(j), name=f"Agent {j:04d}")
        for j in range(1, min(agents, customers) + 1)
    ] + [
        VosAccount(
            server=server,
            account=customer_name(i),
            name=f"Customer {i:06d}",
            agent_account=agent_of(i, agents),
        )
        for i in range(1, customers + 1)
    ]
    VosAccount.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)


def user_create(*, username: str, role: str, vos_account):
    from django.contrib.auth import get_user_model

    from accounts.services.onboarding import portal_user_create

    existing = get_user_model().objects.filter(username=username).first()
    if existing is not None:
        return existing
    return portal_user_create(
        username=username,
        password="bench-" + username,
        role=role,
        vos_account=vos_account,
        email=f"{username}@example.com",
    )


def session_cookie(user) -> tuple[str, str]:
    """(cookie name, value) of a logged-in session stored in the database."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value


# --- Bulk call records ----------------------------------------------------------------------


@dataclass(frozen=True)
class CdrFixture:
    """``total`` rows in the table, ``target_rows`` of them for customer 1, all in the window."""

    total: int
    target_rows: int
    others: int  # how many other customers share the rest
    first: date
    last: date

    @property
    def begin(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time(), tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def _cdr_select(vendor: str, fixture: CdrFixture, server_id: int, lo: int, hi: int) -> str:
    """INSERT ... SELECT of rows lo..hi-1, deterministic in n, all computed by the database."""
    total, target, others = fixture.total, fixture.target_rows, max(1, fixture.others)
    begin = int(fixture.begin.timestamp())
    window = int((fixture.end - fixture.begin).total_seconds()) - 3600
    rest = max(1, total - target)
    if vendor == "postgresql":
        seq = f"SELECT n FROM generate_series({lo}::bigint, {hi - 1}::bigint) AS n"
        pad = "lpad(({x})::text, {w}, '0')"
        moment = "to_timestamp({x})"
        key = "'bench-' || n::text"
        ip = "'203.0.113.' || (idx % 250)::text"
    else:
        seq = (
            f"WITH RECURSIVE seq(n) AS (SELECT {lo} UNION ALL SELECT n + 1 FROM seq "
            f"WHERE n < {hi - 1}) SELECT n FROM seq"
        )
        pad = "printf('%0{w}d', {x})"
        moment = "strftime('%Y-%m-%d %H:%M:%S', {x}, 'unixepoch')"
        key = "'bench-' || n"
        ip = "'203.0.113.' || (idx % 250)"
    prefix = "CASE n % 4 WHEN 0 THEN '86139' WHEN 1 THEN '86755' WHEN 2 THEN '1' ELSE '852' END"
    inner = f"""
        SELECT n,
          CASE WHEN n < {target} THEN 1 ELSE 2 + (n % {others}) END AS idx,
          CASE WHEN n < {target} THEN (n * {window}) / {target}
               ELSE ((n - {target}) * {window}) / {rest} END AS off,
          CASE WHEN (n * 7919) % 100 < 65 THEN 1 + (n * 104729) % 600 ELSE 0 END AS hold
        FROM ({seq}) AS numbers
    """
    columns = (
        "server_id, natural_key, flow_no, account, agent_account, caller_e164, "
        "caller_access_e164, callee_e164, callee_access_e164, caller_gateway, callee_gateway, "
        "caller_ip, callee_ip, start, stop, hold_time, fee_time, fee, fee_prefix, call_level, "
        "end_direction, end_reason"
    )
    fee_time = "(((hold + 59) / 60) * 60)"
    values = ", ".join(
        [
            str(server_id),
            key,
            "n + 1",
            "'c' || " + pad.format(x="idx", w=6),
            "'a' || " + pad.format(x=f"(idx - 1) % {SCALE_AGENTS} + 1", w=4),
            "'86170' || " + pad.format(x="idx", w=8),
            "'86170' || " + pad.format(x="idx", w=8),
            prefix + " || " + pad.format(x="(n * 31) % 100000000", w=8),
            prefix + " || " + pad.format(x="(n * 31) % 100000000", w=8),
            "''",
            "CASE WHEN n % 4 < 2 THEN 'GW-CN-MOBILE' ELSE 'GW-INTL-B' END",
            ip,
            "'198.51.100.11'",
            moment.format(x=f"{begin} + off"),
            moment.format(x=f"{begin} + off + 5 + hold"),
            "hold",
            fee_time,
            f"round({fee_time} * 0.05 / 60.0, 4)",
            prefix,
            "4",
            "n % 3",
            "CASE WHEN hold > 0 THEN 16 ELSE 17 END",
        ]
    )
    return f"INSERT INTO telephony_cdr ({columns}) SELECT {values} FROM ({inner}) AS rows_"


def cdrs_bulk_insert(server, fixture: CdrFixture, progress=None) -> float:
    """Insert the fixture's rows with INSERT ... SELECT (no Python per row); returns seconds.

    Idempotent: a table already holding ``fixture.total`` rows of ``server`` is left alone.
    """
    from django.db import connection, transaction

    from telephony.models import Cdr, CdrRollup

    started = time.perf_counter()
    have = Cdr.objects.filter(server=server).count()
    if have == fixture.total:
        return 0.0
    if have:
        Cdr.objects.filter(server=server).delete()
        CdrRollup.objects.filter(server=server).delete()
    for lo in range(0, fixture.total, BULK_CHUNK):
        hi = min(fixture.total, lo + BULK_CHUNK)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_cdr_select(connection.vendor, fixture, server.pk, lo, hi))
        if progress:
            progress(hi)
    # The rows went in behind the ingest's back: their rollups come from the rebuild, as
    # `manage.py cdr_rollups_rebuild` makes them (not part of any measured figure).
    from telephony.services.cdr_rollups import rollups_rebuild

    rollups_rebuild(server_id=server.pk)
    with connection.cursor() as cursor:
        # A table in steady state, as autovacuum keeps it in production: statistics, and on
        # PostgreSQL a visibility map so the covering index can serve totals index-only.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return time.perf_counter() - started


def table_analyze(model) -> str:
    """ANALYZE ``model``'s table, as autovacuum does on a production server after a large
    change (test servers often run without it); returns the server's autovacuum setting."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        if connection.vendor != "postgresql":
            return "n/a"
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def customer_with_calls(*, url: str, total: int, target_rows: int, others: int, days: int):
    """A customer login on ``c000001`` whose last ``days`` closed days hold ``target_rows``
    calls, in a table of ``total`` rows. Returns (user, vos_account, fixture)."""
    from django.utils import timezone

    from accounts.models import Role
    from telephony.models import VosAccount

    server = server_create(url)
    mirror_create(server, others + 1)
    last = timezone.now().astimezone(UTC).date() - timedelta(days=1)
    fixture = CdrFixture(
        total=total,
        target_rows=target_rows,
        others=others,
        first=last - timedelta(days=days - 1),
        last=last,
    )
    seconds = cdrs_bulk_insert(server, fixture)
    if seconds:
        print(f"fixture: {total:,} call records in {seconds:.1f} s", flush=True)
    account = VosAccount.objects.select_related("server").get(
        server=server, account=customer_name(1)
    )
    user = user_create(username="bench-customer", role=Role.CUSTOMER, vos_account=account)
    return user, account, fixture

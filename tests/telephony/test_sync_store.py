"""Writing what VOS answered: call records as plain rows, balance batches in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Sum

from telephony import vos
from telephony.models import MIRRORED_FIELDS, Cdr, CdrRollup, VosAccount
from telephony.services import cdr_store, mirror
from telephony.vos import CdrRecord, CustomerAnswer, VosUnavailable

from .factories import VosAccountFactory, VosServerFactory, customer_answer

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 23, 59, 58, 123000, tzinfo=UTC)


def cdr_record(**overrides) -> CdrRecord:
    fields = {
        "account": "1001",
        "agent_account": "agent01",
        "caller_e164": "8613800001001",
        "caller_access_e164": "8613800001001",
        "callee_e164": "8675512345678",
        "callee_access_e164": "008675512345678",
        "caller_gateway": "gw-in",
        "callee_gateway": "gw-out",
        "caller_ip": "10.0.0.5",
        "callee_ip": "10.0.0.9",
        "start": START,
        "stop": START + timedelta(seconds=61, milliseconds=500),
        "hold_time": 61,
        "fee_time": 120,
        "fee": Decimal("0.1234"),
        "fee_prefix": "86755",
        "call_level": 1,
        "end_direction": 2,
        "end_reason": -9,
        "flow_no": 42,
    }
    return CdrRecord(**{**fields, **overrides})


@pytest.fixture
def server():
    return VosServerFactory()


def test_a_stored_cdr_reads_back_through_the_orm_as_the_record(server):
    record = cdr_record(callee_e164="9" * 80, hold_time=-1, flow_no=None)

    assert cdr_store.cdrs_store(server=server, records=[record]) == 1

    cdr = Cdr.objects.get(server=server, start=record.start)
    assert cdr.natural_key == record.natural_key
    assert cdr.flow_no is None
    assert cdr.start == record.start and cdr.stop == record.stop
    assert cdr.start.utcoffset() == timedelta(0)
    assert cdr.stop.microsecond == 623000
    assert cdr.fee == Decimal("0.1234")
    assert cdr.callee_e164 == "9" * 64
    assert cdr.hold_time == 0
    for name in (
        "account",
        "agent_account",
        "caller_e164",
        "caller_access_e164",
        "callee_access_e164",
        "caller_gateway",
        "callee_gateway",
        "caller_ip",
        "callee_ip",
        "fee_time",
        "fee_prefix",
        "call_level",
        "end_direction",
        "end_reason",
    ):
        assert getattr(cdr, name) == getattr(record, name), name


@pytest.mark.parametrize(
    "overrides",
    [
        {
            "hold_time": 2**31 - 1,
            "fee_time": 0,
            "call_level": 2**15 - 1,
            "end_direction": 0,
            "end_reason": -(2**31),
            "flow_no": 2**63 - 1,
            # SQLite keeps NUMERIC as a double: 15 digits read back exactly.
            "fee": Decimal("99999999999.9999"),
        },
        {"fee": Decimal("-0.0001"), "end_reason": 2**31 - 1, "flow_no": -(2**63)},
        {"fee": Decimal("12"), "account": "客户-Ünïcode", "caller_gateway": "", "flow_no": 0},
        {"start": datetime(2100, 12, 31, 23, 59, 59, 999000, tzinfo=UTC), "fee": Decimal(0)},
        {"start": datetime(2026, 3, 1, 8, 0, 0, 1000, tzinfo=ZoneInfo("Asia/Kolkata"))},
    ],
)
def test_values_at_the_bounds_of_their_columns_are_stored_exactly(server, overrides):
    """Whatever the decoding lets through fits its column, and reads back unchanged."""
    record = cdr_record(**{"stop": START, **overrides})

    assert cdr_store.cdrs_store(server=server, records=[record]) == 1

    cdr = Cdr.objects.get(server=server)
    for name in CdrRecord._fields:
        assert getattr(cdr, name) == getattr(record, name), name
    assert cdr.natural_key == record.natural_key


def test_a_whole_second_start_is_found_by_time_range_lookups(server):
    record = cdr_record(start=START.replace(microsecond=0))

    cdr_store.cdrs_store(server=server, records=[record])

    assert Cdr.objects.filter(start__gte=record.start, start__lt=record.stop).count() == 1
    assert Cdr.objects.filter(start__gt=record.start).count() == 0


@pytest.mark.parametrize(
    "moment",
    [
        START,
        START.replace(microsecond=0),
        datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 3, 1, 8, 0, 0, 1000, tzinfo=ZoneInfo("Asia/Shanghai")),
    ],
)
def test_row_times_are_what_the_orm_stores(moment):
    """The ingest's raw-SQL time values are the ORM's own (SQLite: its UTC text)."""
    adapt = cdr_store._datetime_adapter()
    if connection.vendor == "postgresql":
        assert adapt([moment])[0] is moment
    else:
        assert list(adapt([moment])) == [connection.ops.adapt_datetimefield_value(moment)]
        # A column of UTC times with one in another zone: each as the ORM stores it.
        column = [START, moment, START.replace(microsecond=0)]
        assert list(adapt(column)) == list(map(connection.ops.adapt_datetimefield_value, column))


def test_stored_times_order_and_filter_as_orm_written_ones(server):
    starts = [
        START.replace(microsecond=0),
        START,
        START + timedelta(microseconds=1),
        START.replace(microsecond=0) + timedelta(seconds=1),
        START.astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(minutes=1),
    ]
    records = [cdr_record(start=start, stop=start, flow_no=n) for n, start in enumerate(starts)]

    assert cdr_store.cdrs_store(server=server, records=records[::-1]) == len(records)

    rows = Cdr.objects.filter(server=server)
    assert list(rows.order_by("start").values_list("start", flat=True)) == sorted(starts)
    assert rows.filter(start__gt=START).count() == 3
    assert rows.filter(start__gte=START, start__lt=starts[3]).count() == 2
    assert rows.get(start=starts[4]).flow_no == 4


def test_storing_records_counts_only_the_rows_added(server):
    first, second = cdr_record(flow_no=1), cdr_record(flow_no=2)

    assert cdr_store.cdrs_store(server=server, records=[first, second, first]) == 2
    assert cdr_store.cdrs_store(server=server, records=[second, cdr_record(flow_no=3)]) == 1
    assert cdr_store.cdrs_store(server=server, records=[]) == 0
    assert Cdr.objects.filter(server=server).count() == 3


def test_batches_are_stored_whole_across_the_batch_size(server, monkeypatch):
    monkeypatch.setattr(cdr_store, "CDR_INSERT_BATCH", 3)
    records = [cdr_record(flow_no=n) for n in range(8)]

    assert cdr_store.cdrs_store(server=server, records=records) == 8
    assert cdr_store.cdrs_store(server=server, records=records) == 0


def test_the_same_key_on_another_server_is_another_call(server):
    record = cdr_record()

    cdr_store.cdrs_store(server=server, records=[record])

    assert cdr_store.cdrs_store(server=VosServerFactory(), records=[record]) == 1


def test_last_call_at_moves_forward_only(server):
    account = VosAccountFactory(server=server, account="1001")
    other = VosAccountFactory(server=server, account="1002")
    later = START + timedelta(hours=1)

    cdr_store.cdrs_store(
        server=server,
        records=[
            cdr_record(flow_no=1),
            cdr_record(flow_no=2, start=later),
            cdr_record(flow_no=3, account="1002"),
        ],
    )
    account.refresh_from_db()
    other.refresh_from_db()
    assert account.last_call_at == later
    assert other.last_call_at == START

    cdr_store.cdrs_store(
        server=server, records=[cdr_record(flow_no=4, start=START - timedelta(days=1))]
    )
    account.refresh_from_db()
    assert account.last_call_at == later


def test_a_call_already_stored_does_not_move_last_call_at(server):
    """last_call_at follows the calls the batch inserted, not one a re-sync sent again."""
    account = VosAccountFactory(server=server, account="1001")
    stored = cdr_record(flow_no=1, start=START + timedelta(hours=2))
    cdr_store.cdrs_store(server=server, records=[stored])
    VosAccount.objects.filter(pk=account.pk).update(last_call_at=None)

    assert cdr_store.cdrs_store(server=server, records=[cdr_record(flow_no=2), stored]) == 1

    account.refresh_from_db()
    assert account.last_call_at == START


def test_the_orm_fallback_stores_rolls_up_and_moves_last_call_at_as_raw_sql(server, monkeypatch):
    """A backend without ON CONFLICT takes the ORM's path, with the same outcome."""
    monkeypatch.setattr(cdr_store, "_ON_CONFLICT_VENDORS", set())
    account = VosAccountFactory(server=server, account="1001")
    later = START + timedelta(hours=1)
    records = [
        cdr_record(flow_no=1),
        cdr_record(flow_no=2, start=later, hold_time=0, fee=Decimal("0")),
        cdr_record(flow_no=1),
        cdr_record(flow_no=3, caller_ip="1" * 70, call_level=-1),
    ]

    assert cdr_store.cdrs_store(server=server, records=records) == 3
    assert cdr_store.cdrs_store(server=server, records=records) == 0

    account.refresh_from_db()
    assert account.last_call_at == later
    assert Cdr.objects.get(server=server, flow_no=3).caller_ip == "1" * 64
    totals = CdrRollup.objects.filter(server=server).aggregate(
        calls=Sum("calls"), answered=Sum("answered"), cost=Sum("cost")
    )
    assert totals == {"calls": 3, "answered": 2, "cost": Decimal("0.2468")}


def test_a_balance_batch_skips_only_the_rows_holding_a_newer_reading(server):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    newer = VosAccountFactory(
        server=server, account="1001", balance_as_of=read_at + timedelta(seconds=1)
    )
    older = VosAccountFactory(
        server=server, account="1002", balance_as_of=read_at - timedelta(seconds=1)
    )
    never = VosAccountFactory(server=server, account="1003", balance_as_of=None)
    gone = VosAccountFactory(
        server=server, account="1004", balance_as_of=None, missing_since=read_at
    )

    stored = mirror.accounts_apply(
        server=server,
        answers=[
            customer_answer("1001", "1"),
            customer_answer("1002", "2"),
            customer_answer("1003", "3"),
            customer_answer("1004", "4"),
            customer_answer("1005", "5"),
        ],
        read_at=read_at,
    )

    assert stored == 4
    balances = dict(VosAccount.objects.values_list("account", "balance"))
    assert balances == {
        "1001": newer.balance,
        "1002": Decimal("2"),
        "1003": Decimal("3"),
        "1004": Decimal("4"),
        "1005": Decimal("5"),
    }
    older.refresh_from_db()
    never.refresh_from_db()
    gone.refresh_from_db()
    assert older.balance_as_of == read_at == never.balance_as_of
    assert gone.missing_since is None
    assert VosAccount.objects.get(account="1001").balance_as_of == newer.balance_as_of


def test_an_unchanged_reading_writes_nothing_and_an_older_one_never_overwrites(server):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    mirror.accounts_apply(server=server, answers=[customer_answer("1001", "7")], read_at=read_at)

    later = read_at + timedelta(minutes=5)
    assert (
        mirror.accounts_apply(server=server, answers=[customer_answer("1001", "7")], read_at=later)
        == 0
    )
    assert VosAccount.objects.get(account="1001").balance_as_of == read_at
    earlier = read_at - timedelta(minutes=1)
    assert (
        mirror.accounts_apply(
            server=server, answers=[customer_answer("1001", "8")], read_at=earlier
        )
        == 0
    )
    assert VosAccount.objects.get(account="1001").balance == Decimal("7")


def test_an_unchanged_record_is_not_decoded_again(server, monkeypatch):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    mirror.accounts_apply(server=server, answers=[customer_answer("1001", "7")], read_at=read_at)
    decoded = []
    original = CustomerAnswer.decode
    monkeypatch.setattr(
        CustomerAnswer, "decode", lambda self: decoded.append(self.account) or original(self)
    )

    mirror.accounts_apply(
        server=server,
        answers=[customer_answer("1001", "7"), customer_answer("1002", "3")],
        read_at=read_at + timedelta(minutes=1),
    )

    assert decoded == ["1002"]


def test_a_changed_record_is_written_with_its_new_digest(server):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    mirror.accounts_apply(server=server, answers=[customer_answer("1001", "7")], read_at=read_at)
    moved = customer_answer("1001", "6.5", todayConsumption=Decimal("0.5"), lockType=1)

    written = mirror.accounts_apply(
        server=server, answers=[moved], read_at=read_at + timedelta(minutes=1)
    )

    account = VosAccount.objects.get(account="1001")
    assert written == 1
    assert (account.balance, account.today_consumption, account.locked) == (
        Decimal("6.5"),
        Decimal("0.5"),
        True,
    )
    assert account.wire_digest == moved.digest != customer_answer("1001", "7").digest


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(
            lambda a: mirror.balance_apply(
                server=a.server,
                account=a.account,
                money=Decimal("99"),
                read_at=a.balance_as_of + timedelta(seconds=1),
            ),
            id="push",
        ),
        pytest.param(
            lambda a: VosAccount.objects.filter(pk=a.pk).update(balance=Decimal("99")),
            id="update",
        ),
        pytest.param(
            lambda a: setattr(a, "balance", Decimal("99")) or a.save(update_fields=["balance"]),
            id="save",
        ),
        pytest.param(
            lambda a: (
                setattr(a, "balance", Decimal("99"))
                or VosAccount.objects.bulk_update([a], ["balance"])
            ),
            id="bulk_update",
        ),
    ],
)
def test_any_other_write_of_a_mirrored_figure_makes_the_next_sync_rewrite_it(server, write):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    mirror.accounts_apply(server=server, answers=[customer_answer("1001", "7")], read_at=read_at)
    account = VosAccount.objects.get(account="1001")

    write(account)

    account.refresh_from_db()
    assert (account.balance, account.wire_digest) == (Decimal("99"), "")
    # VOS still says 7 (the push was a stale hint, the edit a mistake): the sync puts it back.
    written = mirror.accounts_apply(
        server=server, answers=[customer_answer("1001", "7")], read_at=read_at + timedelta(hours=1)
    )
    account.refresh_from_db()
    assert written == 1
    assert account.balance == Decimal("7")


def test_writes_of_other_fields_keep_the_digest(server):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    mirror.accounts_apply(server=server, answers=[customer_answer("1001", "7")], read_at=read_at)
    account = VosAccount.objects.get(account="1001")
    digest = account.wire_digest

    VosAccount.objects.filter(pk=account.pk).update(last_call_at=read_at)
    account.save(update_fields=["last_call_at"])

    account.refresh_from_db()
    assert account.wire_digest == digest != ""


def test_a_missing_account_listed_again_is_revived_though_its_record_is_unchanged(server):
    read_at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    mirror.accounts_apply(server=server, answers=[customer_answer("1001", "7")], read_at=read_at)
    VosAccount.objects.update(missing_since=read_at)

    mirror.accounts_apply(
        server=server, answers=[customer_answer("1001", "7")], read_at=read_at + timedelta(hours=1)
    )

    assert VosAccount.objects.get(account="1001").missing_since is None


def test_every_mirrored_field_is_one_the_sync_copies():
    assert set(mirror.customer_fields(customer_answer("1001").decode())) == MIRRORED_FIELDS


def test_fetched_ahead_keeps_order_and_asks_one_at_a_time():
    import threading
    import time

    running = 0
    most = 0
    lock = threading.Lock()

    def fetch(item: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return item * 10

    seen = []
    for result in vos.fetched_ahead(fetch, range(5)):
        seen.append(result)
        time.sleep(0.02)  # the caller is slower: the next fetch is already done meanwhile

    assert seen == [0, 10, 20, 30, 40]
    assert most == 1


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        pytest.param(lambda fetch: vos.fetched_ahead(fetch, range(5)), [0, 1], id="one stage"),
        pytest.param(
            lambda fetch: vos.fetched_ahead(
                lambda item: item * 10, vos.fetched_ahead(fetch, range(5))
            ),
            [0, 10],
            id="error in the first of two stages",
        ),
    ],
)
def test_fetched_ahead_raises_the_fetch_error_where_its_result_is_due(stages, expected):
    def fetch(item: int) -> int:
        if item == 2:
            raise VosUnavailable("GetCdr", "no answer")
        return item

    seen = []
    with pytest.raises(VosUnavailable):
        for result in stages(fetch):
            seen.append(result)

    assert seen == expected


def test_fetched_ahead_stages_keep_order_and_overlap():
    """A second stage works on one result while the first fetches the next; each stage
    still makes its calls one at a time."""
    import threading
    import time

    events = []
    lock = threading.Lock()

    def fetch(item: int) -> int:
        with lock:
            events.append(("fetch", item))
        time.sleep(0.02)
        return item

    def decode(item: int) -> int:
        with lock:
            events.append(("decode", item))
        time.sleep(0.02)
        with lock:
            events.append(("decoded", item))
        return item * 10

    seen = list(vos.fetched_ahead(decode, vos.fetched_ahead(fetch, range(4))))

    assert seen == [0, 10, 20, 30]
    # While item 1 decodes, item 2 is being fetched: the fetch starts before the decoding ends.
    assert events.index(("fetch", 2)) < events.index(("decoded", 1))
    assert not any(t.name == "vos-ahead" for t in threading.enumerate())


def test_a_caller_stopping_early_stops_every_stage():
    import threading

    fetched = []

    def fetch(item: int) -> int:
        fetched.append(item)
        return item

    stages = vos.fetched_ahead(lambda item: item, vos.fetched_ahead(fetch, range(1000)))
    for result in stages:
        if result == 1:
            break
    stages.close()

    assert not any(t.name == "vos-ahead" for t in threading.enumerate())
    assert len(fetched) < 10


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"flow_no": None},
        {"caller_ip": "1" * 65},
        {"fee_prefix": "8" * 70},
        {"call_level": -1},
        {"end_direction": -2, "fee_time": -3},
    ],
)
def test_a_row_holds_each_column_of_its_record_by_name(overrides):
    """The row is a re-slicing of the record where nothing needs cutting or clamping: it must
    still match the columns by name, whatever the record holds, alone or in a batch whose
    other records fit."""
    record = cdr_record(**overrides)
    clamped = {"hold_time", "fee_time", "call_level", "end_direction"}
    expected = []
    for name in cdr_store._CDR_FIELDS:
        if name == "natural_key":
            value = record.natural_key
        elif name == "server":
            value = 7
        else:
            value = getattr(record, name)
        if name in {"start", "stop"}:
            value = str(value)
        elif isinstance(value, str):
            value = value[:64]
        elif name in clamped:
            value = max(0, value)
        expected.append(value)
    fitting = cdr_record(flow_no=99)

    texts = partial(map, str)
    assert cdr_store._cdr_rows(7, [record], texts) == [tuple(expected)]
    assert cdr_store._cdr_rows(7, [fitting, record], texts)[1] == tuple(expected)
    rows = cdr_store._cdr_rows(7, [record], cdr_store._unchanged)
    assert [str(v) if isinstance(v, datetime) else v for v in rows[0]] == expected


@pytest.mark.parametrize("count", [0, 1, 64, 300])
def test_statement_sizes_are_powers_of_two_that_add_up(count, monkeypatch):
    """A batch is split into statements of a dozen sizes at most, whatever its length."""
    monkeypatch.setattr(cdr_store, "SQLITE_ROWS_PER_STATEMENT", 100)
    with connection.cursor():  # the connection's own parameter limit is read
        sizes = cdr_store._sqlite_statement_sizes(count)

    assert sum(sizes) == count
    assert all(size & (size - 1) == 0 and size <= 64 for size in sizes)
    assert sizes == sorted(sizes, reverse=True)


def test_a_batch_of_many_statements_stores_and_counts_each_row_once(server, monkeypatch):
    """Rows of one batch spread over statements of several sizes, some of them holding keys
    stored before: every new row is stored once and counted once, into the rollups too."""
    monkeypatch.setattr(cdr_store, "SQLITE_ROWS_PER_STATEMENT", 64)
    records = [
        cdr_record(start=START + timedelta(minutes=n), stop=START + timedelta(minutes=n), flow_no=n)
        for n in range(300)
    ]
    stored_before = records[::3]

    assert cdr_store.cdrs_store(server=server, records=stored_before) == len(stored_before)
    assert cdr_store.cdrs_store(server=server, records=records) == 300 - len(stored_before)
    assert cdr_store.cdrs_store(server=server, records=records) == 0

    assert Cdr.objects.filter(server=server).count() == 300
    assert set(Cdr.objects.values_list("natural_key", flat=True)) == {
        record.natural_key for record in records
    }
    assert CdrRollup.objects.filter(server=server).aggregate(n=Sum("calls"))["n"] == 300


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own query plan")
def test_the_rollups_of_a_batch_read_only_its_rows_by_id():
    """The upsert adding a batch to the rollups reads the rows above an id through the rowid,
    never a scan of a whole index (which grows with every call stored)."""
    table = connection.ops.quote_name(Cdr._meta.db_table)
    with connection.cursor() as cursor:  # Django's cursor: the statement as the store runs it
        cursor.execute(f"EXPLAIN QUERY PLAN {cdr_store._sqlite_rollup_sql(table)}", [0])
        plan = [row[-1] for row in cursor.fetchall()]

    assert any("INTEGER PRIMARY KEY (rowid>?)" in step for step in plan), plan
    assert not any(step.startswith("SCAN") for step in plan), plan

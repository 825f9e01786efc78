"""The VOS client against the emulator over real HTTP on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from telephony.vos import (
    PayOutcomeUnknown,
    PhoneBookEntry,
    VosClient,
    VosIntervalTooLong,
    VosMalformed,
    VosNotFound,
    VosRejected,
    VosUnavailable,
)


def test_get_customer_reads_typed_figures(vos_client, vos_emulator):
    customer = vos_client.get_customer("1001")
    assert customer.account == "1001"
    assert isinstance(customer.money, Decimal)
    assert customer.money == vos_emulator.state.balance("1001")
    assert customer.agent_account == "agent01"
    assert customer.start_time is not None and customer.start_time.tzinfo is not None


def test_get_customers_batches_and_skips_unknown_accounts(vos_client, vos_emulator):
    found = vos_client.get_customers(["1001", "1002", "nobody", "2001"], batch_size=2)
    assert sorted(c.account for c in found) == ["1001", "1002", "2001"]
    assert vos_emulator.calls["GetCustomer"] == 2


def test_strict_servers_refusing_unknown_accounts_still_give_the_known_ones(
    vos_client, vos_emulator
):
    vos_emulator.faults.strict_unknown = True
    found = vos_client.get_customers(["1001", "nobody", "1002"], batch_size=10)
    assert sorted(c.account for c in found) == ["1001", "1002"]


def test_get_customer_of_an_unknown_account_is_not_found(vos_client):
    with pytest.raises(VosNotFound):
        vos_client.get_customer("nobody")


def test_get_all_customers_lists_every_account(vos_client):
    accounts = vos_client.get_all_customers()
    assert {"1001", "2001", "3001", "agent01"} <= set(accounts)


def test_pay_changes_the_balance_and_is_written_to_pay_history(vos_client, vos_emulator):
    before = vos_emulator.state.balance("1001")
    started = datetime.now(UTC) - timedelta(seconds=5)
    result = vos_client.pay(account="1001", amount=Decimal("12.3456"), memo="portal#7 张")
    assert result.balance_after == before + Decimal("12.3456")
    assert vos_emulator.state.balance("1001") == result.balance_after
    history = vos_client.get_pay_history(
        account="1001", begin=started, end=datetime.now(UTC) + timedelta(seconds=5)
    )
    (record,) = [r for r in history if r.memo == "portal#7 张"]
    assert record.fee == Decimal("12.3456")
    assert record.balance_after == result.balance_after


def test_a_negative_pay_deducts(vos_client, vos_emulator):
    before = vos_emulator.state.balance("1002")
    result = vos_client.pay(account="1002", amount=Decimal("-1.5"))
    assert result.balance_after == before - Decimal("1.5")


def test_pay_history_without_memos_reports_memo_as_unknown(vos_client, vos_emulator):
    vos_emulator.faults.pay_history_memo = False
    started = datetime.now(UTC) - timedelta(seconds=5)
    vos_client.pay(account="1001", amount=Decimal("1"), memo="portal#8")
    history = vos_client.get_pay_history(
        account="1001", begin=started, end=datetime.now(UTC) + timedelta(seconds=5)
    )
    assert history and all(r.memo is None for r in history)


def test_a_pay_whose_answer_is_dropped_is_unknown_although_applied(vos_client, vos_emulator):
    before = vos_emulator.state.balance("1001")
    vos_emulator.faults.drop_after_pay_rate = 1.0
    with pytest.raises(PayOutcomeUnknown):
        vos_client.pay(account="1001", amount=Decimal("3"))
    assert vos_emulator.state.balance("1001") == before + 3
    assert vos_emulator.calls["Pay"] == 1


def test_a_pay_to_an_unknown_account_is_rejected(vos_client):
    with pytest.raises(VosNotFound):
        vos_client.pay(account="nobody", amount=Decimal("3"))


def test_http_500_is_unavailable_and_reads_are_retried(vos_client, vos_emulator):
    vos_emulator.faults.error_rate = 1.0
    with pytest.raises(VosUnavailable):
        vos_client.get_all_customers()
    assert vos_emulator.calls["GetAllCustomers"] == 1 + vos_client.read_retries


def test_a_garbage_answer_is_a_named_malformed_error(vos_client, vos_emulator):
    vos_emulator.faults.garbage_rate = 1.0
    with pytest.raises(VosMalformed):
        vos_client.get_customer("1001")


def test_a_server_that_does_not_answer_in_time_is_unavailable(vos_emulator):
    vos_emulator.faults.latency_ms = 800
    client = VosClient(vos_emulator.url, connect_timeout=1, read_timeout=0.2, read_retries=0)
    with pytest.raises(VosUnavailable):
        client.get_all_customers()


def test_a_refused_connection_is_unavailable():
    client = VosClient("http://127.0.0.1:9/external/server", connect_timeout=0.5, read_retries=0)
    with pytest.raises(VosUnavailable):
        client.get_customer("1001")


def test_cdrs_come_back_typed_with_a_stable_natural_key(vos_client):
    today = datetime.now(UTC).date()
    records = vos_client.get_cdrs(accounts=["1001"], begin=today - timedelta(days=6), end=today)
    assert records
    assert all(r.account == "1001" for r in records)
    assert all(isinstance(r.fee, Decimal) and r.start.tzinfo for r in records)
    again = vos_client.get_cdrs(accounts=["1001"], begin=today - timedelta(days=6), end=today)
    assert [r.natural_key for r in records] == [r.natural_key for r in again]
    assert len({r.natural_key for r in records}) == len(records)


def test_cdr_windows_split_when_the_switch_limits_the_interval(vos_client, vos_emulator):
    vos_emulator.faults.cdr_max_days = 2
    vos_client.cdr_window_days = 8
    today = datetime.now(UTC).date()
    records = vos_client.get_cdrs(accounts=["1001"], begin=today - timedelta(days=7), end=today)
    assert vos_client.cdr_window_days <= 2
    vos_emulator.faults.cdr_max_days = 31
    reference = VosClient(vos_emulator.url, cdr_window_days=1).get_cdrs(
        accounts=["1001"], begin=today - timedelta(days=7), end=today
    )
    assert sorted(r.natural_key for r in records) == sorted(r.natural_key for r in reference)


def test_a_one_day_window_refused_is_an_error(vos_client, vos_emulator):
    vos_emulator.faults.cdr_max_days = 0
    today = datetime.now(UTC).date()
    with pytest.raises(VosIntervalTooLong):
        vos_client.get_cdrs(accounts=["1001"], begin=today, end=today)


def test_fee_report_and_consumption(vos_client):
    today = datetime.now(UTC).date()
    rows = vos_client.get_fee_report(accounts=["1001"], begin=today - timedelta(days=6), end=today)
    assert rows and all(r.account == "1001" for r in rows)
    assert all(isinstance(r.total_fee, Decimal) for r in rows)
    now = datetime.now(UTC)
    records = vos_client.get_consumption(account="1001", begin=now - timedelta(days=60), end=now)
    assert all(r.account == "1001" for r in records)


def test_phones_carry_the_web_query_password(vos_client):
    phones = vos_client.get_phones(accounts=["1001"])
    assert phones and all(p.account == "1001" for p in phones)
    assert all(p.customer_password for p in phones)
    assert vos_client.get_phones(e164s=["000000"]) == []


def test_lock_and_unlock_a_customer(vos_client):
    vos_client.modify_customer(account="1002", lock_type=1)
    assert vos_client.get_customer("1002").locked
    vos_client.modify_customer(account="1002", lock_type=0, limit_money=Decimal("25"))
    customer = vos_client.get_customer("1002")
    assert not customer.locked and customer.limit_money == Decimal("25")


def test_create_customer_and_phone(vos_client):
    vos_client.create_customer(account="9901", name="Ольга", agent_account="agent01")
    vos_client.create_phone(e164="8613899999901", account="9901", customer_password="pw9901")
    assert vos_client.get_customer("9901").name == "Ольга"
    (phone,) = vos_client.get_phones(e164s=["8613899999901"])
    assert phone.account == "9901" and phone.customer_password == "pw9901"
    with pytest.raises(VosRejected):
        vos_client.create_customer(account="9901")


def test_phone_book_round_trip(vos_client):
    account = "1001"
    entry = PhoneBookEntry(e164="8675512345678", name="李雷", short_e164s=("88",))
    vos_client.create_phone_book_entry(account=account, entry=entry)
    assert entry.e164 in {e.e164 for e in vos_client.get_phone_book(account=account)}
    renamed = PhoneBookEntry(e164="8675512345679", name="李雷 (new)", short_e164s=("89",))
    vos_client.modify_phone_book_entry(account=account, e164=entry.e164, entry=renamed)
    book = {e.e164: e for e in vos_client.get_phone_book(account=account)}
    assert entry.e164 not in book
    assert book[renamed.e164].name == "李雷 (new)"
    assert book[renamed.e164].short_e164s == ("89",)
    vos_client.delete_phone_book_entries(account=account, e164s=[renamed.e164])
    assert renamed.e164 not in {e.e164 for e in vos_client.get_phone_book(account=account)}


def test_a_duplicate_phone_book_entry_is_rejected_with_the_servers_text(vos_client):
    entry = PhoneBookEntry(e164="8675500000001", name="dup")
    vos_client.create_phone_book_entry(account="1001", entry=entry)
    with pytest.raises(VosRejected) as caught:
        vos_client.create_phone_book_entry(account="1001", entry=entry)
    assert caught.value.message


def test_customer_batches_come_in_order_each_stamped_before_it_was_asked(vos_client, vos_emulator):
    before = datetime.now(UTC)
    batches = list(vos_client.get_customer_batches([["1001", "1002"], ["2001"], ["1003"]]))

    assert [sorted(a.account for a in answers) for _, answers in batches] == [
        ["1001", "1002"],
        ["2001"],
        ["1003"],
    ]
    times = [asked_at for asked_at, _ in batches]
    assert before <= times[0] <= times[1] <= times[2] <= datetime.now(UTC)
    assert vos_emulator.calls["GetCustomer"] == 3
    assert batches[0][1][0].decode().money == vos_emulator.state.balance(batches[0][1][0].account)


def test_customer_batches_split_a_batch_a_strict_server_refuses(vos_client, vos_emulator):
    vos_emulator.faults.strict_unknown = True

    batches = list(vos_client.get_customer_batches([["1001", "nobody", "1002"], ["2001"]]))

    assert [sorted(a.account for a in answers) for _, answers in batches] == [
        ["1001", "1002"],
        ["2001"],
    ]


def test_fee_report_windows_halve_while_the_switch_says_the_interval_is_too_long(
    vos_client, vos_emulator
):
    vos_emulator.faults.report_max_days = 3
    today = datetime.now(UTC).date()
    first = today - timedelta(days=9)

    windows = list(vos_client.fee_report_windows(accounts=["1001"], first=first, last=today))

    spans = [((begin - first).days, (end - first).days) for begin, end, _ in windows]
    assert spans == [(0, 2), (3, 4), (5, 7), (8, 9)]  # 10 → 5+5 → 3+2, 3+2
    assert vos_emulator.calls["GetReportCustomerFee"] == 3 + len(windows)
    vos_emulator.faults.report_max_days = 31
    reference = vos_client.get_fee_report(accounts=["1001"], begin=first, end=today)
    rows = [row for _, _, report in windows for row in report]
    assert sorted((r.begin, r.total_fee) for r in rows) == sorted(
        (r.begin, r.total_fee) for r in reference
    )


def test_fee_report_windows_raise_when_one_day_is_refused(vos_client, vos_emulator):
    vos_emulator.faults.report_max_days = 0
    today = datetime.now(UTC).date()
    with pytest.raises(VosIntervalTooLong):
        list(vos_client.fee_report_windows(accounts=["1001"], first=today, last=today))


def test_fee_report_windows_ask_once_when_the_switch_allows_the_interval(vos_client, vos_emulator):
    today = datetime.now(UTC).date()
    (window,) = vos_client.fee_report_windows(
        accounts=["1001"], first=today - timedelta(days=6), last=today
    )
    assert window[:2] == (today - timedelta(days=6), today)
    assert vos_emulator.calls["GetReportCustomerFee"] == 1

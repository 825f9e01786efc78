"""VOS servers, mirrored accounts, call records and sync state for tests.

`VosServerFactory()` points at a closed port unless `url=` is given (e.g. an emulator's
`vos_emulator.url`); `VosAccountFactory(server=..., account="1001")` mirrors one account.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from telephony.models import Cdr, Phone, SyncState, VosAccount, VosServer
from telephony.vos import CustomerAnswer


class VosServerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VosServer
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"vos{n}")
    url = factory.LazyAttribute(lambda o: f"http://127.0.0.1:9/{o.name}/external/server")
    connect_timeout = 1.0
    read_timeout = 2.0


class VosAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VosAccount
        django_get_or_create = ("server", "account")

    server = factory.SubFactory(VosServerFactory)
    account = factory.Sequence(lambda n: f"{5000 + n}")
    name = factory.LazyAttribute(lambda o: f"Customer {o.account}")
    balance = Decimal("10")


class PhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phone
        django_get_or_create = ("server", "e164")

    server = factory.SubFactory(VosServerFactory)
    e164 = factory.Sequence(lambda n: f"8613900{n:06d}")


def _an_hour_ago_today() -> datetime:
    """An hour ago, but not before today's midnight (current zone): pages show today by
    default, and in the first hour of a day an hour ago is yesterday."""
    now = timezone.localtime()
    return max(now - timedelta(hours=1), now.replace(hour=0, minute=0, second=0, microsecond=0))


class CdrFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cdr

    server = factory.SubFactory(VosServerFactory)
    natural_key = factory.Sequence(lambda n: f"t{n}")
    account = "1001"
    caller_e164 = "8613800001001"
    callee_e164 = "8613912345678"
    start = factory.LazyFunction(_an_hour_ago_today)
    stop = factory.LazyAttribute(lambda o: o.start + timedelta(seconds=o.hold_time))
    hold_time = 60
    fee_time = 60
    fee = Decimal("0.1")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """The row and its quarter hour's rollup, as the ingest stores them together."""
        from telephony.services.cdr_rollups import rollups_rebuild

        cdr = super()._create(model_class, *args, **kwargs)
        rollups_rebuild(server_id=cdr.server_id, since=cdr.start, until=cdr.start)
        return cdr


class SyncStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncState
        django_get_or_create = ("server", "job")

    server = factory.SubFactory(VosServerFactory)
    job = SyncState.Job.BALANCES


def customer_answer(account: str, money: str = "10.0", **wire) -> CustomerAnswer:
    """A GetCustomer record as VOS prints it (Java-style numbers), before decoding."""
    record = {
        "account": account,
        "name": f"Customer {account}",
        "money": Decimal(money),
        "limitMoney": Decimal("0.0"),
        "feeRateGroup": "default",
        "type": 1,
        "lockType": 0,
        "agentAccount": "agent01",
        "phoneBookLimit": 10,
        "todayConsumption": Decimal("0.0"),
        "memo": "",
        "infoCustomerAdditional": {"cardType": 0, "reportType": 0},
        **wire,
    }
    return CustomerAnswer.from_wire(record)

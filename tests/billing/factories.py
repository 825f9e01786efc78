"""Ledger rows, and a demo-emulator world: the mirror, reseller agent01/agent02, customers.

`demo_world(server, client)` mirrors every emulator account and returns logins mapped to them:
`world.reseller` (agent01, customers 1001-1006), `world.other_reseller` (agent02, 2001-2004),
`world.customer` (1001).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import factory

from accounts.models import Profile
from billing.models import LedgerEntry
from telephony.models import VosAccount, VosServer
from telephony.services.discovery import accounts_discover
from tests.accounts.factories import CustomerFactory, ResellerFactory
from tests.telephony.factories import VosServerFactory


class LedgerEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LedgerEntry

    server = factory.SubFactory(VosServerFactory)
    account = "1001"
    amount = Decimal("10")
    kind = LedgerEntry.Kind.TOPUP
    state = LedgerEntry.State.APPLIED
    idempotency_key = factory.LazyFunction(lambda: str(uuid.uuid4()))
    reseller_account = "agent01"


@dataclass
class DemoWorld:
    server: VosServer
    reseller: object
    other_reseller: object
    customer: object

    def account(self, account: str) -> VosAccount:
        return VosAccount.objects.get(server=self.server, account=account)


def demo_world(
    server: VosServer,
    client,
    *,
    prepaid: bool = False,
    cap_per_transaction: Decimal = Decimal("500"),
    cap_per_day: Decimal = Decimal("2000"),
) -> DemoWorld:
    accounts_discover(server=server, client=client)
    reseller = ResellerFactory(
        username="sunrise", vos_account=VosAccount.objects.get(server=server, account="agent01")
    )
    Profile.objects.filter(user=reseller).update(
        prepaid=prepaid,
        topup_cap_per_transaction=cap_per_transaction,
        topup_cap_per_day=cap_per_day,
    )
    reseller.refresh_from_db()
    other = ResellerFactory(
        username="yuntong", vos_account=VosAccount.objects.get(server=server, account="agent02")
    )
    customer = CustomerFactory(
        username="zhangwei", vos_account=VosAccount.objects.get(server=server, account="1001")
    )
    return DemoWorld(server=server, reseller=reseller, other_reseller=other, customer=customer)

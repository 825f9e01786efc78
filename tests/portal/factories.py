"""Pay history and other charges for the customer's pages.

Users come from tests.accounts.factories (CustomerFactory, ResellerFactory, StaffFactory);
servers, accounts and call records from tests.telephony.factories.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from billing.models import Consumption, PayRecord
from tests.telephony.factories import VosServerFactory


class PayRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PayRecord

    server = factory.SubFactory(VosServerFactory)
    natural_key = factory.Sequence(lambda n: f"p{n}")
    account = "1001"
    amount = Decimal("10")
    type = PayRecord.Type.PAYMENT
    pay_type = PayRecord.PayType.CASH
    balance_after = None
    paid_at = factory.LazyFunction(timezone.now)


class ConsumptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consumption

    server = factory.SubFactory(VosServerFactory)
    natural_key = factory.Sequence(lambda n: f"c{n}")
    account = "1001"
    amount = Decimal("5")
    type = Consumption.Type.PHONE_RENT
    source = "8613800001001"
    at = factory.LazyFunction(timezone.now)


def mirror_from_emulator(*, emulator, server, account: str):
    """Fill the local mirror of ``account`` from a running emulator the way the sync jobs do:
    the account's figures, every CDR it holds, the whole pay history and other charges."""
    from billing.services.mirror import consumption_sync, pay_history_sync
    from telephony.models import SyncState, VosAccount
    from telephony.services.cdr_store import cdrs_store
    from telephony.services.mirror import account_refresh
    from telephony.vos import CdrRecord, client_for

    client = client_for(server)
    vos_account, _ = VosAccount.objects.get_or_create(server=server, account=account)
    account_refresh(vos_account=vos_account, client=client)
    cdrs_store(
        server=server,
        records=[CdrRecord.from_wire(c) for c in emulator.state.cdrs if c["account"] == account],
    )
    state = SyncState(server=server, job=SyncState.Job.PAYMENTS)
    pay_history_sync(server=server, client=client, state=state)
    consumption_sync(server=server, client=client, state=state)
    vos_account.refresh_from_db()
    return vos_account

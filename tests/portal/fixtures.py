"""Customers logged in to the test client. Import the fixtures a module needs, e.g.
``from tests.portal.fixtures import customer, customer_client  # noqa: F401``."""

from __future__ import annotations

import pytest

from tests.accounts.factories import CustomerFactory
from tests.telephony.factories import VosAccountFactory, VosServerFactory


@pytest.fixture
def offline_account(db):
    """A mirrored account on a server nobody answers for (pages must not need it)."""
    return VosAccountFactory(server=VosServerFactory(name="offline"), account="1001")


@pytest.fixture
def customer(offline_account):
    return CustomerFactory(vos_account=offline_account)


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def emu_account(vos_server):
    """The mirror of the demo emulator's customer 1001 (figures filled by the first read)."""
    return VosAccountFactory(server=vos_server, account="1001", balance=0)


@pytest.fixture
def emu_customer(emu_account):
    return CustomerFactory(vos_account=emu_account)


@pytest.fixture
def emu_client(client, emu_customer):
    client.force_login(emu_customer)
    return client

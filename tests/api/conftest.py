"""Fixtures of the API tests: the demo world and a key-carrying client per kind of user."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from tests.api.support import ApiClient, key_for
from tests.billing.factories import demo_world


@pytest.fixture
def world(vos_server, vos_client):
    return demo_world(
        vos_server, vos_client, cap_per_transaction=Decimal("500"), cap_per_day=Decimal("100000")
    )


@pytest.fixture
def reseller_api(world):
    return ApiClient(Client(), key_for(world.reseller))


@pytest.fixture
def other_api(world):
    return ApiClient(Client(), key_for(world.other_reseller))


@pytest.fixture
def customer_api(world):
    return ApiClient(Client(), key_for(world.customer))


@pytest.fixture(autouse=True)
def _generous_rates(settings):
    """Paging tests make hundreds of requests a second; the throttle test sets its own."""
    settings.API_RATE_BURST = "100000/s"
    settings.API_RATE_SUSTAINED = "1000000/m"

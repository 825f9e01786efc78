"""Shared fixtures: the VOS3000 emulator on loopback, a VosServer row pointing at it, users."""

from __future__ import annotations

import pytest

from tests.emulator_fixtures import vos_emulator, vos_emulator_empty  # noqa: F401


@pytest.fixture
def vos_server(db, vos_emulator):  # noqa: F811
    """A VosServer row whose interface root is a running demo emulator."""
    from telephony.models import VosServer

    return VosServer.objects.create(
        name="emu", url=vos_emulator.url, connect_timeout=2, read_timeout=5
    )


@pytest.fixture
def vos_client(vos_emulator):  # noqa: F811
    """A VosClient for the demo emulator, with fast retries."""
    from telephony.vos import VosClient

    return VosClient(vos_emulator.url, name="emu", connect_timeout=2, read_timeout=5,
                     retry_backoff=0.01)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttles and job locks live in the cache (Redis in CI): start every test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()

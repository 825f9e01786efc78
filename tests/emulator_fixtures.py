"""pytest fixtures: a VOS3000 emulator on loopback, one per test (see docs/EMULATOR.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from telephony.emulator import EmulatorServer, EmulatorState


def _serve(state: EmulatorState) -> Iterator[EmulatorServer]:
    server = EmulatorServer(host="127.0.0.1", port=0, state=state).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def vos_emulator() -> Iterator[EmulatorServer]:
    """A running emulator with the demo seed; ``.url`` is the interface root."""
    yield from _serve(EmulatorState.demo())


@pytest.fixture
def vos_emulator_empty() -> Iterator[EmulatorServer]:
    """A running emulator with no customers at all."""
    yield from _serve(EmulatorState.empty())

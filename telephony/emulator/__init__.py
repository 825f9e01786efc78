"""An emulator of the VOS3000 web interface (manual v2.1.7.0), pure standard library.

Runs in a thread inside tests and benchmarks, or as ``manage.py vos_emulator``.
See docs/EMULATOR.md.
"""

from __future__ import annotations

from .faults import Faults
from .seed import EmulatorState
from .server import EmulatorServer

__all__ = ["EmulatorServer", "EmulatorState", "Faults"]

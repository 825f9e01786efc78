"""Natural keys: a stable id for records VOS gives without one (pay history, CDRs, consumption).

The keys are stored (``natural_key`` columns), so their text must never change: sha1 over the
parts joined by the unit separator, hex.
"""

from __future__ import annotations

from hashlib import sha1


def natural_key(*parts: object) -> str:
    """sha1 hex of ``str(part)`` for each part, joined by "\\x1f"."""
    return sha1("\x1f".join(str(part) for part in parts).encode()).hexdigest()

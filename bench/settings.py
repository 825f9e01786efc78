"""Production settings plus the bench-only reference pages (bench.urls)."""

from __future__ import annotations

from portal.settings import *  # noqa: F403
from portal.settings import VAR_DIR

ROOT_URLCONF = "bench.urls"
# The manifest static storage of production needs collected files; collect them under var/bench.
STATIC_ROOT = VAR_DIR / "staticfiles"

"""The HTTP API, the product's second front door (docs/API.md). ``api`` is mounted at /api/."""

from .main import api

__all__ = ["api"]

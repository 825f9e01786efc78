"""The one domain-error base, shared by every layer."""

from __future__ import annotations


class Refused(Exception):
    """A change a service refuses before anything is sent to VOS.

    ``message`` is for the person (translated); ``field`` names the form or API field it
    belongs to, or None for the whole form. Views turn it into a form error or a message,
    the API into a 422 problem.
    """

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

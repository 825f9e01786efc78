"""What can go wrong talking to VOS, split by what the caller should do; retCode constants."""

from __future__ import annotations

import logging

log = logging.getLogger("telephony.vos")

# retCodes seen in the field (VOS3000-FACTS.md).
RET_NOT_FOUND = -10007
RET_INTERVAL_TOO_LONG = -10033
RET_INPUT_ERROR = -10124
RET_MISSING_PARAMETERS = -12103
# A Pay answered with one of these was refused on validation and certainly not applied. Any
# other non-zero code (e.g. an internal timeout) leaves the outcome unknown.
PAY_DEFINITE_REJECTIONS = frozenset({RET_NOT_FOUND, RET_INPUT_ERROR, RET_MISSING_PARAMETERS})
# PayByPhoneCard refusals of the card itself (codes as the emulator chose them; an unknown
# code is an unknown outcome, reconciled from the pay history and GetPhoneCard).
RET_CARD_PASSWORD = -10116
RET_CARD_USED = -10117
RET_CARD_EXPIRED = -10118
CARD_DEFINITE_REJECTIONS = PAY_DEFINITE_REJECTIONS | {
    RET_CARD_PASSWORD,
    RET_CARD_USED,
    RET_CARD_EXPIRED,
}


class VosError(Exception):
    """Base of every error raised by the client."""

    def __init__(self, interface: str, message: str):
        super().__init__(f"{interface}: {message}")
        self.interface = interface
        self.message = message


class VosUnavailable(VosError):
    """VOS could not be reached or did not answer usefully. Temporary."""


class VosMalformed(VosUnavailable):
    """VOS answered, but not with what the interface promises (not JSON, wrong shape).

    Logged where it is raised, so every garbled answer leaves a trace whoever catches it.
    """

    def __init__(self, interface: str, message: str):
        super().__init__(interface, message)
        log.error("VOS malformed answer from %s: %s", interface, message)


class MalformedRecord(VosMalformed):
    """One value or record of an answer is garbled (a wrong type, out of its column's range).

    Not logged when raised: a list-returning client method skips the record and logs it
    once (warning); a caller that lets it through sees an ordinary :class:`VosMalformed`.
    ``account`` names the record when it is known.
    """

    def __init__(self, interface: str, message: str, account: str = ""):
        VosUnavailable.__init__(self, interface, message)
        self.account = account


class VosRejected(VosError):
    """VOS answered with a non-zero retCode."""

    def __init__(self, interface: str, ret_code: int, message: str):
        super().__init__(interface, f"retCode {ret_code}: {message}")
        self.ret_code = ret_code
        self.message = message or f"VOS error {ret_code}"


class VosNotFound(VosRejected):
    """-10007: the account, phone or entry does not exist."""


class VosIntervalTooLong(VosRejected):
    """-10033: the query window is longer than this installation allows."""


class PayOutcomeUnknown(VosError):
    """A Pay was sent but its answer was lost: it may or may not have been applied."""

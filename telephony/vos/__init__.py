"""The one door to a VOS3000 softswitch: its "Web Interface for Third Party".

Every call POSTs a JSON object (UTF-8) to ``<interface root>/<Interface>`` and reads a JSON
object back whose ``retCode`` is 0 on success. This package speaks that protocol and nothing
else: it never touches the database. Results are typed dataclasses with ``Decimal`` money and
aware UTC datetimes.

Modules, one concern each: ``errors`` (exceptions, retCodes), ``wire`` (value decoders and
encoders, JSON bodies; also used by the push receiver), ``records`` (the typed results, each
with ``from_wire``), ``keys`` (natural keys), ``windows`` (chunks, day windows, -10033
halving), ``ahead`` (fetching ahead), ``transport`` (HTTP, retries, logging), ``client``
(one method per interface), ``pool`` (a client per server row).

Errors are split by what the caller should do:

* :class:`VosUnavailable` - timeout, refused connection, HTTP 5xx, an empty or non-JSON body,
  or a body of the wrong shape (:class:`VosMalformed`). Temporary: reads may be retried.
* :class:`VosRejected` - ``retCode != 0``. Permanent for this input: show ``message``.
* :class:`PayOutcomeUnknown` - a Pay was sent and its answer lost. It may or may not have been
  applied; it must be reconciled against the pay history, never sent again blindly.

Malformed records in list answers. Every value is range-checked against the column it lands
in (:mod:`telephony.vos.wire`); a record with a value that fails is malformed
(:class:`MalformedRecord`, a VosMalformed). The rule:

* The envelope is the whole call: a body that is not a JSON object, no or a non-integer
  ``retCode``, a list key holding anything but a list (null included) - VosMalformed, nothing
  is returned. An absent list key is an empty list (VOS drops empty lists), except for
  GetAllCustomers, whose ``accounts`` must be there.
* A record is on its own: a method that returns a list (GetCustomer batches, GetAllCustomers,
  GetCdr, GetPayHistory, GetConsumption, GetReportCustomerFee, GetPhone, the phone book)
  returns the good records and skips each malformed one. A skipped record is logged once
  (logger ``telephony.vos``, warning, with the interface and the record's account) and
  counted in the client's ``stats.skipped`` (per interface; ``stats.skipped_records`` in
  all), which the caller reads to learn that something was left out.
* A call whose answer is one record (``get_customer``, ``pay``) has nothing to skip: a
  malformed record is VosMalformed (for Pay: PayOutcomeUnknown).
* ``CustomerAnswer.decode()`` (records kept undecoded by the balance sync) logs a malformed
  record once and raises it.
"""

from .ahead import fetched_ahead
from .cards import AvailableTime, FeeRate, FeeRateGroup, FeeRateSection, PhoneCard
from .client import VosClient
from .errors import (
    CARD_DEFINITE_REJECTIONS,
    PAY_DEFINITE_REJECTIONS,
    RET_CARD_EXPIRED,
    RET_CARD_PASSWORD,
    RET_CARD_USED,
    RET_INPUT_ERROR,
    RET_INTERVAL_TOO_LONG,
    RET_MISSING_PARAMETERS,
    RET_NOT_FOUND,
    MalformedRecord,
    PayOutcomeUnknown,
    VosError,
    VosIntervalTooLong,
    VosMalformed,
    VosNotFound,
    VosRejected,
    VosUnavailable,
)
from .keys import natural_key
from .phones import CurrentCall, PhoneOnline
from .pool import (
    client_for,
    deadline_client_for,
    page_client_for,
    request_deadline,
    vos_probe,
)
from .records import (
    CUSTOMER_WIRE_KEYS,
    CdrRecord,
    ConsumptionRecord,
    Customer,
    CustomerAnswer,
    CustomerBrief,
    FeeReportRow,
    PayHistoryRecord,
    PayResult,
    PhoneBookEntry,
    PhoneInfo,
)
from .transport import REQUEST_HEADERS, CallStats
from .windows import chunked, day_windows, halved_on_too_long
from .wire import (
    EPOCH,
    FOUR_PLACES,
    _list,
    _required_str,
    decode_object,
    encode_body,
    format_day,
    format_time,
    from_millis,
    to_int,
    to_millis,
    to_money,
    to_str,
)

__all__ = [
    "CARD_DEFINITE_REJECTIONS",
    "RET_CARD_EXPIRED",
    "RET_CARD_PASSWORD",
    "RET_CARD_USED",
    "AvailableTime",
    "FeeRate",
    "FeeRateGroup",
    "FeeRateSection",
    "PhoneCard",
    "CurrentCall",
    "PhoneOnline",
    "CUSTOMER_WIRE_KEYS",
    "EPOCH",
    "FOUR_PLACES",
    "PAY_DEFINITE_REJECTIONS",
    "REQUEST_HEADERS",
    "RET_INPUT_ERROR",
    "RET_INTERVAL_TOO_LONG",
    "RET_MISSING_PARAMETERS",
    "RET_NOT_FOUND",
    "CallStats",
    "CdrRecord",
    "ConsumptionRecord",
    "Customer",
    "CustomerAnswer",
    "CustomerBrief",
    "FeeReportRow",
    "MalformedRecord",
    "PayHistoryRecord",
    "PayOutcomeUnknown",
    "PayResult",
    "PhoneBookEntry",
    "PhoneInfo",
    "VosClient",
    "VosError",
    "VosIntervalTooLong",
    "VosMalformed",
    "VosNotFound",
    "VosRejected",
    "VosUnavailable",
    "_list",
    "_required_str",
    "chunked",
    "client_for",
    "deadline_client_for",
    "request_deadline",
    "day_windows",
    "decode_object",
    "encode_body",
    "fetched_ahead",
    "format_day",
    "format_time",
    "from_millis",
    "halved_on_too_long",
    "natural_key",
    "page_client_for",
    "to_int",
    "to_millis",
    "to_money",
    "to_str",
    "vos_probe",
]

"""The API's typed shapes (they generate the OpenAPI document). Money is an exact decimal
string ("10.5000"); times are ISO 8601 with an offset."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import field_validator

MONEY_PLACES = Decimal("0.0001")


def _email(value: str) -> str:
    """Django's own e-mail rule (the forms' EmailField), so nothing odd reaches a mail header."""
    value = value.strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError("enter a valid e-mail address") from None
    return value


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    return format(Decimal(value).quantize(MONEY_PLACES), "f")


Money = str


class Figures(Schema):
    balance: Money
    limit_money: Money = Field(description="Overdraft limit.")
    available: Money = Field(description="Balance plus overdraft limit.")
    today_spend: Money
    locked: bool
    as_of: datetime | None = Field(description="When the switch last vouched for the figures.")
    stale: bool = Field(description="True when the switch did not answer just now.")


class CustomerOut(Figures):
    account: str
    name: str
    phones: list[str]


class CustomerItem(Schema):
    account: str
    name: str
    balance: Money
    limit_money: Money
    locked: bool
    running_low: bool
    last_call: datetime | None
    as_of: datetime | None


class CustomerCreateIn(Schema):
    account: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field("", max_length=64)
    limit_money: Decimal = Field(Decimal("0"), ge=0, le=Decimal("1000000"), decimal_places=4)
    e164: str = Field("", max_length=32, pattern=r"^[0-9]*$")
    web_password: str = Field("", max_length=64)
    email: str = Field("", max_length=254)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return _email(value)


class CustomerCreatedOut(Schema):
    customer: CustomerOut
    phone_error: str
    invited: bool
    invitation_error: str


class CustomerPatchIn(Schema):
    locked: bool | None = None
    limit_money: Decimal | None = Field(None, ge=0, le=Decimal("1000000"), decimal_places=4)


class PhoneIn(Schema):
    e164: str = Field(min_length=1, max_length=32, pattern=r"^[0-9]+$")
    password: str = Field("", max_length=64, description="The number's web-query password.")


class PhonesOut(Schema):
    phones: list[str]


class PhoneAddedOut(PhonesOut):
    sip_password: str = Field(description="The new phone's SIP password: shown this once only.")


class TransactionIn(Schema):
    amount: Decimal = Field(
        description="Positive adds credit, negative removes it.",
        max_digits=14,
        decimal_places=settings.PORTAL_AMOUNT_DECIMALS,
        ge=Decimal("-100000000"),
        le=Decimal("100000000"),
    )
    memo: str = Field("", max_length=100)

    @field_validator("amount")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("amount must not be zero")
        return value


class TransactionOut(Schema):
    id: int
    account: str
    amount: Money = Field(description="Signed: negative for credit removed.")
    state: Literal["pending", "applied", "failed", "unknown"]
    balance_after: Money | None
    memo: str
    error: str
    created_at: datetime
    settled_at: datetime | None


class CallOut(Schema):
    id: int
    start: datetime
    stop: datetime
    caller: str
    callee: str
    duration: int = Field(description="Seconds talked.")
    billed: int = Field(description="Seconds billed.")
    cost: Money


class CallsOut(Schema):
    items: list[CallOut]
    next: int | None = Field(None, description="Pass as `after` for the next page.")


class StatementOut(Schema):
    account: str
    start: datetime
    end: datetime
    opening_balance: Money
    payments: Money
    adjustments: Money
    call_charges: Money
    other_charges: Money
    total_charges: Money
    closing_balance: Money
    calls: int
    as_of: datetime


class PaymentOut(Schema):
    id: int
    paid_at: datetime
    amount: Money
    type: int
    balance_after: Money | None
    memo: str


class PasswordIn(Schema):
    password: str = Field(min_length=1, max_length=128)


class PasswordCheckOut(Schema):
    valid: bool


class LoginLinkOut(Schema):
    url: str
    expires_at: datetime


class InvitationIn(Schema):
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        return _email(value)


class DoneOut(Schema):
    ok: bool = True


class MeOut(Schema):
    username: str
    role: str
    scopes: list[str]
    account: CustomerOut | None


class PhoneBookEntryIn(Schema):
    e164: str = Field(min_length=1, max_length=33, pattern=r"^\+?[0-9]+$")
    name: str = Field("", max_length=64)
    short_e164s: list[str] = Field(default_factory=list, max_length=20)
    department: str = Field("", max_length=64)
    memo: str = Field("", max_length=255)


class PhoneBookEntryOut(Schema):
    e164: str
    name: str
    short_e164s: list[str]
    department: str
    memo: str

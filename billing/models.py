"""Money: the payment ledger, the audit log, and mirrors of VOS pay history and fee reports."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from telephony.models import MONEY, VosServer


class LedgerEntry(models.Model):
    """One money movement on one VOS account, written before VOS is called.

    pending -> applied | failed | unknown;  unknown -> applied | failed (by reconciliation).
    The VOS memo carries `memo_tag` so the movement can be found again in GetPayHistory.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Unknown (being reconciled)")

    class Kind(models.TextChoices):
        TOPUP = "topup", _("Top-up")
        DEDUCT = "deduct", _("Deduction")
        RESELLER_DEBIT = "reseller_debit", _("Reseller debit (prepaid)")
        RESELLER_CREDIT = "reseller_credit", _("Reseller credit (prepaid)")
        COMPENSATION = "compensation", _("Compensation")
        CARD = "card", _("Calling card top-up")

    server = models.ForeignKey(VosServer, on_delete=models.PROTECT, related_name="+")
    account = models.CharField(max_length=64)
    amount = models.DecimalField(**MONEY)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    idempotency_key = models.CharField(max_length=64, unique=True)
    reseller_account = models.CharField(max_length=64, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="legs"
    )
    memo = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    balance_after = models.DecimalField(null=True, blank=True, **MONEY)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Reconciliation: when VOS pay history was last searched for this row, and the natural
    # key of the pay-history record it was matched to (one record settles one row at most).
    checked_at = models.DateTimeField(null=True, blank=True)
    vos_record_key = models.CharField(max_length=40, blank=True)
    # Calling-card top-ups: the card's number (its password is never stored).
    card_pin = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="ledger_state"),
            models.Index(fields=["server", "account", "created_at"], name="ledger_account"),
            models.Index(fields=["reseller_account", "created_at"], name="ledger_reseller"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "vos_record_key"],
                condition=~models.Q(vos_record_key=""),
                name="ledger_vos_record_key",
            ),
            # One card, one movement that may hold money: a second submit of the same card
            # (another tab, another user) cannot open a second row while one is not failed.
            models.UniqueConstraint(
                fields=["server", "card_pin"],
                condition=models.Q(kind="card") & ~models.Q(state="failed"),
                name="ledger_card_once",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.account} {self.amount} {self.state}"

    @property
    def memo_tag(self) -> str:
        return f"portal#{self.pk}"

    @property
    def settled(self) -> bool:
        return self.state in (self.State.APPLIED, self.State.FAILED)

    @property
    def customer_facing(self) -> bool:
        return self.kind in (self.Kind.TOPUP, self.Kind.DEDUCT, self.Kind.CARD)

    @property
    def card_pin_masked(self) -> str:
        """The card number as shown on receipts and lists: its last four digits."""
        return f"•••• {self.card_pin[-4:]}" if self.card_pin else ""


class CardThrottle(models.Model):
    """Failed calling-card attempts of one user or one address (docs/MONEY.md, "Cards").

    ``failures`` is changed only by conditional UPDATEs (F expressions), so concurrent
    submits cannot slip past the limit; an attempt is counted before the switch is asked and
    given back when it succeeds.
    """

    class Scope(models.TextChoices):
        USER = "user", _("User")
        ADDRESS = "address", _("Address")

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calling-card throttle")
        verbose_name_plural = _("calling-card throttles")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="cardthrottle_scope_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key} ({self.failures})"


class PayRecord(models.Model):
    """Mirror of VOS pay history (GetPayHistory)."""

    class Type(models.IntegerChoices):
        PAYMENT = 0, _("Payment")
        CREDIT = 1, _("Credit")
        CREATE_ACCOUNT = 2, _("Account created")
        MAKE_ZERO = 3, _("Reset to zero")

    class PayType(models.IntegerChoices):
        CASH = 0, _("Cash")
        PHONE_CARD = 2, _("Phone card")
        OTHER = 5, _("Other")

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="+")
    natural_key = models.CharField(max_length=40)
    account = models.CharField(max_length=64)
    amount = models.DecimalField(**MONEY)
    type = models.SmallIntegerField(choices=Type.choices, default=Type.PAYMENT)
    pay_type = models.SmallIntegerField(default=PayType.CASH)
    balance_after = models.DecimalField(null=True, blank=True, **MONEY)
    paid_at = models.DateTimeField()
    memo = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-paid_at"]
        constraints = [
            models.UniqueConstraint(fields=["server", "natural_key"], name="payrecord_natural_key")
        ]
        indexes = [models.Index(fields=["server", "account", "-paid_at"], name="payrecord_account")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} @ {self.paid_at:%Y-%m-%d %H:%M}"


class FeeReport(models.Model):
    """One account's totals for one day (GetReportCustomerFee, period 1)."""

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="+")
    account = models.CharField(max_length=64)
    day = models.DateField()
    cdr_count = models.IntegerField(default=0)
    total_fee = models.DecimalField(default=Decimal("0"), **MONEY)
    total_time = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["server", "account", "day"], name="feereport_day")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.day} {self.total_fee}"


class Consumption(models.Model):
    """Non-call charges (rents, minimum consumption) from GetConsumption."""

    class Type(models.IntegerChoices):
        SUITE_RENT = 0, _("Package rent")
        PHONE_RENT = 1, _("Phone monthly rent")
        PHONE_MINIMUM = 2, _("Phone minimum consumption")
        SUITE_MINIMUM = 3, _("Package minimum consumption")

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="+")
    natural_key = models.CharField(max_length=40)
    account = models.CharField(max_length=64)
    amount = models.DecimalField(**MONEY)
    balance_after = models.DecimalField(null=True, blank=True, **MONEY)
    type = models.SmallIntegerField(default=0)
    source = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "natural_key"], name="consumption_natural_key"
            )
        ]
        indexes = [models.Index(fields=["server", "account", "at"], name="consumption_account")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} @ {self.at:%Y-%m-%d}"

"""Money: the payment ledger, the audit log, and mirrors of VOS pay history and fee reports."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
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
        ONLINE = "online", _("Online payment")
        ONLINE_REVERSAL = "online_reversal", _("Online refund or chargeback")
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
    # The online payment this row credits (kind online) or takes back (kind online_reversal).
    online_payment = models.ForeignKey(
        "OnlinePayment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    # Calling-card top-ups: the card's number (its password is never stored).
    card_pin = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
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
        # Online credits get their own receipt (billing.services.online_receipts).
        return self.kind in (
            self.Kind.TOPUP,
            self.Kind.DEDUCT,
            self.Kind.ONLINE_REVERSAL,
            self.Kind.CARD,
        )

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
        # The switch's own payType: how its console filed the payment, not how the money
        # was paid (a WeChat top-up made through the API is filed as "cash", 0).
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
        verbose_name = _("pay-history record")
        verbose_name_plural = _("pay history")
        constraints = [
            models.UniqueConstraint(fields=["server", "natural_key"], name="payrecord_natural_key")
        ]
        indexes = [models.Index(fields=["server", "account", "-paid_at"], name="payrecord_account")]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} @ {self.paid_at:%Y-%m-%d %H:%M}"

    @property
    def pay_type_label(self) -> str:
        try:
            return str(self.PayType(self.pay_type).label)
        except ValueError:
            return str(self.pay_type)

    @property
    def portal_reference(self) -> str:
        """The ``portal#<id>`` tag a portal movement put in front of the memo, or ""."""
        head = self.memo.split(maxsplit=1)[0] if self.memo.strip() else ""
        return head if head.startswith("portal#") else ""

    @property
    def memo_text(self) -> str:
        """The memo as the person wrote it: without the portal's reference tag."""
        tag = self.portal_reference
        return self.memo.removeprefix(tag).strip() if tag else self.memo.strip()


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
        verbose_name = _("fee report")
        verbose_name_plural = _("fee reports")

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
        verbose_name = _("consumption charge")
        verbose_name_plural = _("consumption charges")

    def __str__(self) -> str:
        return f"{self.account} {self.amount} @ {self.at:%Y-%m-%d}"


class OnlinePayment(models.Model):
    """A customer's top-up by card, Alipay or WeChat Pay on the gateway's hosted page.

    created -> open (sent to the gateway) -> paid (a verified notification said so; the credit
    is queued) -> credited (its ledger row applied). open -> expired | failed. A paid payment
    whose credit VOS refused is ``attention`` (staff). Refunds and chargebacks are ledger rows of
    kind online_reversal; ``refunded`` is their running total. See docs/MONEY.md.
    """

    class State(models.TextChoices):
        CREATED = "created", _("Created")
        OPEN = "open", _("Waiting for payment")
        PAID = "paid", _("Paid, crediting")
        CREDITED = "credited", _("Credited")
        EXPIRED = "expired", _("Expired")
        FAILED = "failed", _("Failed")
        ATTENTION = "attention", _("Paid, credit needs staff")

    reference = models.UUIDField(unique=True, editable=False)
    provider = models.CharField(max_length=16)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="online_payments"
    )
    server = models.ForeignKey(VosServer, on_delete=models.PROTECT, related_name="+")
    account = models.CharField(max_length=64)
    reseller_account = models.CharField(max_length=64, blank=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=16, choices=State.choices, default=State.CREATED)
    # The gateway's ids: the hosted checkout (session) and the payment it made.
    gateway_id = models.CharField(max_length=255, blank=True)
    gateway_payment_id = models.CharField(max_length=255, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    method = models.CharField(max_length=32, blank=True)
    refunded = models.DecimalField(default=Decimal("0"), **MONEY)
    error = models.TextField(blank=True)
    created_ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    credited_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["server", "account", "created_at"], name="online_account"),
            models.Index(fields=["state", "created_at"], name="online_state"),
            models.Index(fields=["gateway_payment_id"], name="online_gateway_payment"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "gateway_id"],
                condition=~models.Q(gateway_id=""),
                name="online_gateway_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.account} {self.amount} {self.currency} {self.state}"

    @property
    def credit_key(self) -> str:
        """The idempotency key of the ledger row that credits this payment (one per payment)."""
        return f"online:{self.reference}"

    @property
    def confirming(self) -> bool:
        return self.state in (self.State.CREATED, self.State.OPEN, self.State.PAID)


class PaymentNotification(models.Model):
    """Every notification the gateway sent, verified or not, and what was done with it."""

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        DUPLICATE = "duplicate", _("Already handled")
        IGNORED = "ignored", _("Not a payment event")
        BAD_SIGNATURE = "bad_signature", _("Refused: signature")
        BAD_AMOUNT = "bad_amount", _("Refused: amount")
        BAD_CURRENCY = "bad_currency", _("Refused: currency")
        UNKNOWN_PAYMENT = "unknown_payment", _("Refused: unknown payment")
        NOT_PAID = "not_paid", _("Not paid yet")

    provider = models.CharField(max_length=16)
    payment = models.ForeignKey(
        OnlinePayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    event_id = models.CharField(max_length=255, blank=True)
    event_type = models.CharField(max_length=64, blank=True)
    verified = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.TextField(blank=True)
    # The verified event; for a refused signature, the first 2000 characters of the body.
    payload = models.JSONField(default=dict, blank=True)
    remote_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["event_id"], name="notification_event")]

    def __str__(self) -> str:
        return f"{self.event_type or '?'} {self.outcome} @ {self.received_at:%Y-%m-%d %H:%M:%S}"


class PayHistoryCoverage(models.Model):
    """One account's pay history read from VOS for [begin, end) at ``fetched_at``.

    Written by every per-account fetch (after a Pay, the admin's "Fetch now"); the report
    compares a ledger row only once a fetch like this, or the periodic sync's cursor, covers it.
    """

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="+")
    account = models.CharField(max_length=64)
    begin = models.DateTimeField()
    end = models.DateTimeField()
    fetched_at = models.DateTimeField()

    class Meta:
        verbose_name = _("pay-history fetch")
        verbose_name_plural = _("pay-history fetches")
        indexes = [models.Index(fields=["server", "account", "end"], name="payhistory_coverage")]

    def __str__(self) -> str:
        return f"{self.account} {self.begin:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M}"


class WebhookEndpoint(models.Model):
    """A reseller's URL that receives signed events (docs/API.md, "Webhooks")."""

    class Event(models.TextChoices):
        TRANSACTION_APPLIED = "transaction.applied", "transaction.applied"
        TRANSACTION_FAILED = "transaction.failed", "transaction.failed"
        CUSTOMER_LOW_BALANCE = "customer.low_balance", "customer.low_balance"
        CUSTOMER_LOCKED = "customer.locked", "customer.locked"
        CUSTOMER_CREATED = "customer.created", "customer.created"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(_("URL"), max_length=500)
    # Standard Webhooks secret, "whsec_" + base64 of 32 random bytes: needed to sign, so kept.
    secret = models.CharField(max_length=80, editable=False)
    events = models.JSONField(_("events"), default=list)
    description = models.CharField(_("description"), max_length=100, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how sending it went (the delivery log)."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_due")]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint_id} ({self.state})"

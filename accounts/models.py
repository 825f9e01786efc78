"""Portal users, their role, and the mapping user -> (VOS server, VOS account)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from telephony.models import MONEY, VosAccount, VosServer


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    RESELLER = "reseller", _("Reseller")
    STAFF = "staff", _("Staff")


class Profile(models.Model):
    """One per portal user.

    A customer maps to their own VOS account; a reseller to their agent account (their
    customers are the VOS accounts whose agentAccount is it). Staff need no account.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    vos_account = models.ForeignKey(
        VosAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="profiles",
        verbose_name=_("VOS account"),
    )
    language = models.CharField(
        _("language"), max_length=16, choices=settings.LANGUAGES, blank=True
    )
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    low_balance_threshold = models.DecimalField(
        _("low-balance threshold"), null=True, blank=True, **MONEY
    )
    # Alert state: set when an alert for the current crossing was sent; cleared (re-armed)
    # once the balance is back above the threshold.
    low_balance_alerted_at = models.DateTimeField(null=True, blank=True)

    # Reseller settings (ignored for other roles).
    topup_cap_per_transaction = models.DecimalField(
        _("top-up cap per transaction"), default=Decimal("500"), **MONEY
    )
    topup_cap_per_day = models.DecimalField(
        _("top-up cap per day"), default=Decimal("2000"), **MONEY
    )
    # Set with a temporary password given by a reseller or staff: the next sign-in must
    # choose a new password before any other page (accounts.middleware).
    must_change_password = models.BooleanField(default=False)
    prepaid = models.BooleanField(
        _("prepaid reseller"),
        default=False,
        help_text=_("A top-up also debits the reseller's own VOS account by the same amount."),
    )
    allow_negative_balance = models.BooleanField(
        _("may allow a negative balance"),
        default=False,
        help_text=_(
            'The reseller may tick "allow a negative balance" to deduct below a customer\'s '
            "overdraft limit. A prepaid reseller never takes more than the customer has."
        ),
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"

    @property
    def threshold(self) -> Decimal:
        if self.low_balance_threshold is not None:
            return self.low_balance_threshold
        return Decimal(settings.LOW_BALANCE_DEFAULT)


class Invitation(models.Model):
    """An e-mailed, signed, expiring link to set a password for a new portal login."""

    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    vos_account = models.ForeignKey(
        VosAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("VOS account"),
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_sent_at = models.DateTimeField(_("last sent"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return self.email

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None


class AuditLog(models.Model):
    """Every money and account action: who, when, from where, what, and how it ended."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=64)
    server = models.ForeignKey(VosServer, on_delete=models.SET_NULL, null=True, blank=True)
    account = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=32)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "billing_auditlog"  # created by billing before the model moved here
        ordering = ["-at"]
        indexes = [models.Index(fields=["server", "account", "at"], name="audit_account")]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.account} {self.outcome}"


class ApiKey(models.Model):
    """A key for the HTTP API (docs/API.md): shown once, stored as a SHA-256 hash.

    The key's text is ``<prefix>.<secret>``; ``prefix`` is stored in the clear to find the row
    and to name the key in lists, the whole text only as ``digest``.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        MONEY = "money", _("Money")
        ACCOUNTS = "accounts", _("Accounts")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(_("name"), max_length=64)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    allowed_ips = models.JSONField(
        _("allowed addresses"),
        default=list,
        blank=True,
        help_text=_("CIDRs the key may be used from; empty: anywhere."),
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    last_used_ip = models.GenericIPAddressField(_("last used from"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class IdempotentRequest(models.Model):
    """One ``Idempotency-Key`` of one user: the request it was first used with and its answer.

    Inserted before the request runs (``status`` 0 while it does); a second insert of the same
    (user, key) fails on the unique constraint, which is how a concurrent repeat is detected.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotentrequest_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} {self.status}"


class SpendingCeiling(models.Model):
    """The most a customer may set as a phone's monthly spending cap (``monthlyMoneyMaximum``),
    set by their reseller or staff. Without a row, ``settings.PHONE_CAP_DEFAULT_CEILING``."""

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="+")
    account = models.CharField(max_length=64)
    ceiling = models.DecimalField(_("monthly cap ceiling"), **MONEY)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("spending-cap ceiling")
        verbose_name_plural = _("spending-cap ceilings")
        constraints = [
            models.UniqueConstraint(fields=["server", "account"], name="spendingceiling_account")
        ]

    def __str__(self) -> str:
        return f"{self.account} ≤ {self.ceiling}"


class SignInLink(models.Model):
    """A one-time sign-in link a reseller or staff made for a customer's login: signed,
    short-lived (``SIGNIN_LINK_MAX_AGE_SECONDS``), used at most once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")

    def __str__(self) -> str:
        return f"{self.user} until {self.expires_at:%Y-%m-%d %H:%M}"

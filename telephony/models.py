"""What the portal knows of each VOS3000 softswitch: servers, the account mirror, CDRs, sync state.

Pages read these tables only; Celery jobs (telephony.tasks) keep them fresh.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MONEY = {"max_digits": 18, "decimal_places": 4}


def _push_secret() -> str:
    return secrets.token_urlsafe(24)


class VosServer(models.Model):
    """One VOS3000 softswitch, reached at its web-interface root (…/external/server)."""

    name = models.SlugField(_("name"), max_length=64, unique=True)
    url = models.URLField(
        _("interface root"),
        max_length=255,
        help_text=_("For example http://10.0.0.5:8080/external/server"),
    )
    connect_timeout = models.FloatField(_("connect timeout (s)"), default=3.0)
    read_timeout = models.FloatField(_("read timeout (s)"), default=10.0)
    time_zone = models.CharField(
        _("server time zone"),
        max_length=64,
        default="UTC",
        help_text=_("The softswitch's local time zone: VOS cuts days and reports in it."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    push_secret = models.CharField(
        _("push secret"),
        max_length=64,
        default=_push_secret,
        help_text=_("Part of the push-receiver address configured on the VOS side."),
    )
    # When the last complete balance sweep began: every account that was not missing then
    # has been read since, and written where its figures had changed (see
    # VosAccount.figures_as_of).
    balances_confirmed_at = models.DateTimeField(
        _("balances confirmed at"), null=True, blank=True, editable=False
    )
    push_allowed_ips = models.CharField(
        _("push allowed IPs"),
        max_length=500,
        blank=True,
        help_text=_("Comma-separated addresses or networks VOS pushes from."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("VOS server")
        verbose_name_plural = _("VOS servers")

    def __str__(self) -> str:
        return self.name


# The VosAccount fields copied from a GetCustomer record
# (telephony.services.mirror.customer_fields).
MIRRORED_FIELDS = frozenset(
    {
        "name",
        "agent_account",
        "account_type",
        "balance",
        "limit_money",
        "today_consumption",
        "locked",
        "phone_book_limit",
        "fee_rate_group",
        "memo",
        "vos_created_at",
        "valid_until",
    }
)


class VosAccountQuerySet(models.QuerySet):
    """Writes of mirrored fields outside the balance sync void ``wire_digest`` (see there)."""

    def update(self, **kwargs):
        if "wire_digest" not in kwargs and MIRRORED_FIELDS.intersection(kwargs):
            kwargs["wire_digest"] = ""
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        if "wire_digest" not in fields and MIRRORED_FIELDS.intersection(fields):
            objs = list(objs)
            for obj in objs:
                obj.wire_digest = ""
            fields = [*fields, "wire_digest"]
        return super().bulk_update(objs, fields, batch_size=batch_size)


class VosAccount(models.Model):
    """Local mirror of one VOS customer account (GetCustomer / GetAllCustomers)."""

    server = models.ForeignKey(VosServer, on_delete=models.PROTECT, related_name="accounts")
    account = models.CharField(_("account"), max_length=64)
    name = models.CharField(_("name"), max_length=64, blank=True)
    agent_account = models.CharField(_("agent account"), max_length=64, blank=True)
    account_type = models.PositiveSmallIntegerField(_("account type"), default=0)
    balance = models.DecimalField(_("balance"), default=Decimal("0"), **MONEY)
    limit_money = models.DecimalField(_("overdraft limit"), default=Decimal("0"), **MONEY)
    today_consumption = models.DecimalField(_("today's consumption"), default=Decimal("0"), **MONEY)
    locked = models.BooleanField(_("locked"), default=False)
    phone_book_limit = models.IntegerField(_("phone book limit"), null=True, blank=True)
    fee_rate_group = models.CharField(max_length=64, blank=True)
    memo = models.CharField(max_length=255, blank=True)
    vos_created_at = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    # When VOS reported the figures above (the request time of the read that wrote them).
    # A read older than this never overwrites them. The balance sweep does not write
    # figures that did not change: `figures_as_of` is when they were last confirmed.
    balance_as_of = models.DateTimeField(null=True, blank=True)
    last_call_at = models.DateTimeField(null=True, blank=True)
    discovered_at = models.DateTimeField(default=timezone.now)
    missing_since = models.DateTimeField(
        null=True, blank=True, help_text=_("Set when discovery no longer finds the account.")
    )
    # Fingerprint (vos.CustomerAnswer.digest) of the GetCustomer record the mirrored fields
    # were last copied from, or "" once anything else wrote one of them (a push, a top-up's
    # answer, an edit). While it matches the record VOS sends, the balance sweep neither
    # decodes the record again nor writes the row.
    wire_digest = models.CharField(max_length=32, blank=True, default="", editable=False)

    objects = VosAccountQuerySet.as_manager()

    class Meta:
        ordering = ["server", "account"]
        constraints = [
            models.UniqueConstraint(fields=["server", "account"], name="vosaccount_server_account")
        ]
        indexes = [models.Index(fields=["server", "agent_account"], name="vosaccount_agent")]
        verbose_name = _("VOS account")
        verbose_name_plural = _("VOS accounts")

    def __str__(self) -> str:
        return f"{self.account}@{self.server_id}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is None or MIRRORED_FIELDS.intersection(update_fields):
            self.wire_digest = ""
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "wire_digest"}
        super().save(*args, **kwargs)

    @property
    def figures_as_of(self) -> datetime | None:
        """When VOS last vouched for the figures: the read that wrote them, or the start of
        the server's last complete balance sweep, which read every account that was mirrored
        and not missing then."""
        confirmed = self.server.balances_confirmed_at
        if self.missing_since or confirmed is None or self.discovered_at > confirmed:
            confirmed = None
        return max((t for t in (self.balance_as_of, confirmed) if t), default=None)

    @property
    def available_credit(self) -> Decimal:
        return self.balance + self.limit_money


class Phone(models.Model):
    """A VOS phone (e164) and what pushes told us of its registration."""

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="phones")
    e164 = models.CharField(max_length=64)
    account = models.CharField(max_length=64, blank=True)
    online = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    remote_ip = models.CharField(max_length=64, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["server", "e164"], name="phone_server_e164")]
        indexes = [models.Index(fields=["server", "account"], name="phone_account")]
        verbose_name = _("phone")
        verbose_name_plural = _("phones")

    def __str__(self) -> str:
        return self.e164


class CoveringIndex(models.Index):
    """An index that also carries the ``covering`` columns where the database can (PostgreSQL
    INCLUDE), so a query reading only those needs no table visit; elsewhere a plain index.

    ``Index(include=...)`` does the same but raises system check models.W040 on SQLite.
    """

    def __init__(self, *args, covering: tuple[str, ...] | list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.covering = tuple(covering)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        if self.covering:
            kwargs["covering"] = list(self.covering)
        return path, args, kwargs

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self
        if self.covering and schema_editor.connection.features.supports_covering_indexes:
            index = self.clone()
            index.include = self.covering
        return super(CoveringIndex, index).create_sql(model, schema_editor, using=using, **kwargs)


class Cdr(models.Model):
    """One call record (GetCdr). `natural_key` makes re-syncing a window add nothing twice."""

    id = models.BigAutoField(primary_key=True)
    # No index of its own: both composite indexes below start with server_id, and a lone one
    # tempted PostgreSQL into scanning every row of a server. No foreign key in the
    # database either: its deferred check of every inserted row at commit was about a tenth of
    # the ingest's database time (docs/PERFORMANCE.md). Django still deletes a server's
    # rows with it, and a server with accounts is protected, so the ingest never writes
    # for a server being deleted.
    server = models.ForeignKey(
        VosServer,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    natural_key = models.CharField(max_length=40)
    flow_no = models.BigIntegerField(null=True, blank=True)
    account = models.CharField(max_length=64)
    agent_account = models.CharField(max_length=64, blank=True)
    caller_e164 = models.CharField(max_length=64, blank=True)
    caller_access_e164 = models.CharField(max_length=64, blank=True)
    callee_e164 = models.CharField(max_length=64, blank=True)
    callee_access_e164 = models.CharField(max_length=64, blank=True)
    caller_gateway = models.CharField(max_length=64, blank=True)
    callee_gateway = models.CharField(max_length=64, blank=True)
    caller_ip = models.CharField(max_length=64, blank=True)
    callee_ip = models.CharField(max_length=64, blank=True)
    start = models.DateTimeField()
    stop = models.DateTimeField()
    hold_time = models.PositiveIntegerField(default=0, help_text="seconds")
    fee_time = models.PositiveIntegerField(default=0, help_text="billed seconds")
    fee = models.DecimalField(default=Decimal("0"), **MONEY)
    fee_prefix = models.CharField(max_length=64, blank=True)
    call_level = models.PositiveSmallIntegerField(default=0)
    end_direction = models.PositiveSmallIntegerField(default=0)
    end_reason = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("call record")
        verbose_name_plural = _("call records")
        constraints = [
            models.UniqueConstraint(fields=["server", "natural_key"], name="cdr_natural_key")
        ]
        indexes = [
            # The calls page: one account, a time range, newest first; its totals, with or
            # without a number search, read only the covered columns.
            CoveringIndex(
                fields=["server", "account", "-start"],
                covering=["hold_time", "fee_time", "fee", "caller_e164", "callee_e164"],
                name="cdr_account_start",
            ),
            models.Index(fields=["start"], name="cdr_start"),
            # A number-prefix search: PostgreSQL's LIKE 'x%' needs the pattern operator class;
            # SQLite reads the same index through a range (selectors.PrefixOf).
            models.Index(
                fields=["server", "account", "caller_e164"],
                opclasses=["", "", "varchar_pattern_ops"],
                name="cdr_caller_prefix",
            ),
            models.Index(
                fields=["server", "account", "callee_e164"],
                opclasses=["", "", "varchar_pattern_ops"],
                name="cdr_callee_prefix",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.caller_e164} -> {self.callee_e164} @ {self.start:%Y-%m-%d %H:%M:%S}"

    @property
    def answered(self) -> bool:
        return self.hold_time > 0


# Rollup buckets are quarter hours of UTC: every UTC offset in use is a whole number of
# quarter hours (+05:30, +05:45, +08:45, DST shifts of 30 or 60 minutes), so every local day
# of every zone is a whole number of buckets (docs/PERFORMANCE.md, "Rollups").
ROLLUP_BUCKET_SECONDS = 900


class CdrRollup(models.Model):
    """Per account and quarter hour (UTC): the calls that started in it, summed.

    Kept by the CDR ingest in the transaction that adds the rows (only rows actually added
    count), rebuilt from the raw rows by ``manage.py cdr_rollups_rebuild``, and kept when
    retention drops the raw rows, so totals of any period outlive the call records.
    """

    id = models.BigAutoField(primary_key=True)
    # No foreign key in the database, as on Cdr: the ingest writes both in one transaction.
    server = models.ForeignKey(
        VosServer,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    account = models.CharField(max_length=64)
    bucket = models.DateTimeField(help_text="start of the quarter hour (UTC)")
    calls = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    talk_seconds = models.BigIntegerField(default=0)
    billed_seconds = models.BigIntegerField(default=0)
    cost = models.DecimalField(default=Decimal("0"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["server", "account", "bucket"], name="cdr_rollup_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} @ {self.bucket:%Y-%m-%d %H:%M}: {self.calls} calls"


class SyncState(models.Model):
    """Per server and job: how the last runs went (admin and the staff status page)."""

    class Job(models.TextChoices):
        DISCOVERY = "discovery", _("Discovery")
        BALANCES = "balances", _("Balances")
        CDRS = "cdrs", _("Call records")
        PAYMENTS = "payments", _("Pay history")
        REPORTS = "reports", _("Fee reports")
        RECONCILE = "reconcile", _("Reconciliation")
        RATES = "rates", _("Rate tables")

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="sync_states")
    job = models.CharField(max_length=32, choices=Job.choices)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_rows = models.IntegerField(default=0)
    last_duration_ms = models.IntegerField(default=0)
    vos_calls = models.IntegerField(default=0, help_text=_("VOS calls made by the last run"))
    # Job-specific cursor, e.g. the last fully closed CDR day.
    cursor = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["server", "job"], name="syncstate_job")]
        ordering = ["server", "job"]
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")

    def __str__(self) -> str:
        return f"{self.server} {self.job}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(self.synced_cache_key(self.server_id, self.job))

    @staticmethod
    def synced_cache_key(server_id: int, job: str) -> str:
        """The cache entry of ``selectors.last_synced`` (dropped whenever the row changes)."""
        return f"telephony:synced:{server_id}:{job}"

    @property
    def lag(self):
        if self.last_success_at is None:
            return None
        return timezone.now() - self.last_success_at


class FeeRateTable(models.Model):
    """One fee-rate group of one server, as read at ``read_at`` (replaced whole on each read)."""

    server = models.ForeignKey(VosServer, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(_("fee rate group"), max_length=64)
    memo = models.CharField(max_length=255, blank=True)
    read_at = models.DateTimeField(_("read at"))
    rate_count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("rate table")
        verbose_name_plural = _("rate tables")
        ordering = ["server", "group"]
        constraints = [
            models.UniqueConstraint(fields=["server", "group"], name="feeratetable_group")
        ]

    def __str__(self) -> str:
        return f"{self.server} / {self.group}"


class FeeRate(models.Model):
    """One prefix of a rate table (InfoFeeRate)."""

    class Type(models.IntegerChoices):
        NET = 1, _("On-net")
        LOCAL = 2, _("Local")
        DOMESTIC = 4, _("Domestic")
        INTERNATIONAL = 5, _("International")

    table = models.ForeignKey(FeeRateTable, on_delete=models.CASCADE, related_name="rates")
    prefix = models.CharField(max_length=32)
    area_code = models.CharField(max_length=32, blank=True)
    area_name = models.CharField(max_length=128, blank=True)
    type = models.SmallIntegerField(choices=Type.choices)
    fee = models.DecimalField(**MONEY)
    period = models.PositiveIntegerField(default=60)
    locked = models.BooleanField(default=False)
    # [{"fee": "0.2", "time": 30, "position": 1}, ...] in position order.
    sections = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["prefix"]
        constraints = [models.UniqueConstraint(fields=["table", "prefix"], name="feerate_prefix")]

    def __str__(self) -> str:
        return f"{self.prefix} {self.fee}"

"""Staff views of money: the ledger and the audit log (read-only), pay-history mirrors, and the
reconciliation report. Built for 100,000s of rows: no COUNT(*) of the whole table, related rows
selected in the same query, no VOS call per row."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin
from accounts.models import Profile, Role
from accounts.services import audit
from billing.services import card_throttle, ledger, mirror, report, transfers
from billing.services.ledger import reconcile_margin as ledger_margin
from telephony.models import VosServer
from telephony.vos import VosError

from .models import (
    CardThrottle,
    Consumption,
    FeeReport,
    LedgerEntry,
    PayRecord,
    WebhookDelivery,
    WebhookEndpoint,
)
from .online_admin import OnlinePaymentAdmin, PaymentNotificationAdmin

# The online payments' admin lives in its own module; importing it here registers it.
__all__ = ["LedgerEntryAdmin", "OnlinePaymentAdmin", "PaymentNotificationAdmin"]


class ResellerFilter(admin.SimpleListFilter):
    """By reseller: the (few) reseller logins, not a DISTINCT over the ledger."""

    title = _("reseller")
    parameter_name = "reseller"

    def lookups(self, request, model_admin):
        rows = (
            Profile.objects.filter(role=Role.RESELLER, vos_account__isnull=False)
            .select_related("vos_account", "user")
            .order_by("vos_account__account")
        )
        return [
            (row.vos_account.account, f"{row.vos_account.account} ({row.user.get_username()})")
            for row in rows
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(reseller_account=self.value())
        return queryset


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "server",
        "account",
        "kind",
        "amount",
        "state_badge",
        "reseller_account",
        "created_by",
        "created_ip",
        "balance_after",
    )
    list_filter = ("state", "kind", "server", ResellerFilter)
    list_select_related = ("server", "created_by")
    date_hierarchy = "created_at"
    search_fields = ("=id", "=account", "=idempotency_key", "=reseller_account")
    raw_id_fields = ("parent", "created_by")
    actions = ("reconcile_now",)
    # The reconciliation report's link sits with the object tools, not in the page title.
    change_list_template = "admin/billing/ledgerentry/change_list.html"
    readonly_fields = [field.name for field in LedgerEntry._meta.fields] + ["vos_memo"]

    @admin.display(description=_("state"), ordering="state")
    def state_badge(self, obj: LedgerEntry) -> str:
        colours = {"applied": "#1e7e34", "failed": "#b3261e", "unknown": "#8a5a00"}
        return format_html(
            '<strong style="color:{}">{}</strong>',
            colours.get(obj.state, "#555"),
            obj.get_state_display(),
        )

    @admin.display(description=_("memo sent to VOS"))
    def vos_memo(self, obj: LedgerEntry) -> str:
        return ledger.ledger_vos_memo(entry=obj)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_staff and super().has_view_permission(request, obj)

    @admin.action(description=_("Reconcile now (look them up in VOS pay history)"))
    def reconcile_now(self, request: HttpRequest, queryset: QuerySet[LedgerEntry]) -> None:
        open_rows = list(
            queryset.filter(state__in=ledger.OPEN_STATES).select_related("server")[:500]
        )
        for entry in open_rows:
            transfers.transfer_advance(entry=entry)
        after = LedgerEntry.objects.filter(pk__in=[e.pk for e in open_rows])
        counts = {state: after.filter(state=state).count() for state in LedgerEntry.State.values}
        audit.audit_log(
            actor=audit.actor_for(request),
            action="ledger.reconcile_now",
            outcome="ok",
            rows=len(open_rows),
            **counts,
        )
        self.message_user(
            request,
            _(
                "%(n)s open rows checked: %(applied)s applied, %(failed)s failed, "
                "%(unknown)s still unknown."
            )
            % {"n": len(open_rows), **counts},
            messages.SUCCESS,
        )

    def get_urls(self):
        urls = super().get_urls()
        return [
            path(
                "reconciliation/",
                self.admin_site.admin_view(self.reconciliation_view),
                name="billing_reconciliation",
            ),
            *urls,
        ]

    def reconciliation_view(self, request: HttpRequest) -> HttpResponse:
        """Ledger vs VOS pay history per account and day, mismatches listed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        source = request.POST if request.method == "POST" else request.GET
        first = parse_date(source.get("first", "") or "") or today - timedelta(days=1)
        last = parse_date(source.get("last", "") or "") or today
        if last < first:
            first, last = last, first
        last = min(last, first + timedelta(days=31))
        servers = VosServer.objects.all()
        server = servers.filter(pk=source.get("server") or 0).first()
        account = (source.get("account") or "").strip()[:64]
        mismatches_only = source.get("mismatches") == "1"
        if request.method == "POST" and "fetch" in request.POST:
            self._fetch(request, first=first, last=last, server=server, account=account)
        rows = report.reconciliation_report(
            first=first,
            last=last,
            server=server,
            account=account,
            mismatches_only=mismatches_only,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Reconciliation: ledger vs VOS pay history"),
            "rows": rows[:2000],
            "truncated": len(rows) > 2000,
            "first": first,
            "last": last,
            "servers": servers,
            "server": server,
            "account": account,
            "mismatches_only": mismatches_only,
            "changelist_url": reverse("admin:billing_ledgerentry_changelist"),
        }
        return TemplateResponse(request, "billing/reconciliation.html", context)

    def _fetch(self, request, *, first, last, server, account) -> None:
        tz = timezone.get_current_timezone()
        begin = timezone.make_aware(datetime.combine(first, time.min), tz)
        end = begin + timedelta(days=(last - first).days + 1)
        ledger = LedgerEntry.objects.filter(created_at__gte=begin, created_at__lt=end)
        if server is not None:
            ledger = ledger.filter(server=server)
        if account:
            ledger = ledger.filter(account=account)
        pairs = ledger.values_list("server_id", "account").distinct()[:500]
        # A switch clock that differs from ours still puts the records inside the window.
        begin, end = begin - ledger_margin(), end + ledger_margin()
        by_server: dict[int, set[str]] = {}
        for server_id, acct in pairs:
            by_server.setdefault(server_id, set()).add(acct)
        added = 0
        try:
            for srv in VosServer.objects.filter(pk__in=list(by_server)):
                added += mirror.pay_history_fetch(
                    server=srv, accounts=by_server[srv.pk], begin=begin, end=end
                )
        except VosError as exc:
            self.message_user(
                request,
                _("VOS did not answer: %(error)s") % {"error": exc.message},
                messages.WARNING,
            )
            return
        self.message_user(
            request, _("%(n)s pay-history records added.") % {"n": added}, messages.SUCCESS
        )


@admin.register(PayRecord)
class PayRecordAdmin(ReadOnlyAdmin):
    list_display = ("paid_at", "server", "account", "amount", "type", "balance_after", "memo")
    list_filter = ("server", "type")
    list_select_related = ("server",)
    date_hierarchy = "paid_at"
    search_fields = ("=account", "memo")


@admin.register(FeeReport)
class FeeReportAdmin(ReadOnlyAdmin):
    list_display = ("day", "server", "account", "cdr_count", "total_fee", "total_time")
    list_filter = ("server",)
    list_select_related = ("server",)
    date_hierarchy = "day"
    search_fields = ("=account",)


@admin.register(Consumption)
class ConsumptionAdmin(ReadOnlyAdmin):
    list_display = ("at", "server", "account", "amount", "type", "source", "balance_after")
    list_filter = ("server", "type")
    list_select_related = ("server",)
    date_hierarchy = "at"
    search_fields = ("=account",)


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = ("created_at", "event", "state", "attempts", "last_status", "last_error")
    readonly_fields = fields
    ordering = ("-created_at",)
    max_num = 0


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "owner", "enabled", "failing_since", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "owner__username")
    readonly_fields = ("owner", "url", "failing_since", "disabled_at", "created_at")
    fields = ("owner", "url", "events", "description", "enabled", *readonly_fields[2:])
    inlines = (WebhookDeliveryInline,)

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "event", "endpoint", "state", "attempts", "last_status")
    list_filter = ("state", "event")
    search_fields = ("message_id", "endpoint__url")


@admin.register(CardThrottle)
class CardThrottleAdmin(ReadOnlyAdmin):
    """Calling-card guessing: who is locked out, and lifting it (audited)."""

    list_display = ("scope", "key", "failures", "locked_until", "last_failure_at")
    list_filter = ("scope",)
    search_fields = ("=key",)
    ordering = ("-last_failure_at",)
    actions = ("lift",)

    @admin.action(description=_("Lift the lock-out (forget the failed attempts)"))
    def lift(self, request: HttpRequest, queryset: QuerySet[CardThrottle]) -> None:
        ids = list(queryset.values_list("pk", flat=True)[:500])
        lifted = card_throttle.card_throttle_lift(actor=audit.actor_for(request), throttle_ids=ids)
        self.message_user(request, _("%(n)s lifted.") % {"n": lifted}, messages.SUCCESS)

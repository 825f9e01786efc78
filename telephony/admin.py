from __future__ import annotations

import hashlib

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Cdr, Phone, SyncState, VosAccount, VosServer
from .signals import server_changed_in_admin

# What a staff change to a server is audited for (old -> new); secrets only as "changed".
SERVER_AUDITED = ["name", "url", "enabled", "time_zone", "connect_timeout", "read_timeout"]
SERVER_SECRETS = ["push_secret", "push_allowed_ips"]


def _server_snapshot(values: dict) -> dict:
    snapshot = {name: values[name] for name in SERVER_AUDITED}
    digest = hashlib.sha256(str(values["push_secret"]).encode()).hexdigest()[:8]
    snapshot["push_secret"] = f"(secret {digest})"
    snapshot["push_allowed_ips"] = values["push_allowed_ips"]
    return snapshot


@admin.register(VosServer)
class VosServerAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "time_zone", "enabled"]
    list_filter = ["enabled"]
    search_fields = ["name", "url"]
    readonly_fields = ["created_at", "updated_at", "balances_confirmed_at"]
    actions = ["test_connection", "discover_now", "sync_balances_now", "sync_rates_now"]
    fieldsets = [
        (None, {"fields": ["name", "url", "time_zone", "enabled"]}),
        (_("Timeouts"), {"fields": ["connect_timeout", "read_timeout"]}),
        (
            _("Push receiver"),
            {
                "fields": ["push_secret", "push_allowed_ips"],
                "description": _(
                    "VOS pushes to /vos-push/&lt;push secret&gt;/&lt;Interface&gt; on this "
                    "portal. With no allowed IPs, only the address of the interface root's "
                    "host is accepted."
                ),
            },
        ),
        (None, {"fields": ["created_at", "updated_at", "balances_confirmed_at"]}),
    ]

    def save_model(self, request, obj, form, change):
        fields = SERVER_AUDITED + SERVER_SECRETS
        old = VosServer.objects.filter(pk=obj.pk).values(*fields).first() if change else None
        super().save_model(request, obj, form, change)
        new = {name: getattr(obj, name) for name in fields}
        server_changed_in_admin.send(
            sender=VosServer,
            server=obj,
            request=request,
            before=_server_snapshot(old) if old else {},
            after=_server_snapshot(new),
        )

    def _queue(self, request, queryset, job: str, label: str) -> None:
        from .tasks import server_sync

        servers = list(queryset.filter(enabled=True))
        for server in servers:
            server_sync.delay(server.pk, job)
        self.message_user(
            request,
            ngettext(
                "%(job)s queued for %(n)d server.",
                "%(job)s queued for %(n)d servers.",
                len(servers),
            )
            % {"job": label, "n": len(servers)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Test connection"))
    def test_connection(self, request, queryset):
        from .vos import vos_probe

        for server in queryset:
            ok, detail = vos_probe(server)
            self.message_user(
                request,
                _("%(server)s: %(detail)s") % {"server": server.name, "detail": detail},
                messages.SUCCESS if ok else messages.ERROR,
            )

    @admin.action(description=_("Discover accounts now"))
    def discover_now(self, request, queryset):
        self._queue(request, queryset, SyncState.Job.DISCOVERY, _("Discovery"))

    @admin.action(description=_("Read rate tables now"))
    def sync_rates_now(self, request, queryset):
        self._queue(request, queryset, SyncState.Job.RATES, _("Rate tables"))

    @admin.action(description=_("Sync balances now"))
    def sync_balances_now(self, request, queryset):
        self._queue(request, queryset, SyncState.Job.BALANCES, _("Balances"))


@admin.register(VosAccount)
class VosAccountAdmin(admin.ModelAdmin):
    list_display = [
        "account",
        "server",
        "name",
        "agent_account",
        "balance",
        "limit_money",
        "locked",
        "figures_as_of",
        "last_call_at",
        "missing_since",
    ]
    list_filter = ["server", "locked", ("missing_since", admin.EmptyFieldListFilter)]
    search_fields = ["account", "name", "agent_account"]
    list_select_related = ["server"]
    # The mirror is VOS's data: change it on VOS, not here.
    readonly_fields = [f.name for f in VosAccount._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("figures as of"))
    def figures_as_of(self, obj):
        return obj.figures_as_of


@admin.register(Phone)
class PhoneAdmin(admin.ModelAdmin):
    list_display = ["e164", "server", "account", "online", "last_seen_at", "remote_ip"]
    list_filter = ["server", "online"]
    search_fields = ["e164", "account"]


@admin.register(Cdr)
class CdrAdmin(admin.ModelAdmin):
    list_display = ["start", "server", "account", "caller_e164", "callee_e164", "hold_time", "fee"]
    list_filter = ["server"]
    search_fields = ["account", "caller_e164", "callee_e164"]
    date_hierarchy = "start"
    show_full_result_count = False  # COUNT(*) on a large CDR table is slow
    readonly_fields = [f.name for f in Cdr._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = [
        "server",
        "job",
        "last_success_at",
        "lag_display",
        "last_error_at",
        "last_rows",
        "vos_calls",
        "last_duration_ms",
    ]
    list_filter = ["server", "job"]
    readonly_fields = [
        "server",
        "job",
        "last_started_at",
        "last_success_at",
        "last_error_at",
        "last_error",
        "last_rows",
        "last_duration_ms",
        "vos_calls",
        "cursor",
    ]

    @admin.display(description=_("lag"))
    def lag_display(self, obj: SyncState):
        lag = obj.lag
        return "—" if lag is None else str(lag).split(".")[0]

    def has_add_permission(self, request):
        return False

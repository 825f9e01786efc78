"""Staff views of online payments: the payment, every notification, its ledger rows; actions
to approve or dismiss held refund deductions and to credit again a refused credit."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.admin import ReadOnlyAdmin
from accounts.services import audit
from billing.services import online

from .models import LedgerEntry, OnlinePayment, PaymentNotification


class NotificationInline(admin.TabularInline):
    model = PaymentNotification
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("received_at", "event_type", "event_id", "verified", "outcome", "detail")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    fk_name = "online_payment"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ("id", "created_at", "kind", "amount", "state", "sent_at", "balance_after", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "reference",
        "server",
        "account",
        "amount",
        "currency",
        "state",
        "refunded",
        "provider",
        "user",
    )
    list_filter = ("state", "provider", "server")
    list_select_related = ("server", "user")
    date_hierarchy = "created_at"
    search_fields = ("=reference", "=account", "=gateway_id", "=gateway_payment_id")
    readonly_fields = [field.name for field in OnlinePayment._meta.fields]
    inlines = (NotificationInline, LedgerInline)
    actions = ("apply_held_deductions", "dismiss_held_deductions", "credit_again")

    def _held(self, queryset: QuerySet) -> QuerySet:
        return LedgerEntry.objects.filter(
            online_payment__in=queryset,
            kind=LedgerEntry.Kind.ONLINE_REVERSAL,
            state=LedgerEntry.State.PENDING,
            sent_at__isnull=True,
        )

    @admin.action(description=_("Deduct held refunds and chargebacks now"))
    def apply_held_deductions(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = audit.actor_for(request)
        rows = list(self._held(queryset).values_list("pk", flat=True))
        for entry_id in rows:
            online.online_reversal_apply(actor=actor, entry_id=entry_id)
        messages.info(request, _("%(n)d deduction(s) sent.") % {"n": len(rows)})

    @admin.action(description=_("Dismiss held refunds and chargebacks (no deduction)"))
    def dismiss_held_deductions(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = audit.actor_for(request)
        rows = list(self._held(queryset).values_list("pk", flat=True))
        done = sum(online.online_reversal_dismiss(actor=actor, entry_id=pk) for pk in rows)
        messages.info(request, _("%(n)d deduction(s) dismissed.") % {"n": done})

    @admin.action(description=_("Credit again (only when every credit was refused)"))
    def credit_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = audit.actor_for(request)
        done = 0
        for payment_id in queryset.values_list("pk", flat=True):
            done += online.online_credit_retry(actor=actor, payment_id=payment_id) is not None
        messages.info(request, _("%(n)d payment(s) credited again.") % {"n": done})


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "provider", "event_type", "outcome", "verified", "payment")
    list_filter = ("outcome", "verified", "provider")
    list_select_related = ("payment",)
    date_hierarchy = "received_at"
    search_fields = ("=event_id", "=payment__reference")
    readonly_fields = [field.name for field in PaymentNotification._meta.fields]

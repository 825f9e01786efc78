"""Staff pages for portal users, their (server, account) mapping, and invitations.

Built for 100,000 users: joins instead of per-row queries, no full counts, no VOS calls.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from telephony.signals import server_changed_in_admin

from .models import ApiKey, AuditLog, Invitation, Profile, Role
from .services import mfa, onboarding
from .services.apikeys import api_key_revoke
from .services.audit import actor_for, audit_changes

User = get_user_model()

# The second factor's secrets are nobody's to read, staff included: the admin resets a
# user's factors (PortalUserAdmin.mfa_reset) instead of showing or editing them.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class ProfileAdminForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = [
            "role",
            "vos_account",
            "language",
            "time_zone",
            "low_balance_threshold",
            "topup_cap_per_transaction",
            "topup_cap_per_day",
            "prepaid",
            "allow_negative_balance",
        ]

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role in (Role.CUSTOMER, Role.RESELLER) and not cleaned.get("vos_account"):
            self.add_error("vos_account", _("Customers and resellers need a VOS account."))
        return cleaned


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileAdminForm
    can_delete = False
    extra = 0
    max_num = 1
    raw_id_fields = ["vos_account"]
    fieldsets = [
        (None, {"fields": ["role", "vos_account", "language", "time_zone"]}),
        (_("Alerts"), {"fields": ["low_balance_threshold", "low_balance_alerted_at"]}),
        (
            _("Reseller settings"),
            {
                "fields": [
                    "topup_cap_per_transaction",
                    "topup_cap_per_day",
                    "prepaid",
                    "allow_negative_balance",
                ]
            },
        ),
    ]
    readonly_fields = ["low_balance_alerted_at"]


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [*Role.choices, ("none", _("No profile"))]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(profile__isnull=True)
        if self.value():
            return queryset.filter(profile__role=self.value())
        return queryset


if admin.site.is_registered(User):
    admin.site.unregister(User)


# A staff change to these Profile fields is audited with its old and new values.
PROFILE_AUDITED = [
    "role",
    "vos_account",
    "topup_cap_per_transaction",
    "topup_cap_per_day",
    "prepaid",
    "allow_negative_balance",
]


def _profile_values(profile: Profile | None) -> dict:
    if profile is None:
        return {}
    values = {name: getattr(profile, name) for name in PROFILE_AUDITED}
    account = profile.vos_account
    values["vos_account"] = f"{account.account}@{account.server.name}" if account else None
    return values


@receiver(server_changed_in_admin)
def _audit_server_change(sender, *, server, request, before, after, **kwargs):
    audit_changes(
        actor=actor_for(request),
        action="admin.server.change" if before else "admin.server.add",
        before=before,
        after=after,
        server=server,
    )


@admin.register(User)
class PortalUserAdmin(DjangoUserAdmin):
    inlines = [ProfileInline]
    list_display = [
        "username",
        "email",
        "role",
        "vos_account",
        "server",
        "is_active",
        "is_staff",
        "last_login",
    ]
    list_select_related = ["profile__vos_account__server"]
    list_filter = [RoleFilter, "profile__vos_account__server", "is_staff", "is_active"]
    search_fields = ["username", "email", "profile__vos_account__account"]
    show_full_result_count = False
    ordering = ["username"]
    actions = ["mfa_reset"]

    @admin.action(
        description=_("Reset two-factor sign-in (remove app, passkeys, recovery codes)"),
        permissions=["change"],
    )
    def mfa_reset(self, request, queryset):
        """Staff recovery for a user who lost every factor; each reset is audited."""
        actor = actor_for(request)
        users = list(queryset)
        for user in users:
            mfa.reset(user=user, actor=actor)
        self.message_user(
            request,
            ngettext(
                "Two-factor sign-in was reset for %d user.",
                "Two-factor sign-in was reset for %d users.",
                len(users),
            )
            % len(users),
            messages.SUCCESS,
        )

    def save_formset(self, request, form, formset, change):
        """Audit the Profile inline: mapping, role, reseller caps and prepaid, old -> new."""
        if formset.model is not Profile:
            return super().save_formset(request, form, formset, change)
        pks = [f.instance.pk for f in formset.forms if f.instance.pk]
        before = {
            p.pk: _profile_values(p)
            for p in Profile.objects.filter(pk__in=pks).select_related("vos_account__server")
        }
        super().save_formset(request, form, formset, change)
        for profile in formset.queryset.model.objects.filter(user=form.instance).select_related(
            "vos_account__server"
        ):
            account = profile.vos_account
            audit_changes(
                actor=actor_for(request),
                action="admin.profile.change" if profile.pk in before else "admin.profile.add",
                before=before.get(profile.pk, {}),
                after=_profile_values(profile),
                server=account.server if account else None,
                account=account.account if account else "",
                user=form.instance.username,
            )

    @admin.display(description=_("role"), ordering="profile__role")
    def role(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.get_role_display() if profile else "—"

    @admin.display(description=_("VOS account"), ordering="profile__vos_account__account")
    def vos_account(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.vos_account.account if profile and profile.vos_account else "—"

    @admin.display(description=_("server"), ordering="profile__vos_account__server__name")
    def server(self, obj):
        profile = getattr(obj, "profile", None)
        return profile.vos_account.server.name if profile and profile.vos_account else "—"


class InvitationAdminForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role", "vos_account"]

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        if role in (Role.CUSTOMER, Role.RESELLER) and not cleaned.get("vos_account"):
            self.add_error("vos_account", _("Customers and resellers need a VOS account."))
        if role == Role.STAFF:
            cleaned["vos_account"] = None
        return cleaned


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    form = InvitationAdminForm
    list_display = [
        "email",
        "role",
        "vos_account",
        "invited_by",
        "created_at",
        "last_sent_at",
        "accepted_at",
    ]
    list_select_related = ["vos_account__server", "invited_by"]
    list_filter = ["role", ("accepted_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["email", "vos_account__account"]
    raw_id_fields = ["vos_account"]
    show_full_result_count = False
    date_hierarchy = "created_at"
    actions = ["resend"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "role", "vos_account"]
        return [
            "email",
            "role",
            "vos_account",
            "invited_by",
            "created_at",
            "last_sent_at",
            "accepted_at",
            "user",
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        obj.invited_by = request.user
        obj.save()
        onboarding.invitation_mail_queue(invitation=obj, base_url=request.build_absolute_uri("/"))
        self.message_user(request, _("The invitation was e-mailed to %s.") % obj.email)

    @admin.action(description=_("Resend the invitation e-mail (pending only)"))
    def resend(self, request, queryset):
        sent = 0
        for invitation in queryset.filter(accepted_at__isnull=True):
            onboarding.invitation_mail_queue(
                invitation=invitation, base_url=request.build_absolute_uri("/")
            )
            sent += 1
        self.message_user(
            request,
            ngettext("%d invitation resent.", "%d invitations resent.", sent) % sent,
            messages.SUCCESS,
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that record what happened: visible to staff, never edited by hand."""

    show_full_result_count = False
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "ip", "action", "server", "account", "outcome", "detail")
    list_filter = ("outcome", "action", "server")
    list_select_related = ("user", "server")
    date_hierarchy = "at"
    search_fields = ("=account", "=user__username", "=ip", "action")
    raw_id_fields = ("user",)
    readonly_fields = ("at", "user", "ip", "action", "server", "account", "outcome", "detail")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see and revoke keys; a new key is made with ``manage.py api_key_create`` or on
    the user's profile page (its text exists only then)."""

    list_display = ("name", "prefix", "user", "scopes", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    readonly_fields = ("prefix", "user", "created_at", "last_used_at", "last_used_ip", "revoked_at")
    fields = ("name", "user", "prefix", "scopes", "allowed_ips", "expires_at", *readonly_fields[2:])
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Revoke the selected keys"))
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at=None):
            api_key_revoke(actor=actor_for(request), key=key)

"""Forms of the reseller area. They only clean data; services act."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.scoping import reseller_agent, reseller_customers
from accounts.widgets import DateInput
from telephony.models import VosAccount
from telephony.money import format_money

from .services.ledger import USER_MEMO_MAX

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class AmountField(forms.DecimalField):
    """A money amount: no more decimals than the portal shows (PORTAL_AMOUNT_DECIMALS), so
    what a person sees is what the switch gets; no exponent, NaN or infinity."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        places = settings.PORTAL_AMOUNT_DECIMALS
        super().__init__(max_digits=10 + places, decimal_places=places, **kwargs)
        self.error_messages["invalid"] = _("Enter an amount such as 25 or 12.50.")

    def to_python(self, value):
        if isinstance(value, str) and re.search(r"[eE]", value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class ResellerFormMixin:
    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)


class TopupForm(ResellerFormMixin, forms.Form):
    TOPUP, DEDUCT = "topup", "deduct"

    account = forms.CharField(label=_("Customer account"), max_length=64)
    direction = forms.ChoiceField(
        label=_("Action"),
        choices=[(TOPUP, _("Top up (add credit)")), (DEDUCT, _("Deduct (take credit)"))],
        initial=TOPUP,
        widget=forms.RadioSelect,
    )
    amount = AmountField(label=_("Amount"))
    memo = forms.CharField(
        label=_("Memo"),
        max_length=USER_MEMO_MAX,
        required=False,
        help_text=_("Optional. Shown in the payment history."),
    )
    allow_negative = forms.BooleanField(
        label=_("Allow a negative balance"),
        required=False,
        help_text=_("Deductions only: let the balance fall below minus the overdraft limit."),
    )
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    customer: VosAccount | None = None

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        profile = user.profile
        # Only resellers staff have allowed see the choice; the service refuses it for others.
        if not profile.allow_negative_balance:
            del self.fields["allow_negative"]
        self.fields["amount"].help_text = _(
            "At most %(cap)s in one transaction, %(day)s a day (top-ups and deductions)."
        ) % {
            "cap": format_money(profile.topup_cap_per_transaction),
            "day": format_money(profile.topup_cap_per_day),
        }

    def clean_account(self) -> str:
        account = self.cleaned_data["account"].strip()
        customer = reseller_customers(self.user).filter(account=account).first()
        if customer is None:
            raise forms.ValidationError(_("You have no customer with this account."))
        self.customer = customer
        return account

    def clean_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise forms.ValidationError(_("Enter an amount greater than zero."))
        return amount

    def clean_memo(self) -> str:
        return " ".join(CONTROL_CHARS.sub(" ", self.cleaned_data["memo"]).split())

    def clean_key(self) -> str:
        try:
            return str(uuid.UUID(self.cleaned_data["key"]))
        except ValueError:
            raise forms.ValidationError(_("This form has expired. Please start again.")) from None

    @property
    def deduct(self) -> bool:
        return self.cleaned_data.get("direction") == self.DEDUCT

    @property
    def negative_allowed(self) -> bool:
        return self.deduct and bool(self.cleaned_data.get("allow_negative"))


class LimitForm(forms.Form):
    limit_money = AmountField(
        label=_("Overdraft limit"),
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        help_text=_("How far below zero the balance may go."),
    )


class CustomerCreateForm(ResellerFormMixin, forms.Form):
    account = forms.CharField(
        label=_("VOS account"),
        max_length=32,
        validators=[
            RegexValidator(
                r"^[A-Za-z0-9_.-]+$", _("Use letters, digits, dot, dash or underscore only.")
            )
        ],
    )
    name = forms.CharField(label=_("Name"), max_length=64, required=False)
    limit_money = AmountField(
        label=_("Overdraft limit"),
        min_value=Decimal("0"),
        max_value=Decimal("1000000"),
        initial=Decimal("0"),
    )
    e164 = forms.CharField(
        label=_("Phone number (E.164)"),
        max_length=32,
        validators=[RegexValidator(r"^\d{3,32}$", _("Digits only, without + or spaces."))],
    )
    web_password = forms.CharField(
        label=_("Web query password"),
        min_length=6,
        max_length=32,
        widget=forms.PasswordInput(render_value=True),
        help_text=_("The customer proves they own the number with it."),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        help_text=_("We send the customer an invitation to the portal."),
    )

    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput(),
        help_text=_(
            "The last day the account can make calls, on the switch's clock. Leave empty for "
            "the switch's own default."
        ),
    )

    def clean_valid_until(self):
        day = self.cleaned_data.get("valid_until")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        return day

    def clean_account(self) -> str:
        account = self.cleaned_data["account"]
        agent = reseller_agent(self.user)
        if VosAccount.objects.filter(server_id=agent.server_id, account=account).exists():
            raise forms.ValidationError(_("This account already exists."))
        return account

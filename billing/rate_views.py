"""Rates: the customer's own rate table and each of a reseller's customers' (read from the
mirror), its CSV, and "How long can I talk?" (GetAvailableTime, bounded, live)."""

from __future__ import annotations

import csv
from io import StringIO

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.text import slugify
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.scoping import customer_required, own_account, reseller_customer, reseller_required
from telephony.countries import number_country
from telephony.csvsafe import csv_cell
from telephony.models import FeeRate, VosAccount
from telephony.money import format_money
from telephony.rate_selectors import rate_for_number, rate_table, rates_of, rates_search
from telephony.services.rates import available_time_read, billing_phones
from telephony.vos import VosError

from .rate_forms import RateSearchForm, TalkTimeForm

RATES_PER_PAGE = 50
# GetAvailableTime's end reasons (timeRemain < 0). The real codes are not documented; these
# are the emulator's (docs/EMULATOR.md). Anything else is shown with its number.
END_REASONS = {
    -1: gettext_lazy("There is no rate for this number."),
    -2: gettext_lazy("Your balance does not pay for the first minute of this call."),
    -3: gettext_lazy("Your account is locked."),
    -4: gettext_lazy("This phone is locked for outgoing calls."),
    -5: gettext_lazy("Your account has expired."),
    -6: gettext_lazy("Calls to this destination are blocked."),
    -7: gettext_lazy("This phone may not call this kind of destination."),
}
CSV_HEADER = (
    gettext_lazy("Prefix"),
    gettext_lazy("Area"),
    gettext_lazy("Country"),
    gettext_lazy("Type"),
    gettext_lazy("Rate per minute"),
    gettext_lazy("Billing step (s)"),
    gettext_lazy("Sections"),
    gettext_lazy("Blocked"),
)


def sections_text(rate: FeeRate) -> str:
    parts = [
        _("%(fee)s for %(time)s s") % {"fee": format_money(s["fee"]), "time": s["time"]}
        for s in rate.sections
    ]
    return ", ".join(parts)


def _decorate(rates, language: str) -> list[FeeRate]:
    rates = list(rates)
    for rate in rates:
        rate.country = number_country(rate.prefix, language)
        rate.sections_label = sections_text(rate)
    return rates


def talk_time(account: VosAccount, form: TalkTimeForm) -> dict:
    """The answer of "How long can I talk?" for a valid form, or a notice."""
    phone = form.cleaned_data.get("phone") or form.fields["phone"].choices[0][0]
    number = form.cleaned_data["number"]
    try:
        answer = available_time_read(account=account, phone=phone, callee=number)
    except VosError:
        return {"notice": _("The switch did not answer in time. Please try again shortly.")}
    if answer.refused:
        reason = END_REASONS.get(answer.seconds) or _(
            "The switch would not connect this call (reason %(code)s)."
        ) % {"code": answer.seconds}
        return {"refused": reason, "number": number}
    return {
        "minutes": answer.seconds // 60,
        "number": number,
        "unlimited": answer.seconds >= 2**31 - 1,
    }


def _talk_form(request: HttpRequest, account: VosAccount) -> tuple[TalkTimeForm, dict | None]:
    phones = billing_phones(account=account) if "number" in request.GET else []
    form = TalkTimeForm(request.GET if "number" in request.GET else None, phones=phones)
    if not form.is_bound:
        return form, None
    if not phones:
        return form, {"notice": _("No phone of this account could be found on the switch.")}
    return form, talk_time(account, form) if form.is_valid() else None


def _rates_page(request: HttpRequest, account: VosAccount, *, csv_url: str, template_base: str):
    language = get_language() or "en"
    table = rate_table(server=account.server_id, group=account.fee_rate_group)
    search = RateSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    context: dict = {
        "account": account,
        "table": table,
        "search": search,
        "query": query,
        "csv_url": csv_url,
        "base_template": template_base,
    }
    context["talk_form"], context["talk"] = _talk_form(request, account)
    if table is not None:
        if query:
            context["rates"] = _decorate(
                rates_search(table=table, query=query, language=language), language
            )
            if query.isdigit():
                context["billed"] = rate_for_number(table=table, number=query)
        else:
            page = Paginator(rates_of(table=table), RATES_PER_PAGE).get_page(
                request.GET.get("page")
            )
            context["page"] = page
            context["rates"] = _decorate(page.object_list, language)
        context["read_at"] = formats.date_format(timezone.localtime(table.read_at), "Y-m-d H:i")
    return render(request, "billing/rates.html", context)


def _csv(account: VosAccount) -> HttpResponse:
    language = get_language() or "en"
    table = rate_table(server=account.server_id, group=account.fee_rate_group)
    header = [str(h) for h in CSV_HEADER]
    types = dict(FeeRate.Type.choices)
    yes, no = _("yes"), _("no")

    def lines():
        buffer = StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        rows = rates_of(table=table).iterator(chunk_size=2000) if table else []
        for rate in rows:
            writer.writerow(
                [
                    csv_cell(rate.prefix),
                    csv_cell(rate.area_name),
                    csv_cell(number_country(rate.prefix, language)),
                    str(types.get(rate.type, rate.type)),
                    str(rate.fee),
                    rate.period,
                    csv_cell(sections_text(rate)),
                    yes if rate.locked else no,
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        if buffer.getvalue():
            yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = slugify(f"rates-{account.account}") or "rates"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    response["Cache-Control"] = "no-store"
    return response


@customer_required
def rates(request: HttpRequest) -> HttpResponse:
    account = own_account(request.user)
    return _rates_page(
        request, account, csv_url=reverse("customer:rates_csv"), template_base="customer/base.html"
    )


@customer_required
def rates_csv(request: HttpRequest) -> HttpResponse:
    return _csv(own_account(request.user))


@reseller_required
def customer_rates(request: HttpRequest, account: str) -> HttpResponse:
    customer = reseller_customer(request.user, account)
    return _rates_page(
        request,
        customer,
        csv_url=reverse("reseller:customer_rates_csv", args=[customer.account]),
        template_base="base.html",
    )


@reseller_required
def customer_rates_csv(request: HttpRequest, account: str) -> HttpResponse:
    return _csv(reseller_customer(request.user, account))

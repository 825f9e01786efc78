from __future__ import annotations

from decimal import Decimal

from django.template import Context, Template
from django.utils import translation

from telephony.money import format_amount, format_money


def test_money_groups_thousands_and_rounds_to_the_display_decimals(settings):
    settings.PORTAL_CURRENCY = "USD"
    settings.PORTAL_AMOUNT_DECIMALS = 2
    assert format_money(Decimal("1234567.005")) == "USD 1,234,567.01"
    assert format_money(Decimal("0.004")) == "USD 0.00"


def test_money_puts_the_sign_of_a_negative_amount_first(settings):
    settings.PORTAL_CURRENCY = "USD"
    assert format_money(Decimal("-1500.5")) == "-USD 1,500.50"
    assert format_money(Decimal("-0.001")) == "USD 0.00"


def test_money_sets_a_currency_symbol_against_the_digits(settings):
    settings.PORTAL_CURRENCY = "¥"
    assert format_money(Decimal("12")) == "¥12.00"
    assert format_money(Decimal("-3")) == "-¥3.00"


def test_money_uses_the_configured_number_of_decimals(settings):
    settings.PORTAL_AMOUNT_DECIMALS = 4
    assert format_amount(Decimal("0.12345")) == "0.1235"


def test_money_is_locale_aware_and_empty_values_show_a_dash(settings):
    settings.PORTAL_CURRENCY = "CNY"
    with translation.override("zh-hans"):
        assert format_money(Decimal("9876.5")) == "CNY 9,876.50"
    assert format_money(None) == "—"


def test_money_and_duration_filters_render_in_templates(settings):
    settings.PORTAL_CURRENCY = "USD"
    html = Template("{% load money %}{{ a|money }} {{ a|amount }} {{ s|duration }}").render(
        Context({"a": Decimal("1000"), "s": 3725})
    )
    assert html == "USD 1,000.00 1,000.00 1:02:05"


AMOUNTS = (
    None,
    "",
    "not a number",
    0,
    "0.004",
    "-0.001",
    "0.005",
    "12",
    "-3",
    "1234567.005",
    "-1500.5",
    "99999999999999.9999",
    Decimal("0.12345"),
    Decimal("-0"),
)


def test_a_page_formatter_writes_every_amount_as_format_money_does(settings):
    from telephony.money import money_formatter

    for currency, decimals in (("USD", 2), ("¥", 2), ("", 4), ("CNY", 0)):
        settings.PORTAL_CURRENCY = currency
        settings.PORTAL_AMOUNT_DECIMALS = decimals
        for language in ("en", "zh-hans", "zh-hant", "de"):
            with translation.override(language):
                fast = money_formatter()
                for value in AMOUNTS:
                    assert fast(value) == format_money(value), (currency, language, value)


def test_a_page_formatter_honours_a_language_with_other_separators(settings):
    from telephony.money import money_formatter

    settings.PORTAL_CURRENCY = "EUR"
    settings.PORTAL_AMOUNT_DECIMALS = 2
    settings.USE_THOUSAND_SEPARATOR = True
    with translation.override("de"):
        assert money_formatter()(Decimal("1234567.5")) == format_money(Decimal("1234567.5"))
        assert money_formatter()(Decimal("1234567.5")) == "EUR 1.234.567,50"

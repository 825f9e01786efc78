"""Phone-book rules: one normal form for numbers, one owner per short number, a lossless
CSV round trip, and no 500 on a refusal or a bad file."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.services.phonebook import number_clean, number_key
from telephony.csvsafe import csv_cell, csv_value

pytest_plugins = ["tests.portal.fixtures"]

BOOK = reverse("customer:phonebook")
ADD = reverse("customer:phonebook_add")
IMPORT = reverse("customer:phonebook_import")
EXPORT = reverse("customer:phonebook_export")


def book(emulator, account: str = "1001") -> dict[str, dict]:
    return {e["e164"]: e for e in emulator.state.phone_books.get(account, [])}


def _upload(data: bytes, name: str = "book.csv"):
    return SimpleUploadedFile(name, data, content_type="text/csv")


@given(st.text())
def test_csv_value_undoes_csv_cell_for_any_text(text):
    assert csv_value(csv_cell(text)) == text


@pytest.mark.parametrize(
    ("cell", "value"),
    [('\'=HYPERLINK("x")', '=HYPERLINK("x")'), ("'-2+3", "-2+3"), ("''x", "'x"), ("'x", "'x")],
)
def test_csv_value_removes_only_the_guard_csv_cell_adds(cell, value):
    assert csv_value(cell) == value


def test_numbers_are_cleaned_and_compared_without_the_plus():
    assert number_clean("+86 138-0000.9999") == "+8613800009999"
    assert number_clean("(020) 1234 5678") == "02012345678"
    assert number_key("+8613800001002") == number_key("8613800001002")


@pytest.mark.django_db
def test_export_then_import_with_overwrite_changes_nothing(emu_client, vos_emulator, emu_account):
    vos_emulator.state.phone_books["1001"].append(
        {
            "e164": "8613700000077",
            "name": '=HYPERLINK("http://x")',
            "memo": "-2+3",
            "department": "'quoted",
            "shortE164s": [],
        }
    )
    before = book(vos_emulator)
    exported = emu_client.get(EXPORT).content
    response = emu_client.post(IMPORT, {"file": _upload(exported), "overwrite": "on"})
    result = response.context["result"]
    assert result.errors == [] and result.created == 0
    after = book(vos_emulator)
    assert after.keys() == before.keys()
    for e164, entry in before.items():
        for key in ("name", "department", "memo", "shortE164s"):
            assert after[e164].get(key, "") in (entry.get(key, ""), entry.get(key)), (e164, key)
    assert after["8613700000077"]["name"] == '=HYPERLINK("http://x")'
    assert after["8613700000077"]["memo"] == "-2+3"
    assert after["8613700000077"]["department"] == "'quoted"


@pytest.mark.django_db
def test_a_number_with_a_plus_is_the_same_entry_as_without(emu_client, vos_emulator):
    response = emu_client.post(ADD, {"e164": "+8613800001002"})
    assert "already in your phone book" in str(response.context["form"].errors["e164"])
    text = "e164,name\n+8613800001002,Again\n"
    result = emu_client.post(IMPORT, {"file": _upload(text.encode())}).context["result"]
    assert result.created == 0
    assert "already in your phone book" in result.errors[0].message
    assert "+8613800001002" not in book(vos_emulator)
    assert vos_emulator.calls["CreateCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_an_overwriting_import_updates_the_entry_under_the_spelling_vos_holds(
    emu_client, vos_emulator
):
    text = "e164,name\n+8613800001002,Front desk\n"
    post = {"file": _upload(text.encode()), "overwrite": "on"}
    result = emu_client.post(IMPORT, post).context["result"]
    assert (result.created, result.updated) == (0, 1)
    entries = book(vos_emulator)
    assert entries["8613800001002"]["name"] == "Front desk"
    assert "+8613800001002" not in entries


@pytest.mark.django_db
def test_a_short_number_belongs_to_one_entry(emu_client, vos_emulator):
    # 8613800001002 holds 1002 and 802 in the demo book
    response = emu_client.post(ADD, {"e164": "8613700000001", "short_numbers": "802"})
    assert "already used by 8613800001002" in str(response.context["form"].errors)
    text = (
        "e164,name,short_numbers\n8613700000001,A,901\n8613700000002,B,901\n8613700000003,C,1002\n"
    )
    result = emu_client.post(IMPORT, {"file": _upload(text.encode())}).context["result"]
    assert result.created == 1
    assert [(e.line, e.e164) for e in result.errors] == [(3, "8613700000002"), (4, "8613700000003")]
    assert "8613700000002" not in book(vos_emulator)


@pytest.mark.django_db
def test_editing_an_entry_keeps_its_own_short_numbers(emu_client, vos_emulator):
    url = reverse("customer:phonebook_edit", kwargs={"e164": "8613800001002"})
    response = emu_client.post(url, {"e164": "8613800001002", "short_numbers": "1002, 802"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_numbers_are_cleaned_of_spaces_dashes_dots_and_brackets(emu_client, vos_emulator):
    response = emu_client.post(ADD, {"e164": "+86 138 0000 9999", "short_numbers": "811, 812 813"})
    assert response.status_code == 302
    assert book(vos_emulator)["+8613800009999"]["shortE164s"] == ["811", "812", "813"]


@pytest.mark.django_db
def test_both_pages_say_commas_or_spaces(emu_client, vos_emulator):
    assert "commas or spaces" in emu_client.get(ADD).content.decode()
    assert "commas or spaces" in emu_client.get(IMPORT).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["customer:phonebook_edit", "customer:phonebook_delete"])
def test_edit_and_delete_show_a_vos_refusal_instead_of_failing(emu_client, vos_emulator, view):
    vos_emulator.faults.update(
        {"garbage_mode": "unknown_retcode", "garbage_interfaces": "GetCustomerPhoneBook"}
    )
    url = reverse(view, kwargs={"e164": "8613912345678"})
    for response in (emu_client.get(url), emu_client.post(url, {"e164": "8613912345670"})):
        assert response.status_code == 200
        assert "F_ERROR_SYSTEM_BUSY" in response.content.decode()
    assert vos_emulator.calls["ModifyCustomerPhoneBook"] == 0
    assert vos_emulator.calls["DeleteCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_a_csv_field_over_the_csv_modules_limit_is_refused(emu_client, vos_emulator):
    data = b"e164,name\n8613700000001," + b"x" * (200 * 1024) + b"\n"
    response = emu_client.post(IMPORT, {"file": _upload(data)})
    assert response.status_code == 200
    assert "not valid CSV" in str(response.context["form"].errors["file"])
    assert vos_emulator.calls["CreateCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_a_latin1_file_is_refused_rather_than_garbled(emu_client, vos_emulator):
    data = "e164,name\n8613700000001,Müller\n8613700000002,José Peña\n".encode("latin-1")
    response = emu_client.post(IMPORT, {"file": _upload(data)})
    assert "CSV UTF-8" in str(response.context["form"].errors["file"])
    assert vos_emulator.calls["CreateCustomerPhoneBook"] == 0

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import AuditLog
from tests.accounts.factories import CustomerFactory
from tests.telephony.factories import VosAccountFactory

pytest_plugins = ["tests.portal.fixtures"]

BOOK = reverse("customer:phonebook")
ADD = reverse("customer:phonebook_add")
IMPORT = reverse("customer:phonebook_import")
EXPORT = reverse("customer:phonebook_export")


def edit_url(e164: str) -> str:
    return reverse("customer:phonebook_edit", kwargs={"e164": e164})


def delete_url(e164: str) -> str:
    return reverse("customer:phonebook_delete", kwargs={"e164": e164})


def book(emulator, account: str = "1001") -> dict[str, dict]:
    return {e["e164"]: e for e in emulator.state.phone_books.get(account, [])}


@pytest.fixture
def limited(emu_account):
    emu_account.phone_book_limit = 20
    emu_account.save()
    return emu_account


@pytest.mark.django_db
def test_phonebook_lists_the_entries_vos_holds_with_the_limit(emu_client, vos_emulator, limited):
    response = emu_client.get(BOOK)
    html = response.content.decode()
    assert [e.e164 for e in response.context["entries"]] == [
        "8613800001002",
        "8613912345678",
        "447700900123",
        "8675588886666",
    ]
    assert "王小明" in html and "财务部" in html and "8001" in html
    assert "4 of 20 entries used" in html


@pytest.mark.django_db
def test_adding_an_entry_creates_it_in_vos(emu_client, vos_emulator, limited):
    response = emu_client.post(
        ADD,
        {
            "e164": "+8613700000001",
            "name": "陈静",
            "short_numbers": "801, 803",
            "department": "Ops",
            "memo": "night shift",
        },
    )
    assert response.status_code == 302
    entry = book(vos_emulator)["+8613700000001"]
    assert (entry["name"], entry["shortE164s"], entry["department"], entry["memo"]) == (
        "陈静",
        ["801", "803"],
        "Ops",
        "night shift",
    )
    assert "+8613700000001 was added" in emu_client.get(BOOK).content.decode()
    assert AuditLog.objects.filter(action="phonebook.create", outcome="ok", account="1001").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["12", "86#139", "++861", "8613a", "1" * 33, ""])
def test_invalid_numbers_are_refused_before_anything_is_sent(emu_client, vos_emulator, number):
    response = emu_client.post(ADD, {"e164": number, "short_numbers": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["e164"]
    assert 'class="field-error"' in response.content.decode()
    assert vos_emulator.calls["CreateCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_bad_short_numbers_are_refused_next_to_the_field(emu_client, vos_emulator):
    response = emu_client.post(ADD, {"e164": "8613700000001", "short_numbers": "80a 801 801"})
    assert "short_numbers" in response.context["form"].errors
    assert vos_emulator.calls["CreateCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_a_number_already_in_the_book_is_refused_without_asking_vos_to_create_it(
    emu_client, vos_emulator
):
    response = emu_client.post(ADD, {"e164": "8613912345678"})
    assert "already in your phone book" in str(response.context["form"].errors["e164"])
    assert vos_emulator.calls["CreateCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_the_accounts_limit_is_respected(emu_client, vos_emulator, emu_account):
    emu_account.phone_book_limit = 4
    emu_account.save()
    html = emu_client.get(BOOK).content.decode()
    assert "Your phone book is full" in html and ADD not in html
    response = emu_client.post(ADD, {"e164": "8613700000001"})
    assert "full (limit: 4 entries)" in response.content.decode()
    assert vos_emulator.calls["CreateCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_vos_rejections_show_vos_own_error_text(client, vos_server, vos_emulator):
    account = VosAccountFactory(server=vos_server, account="1003", phone_book_limit=None)
    client.force_login(CustomerFactory(vos_account=account))
    response = client.post(ADD, {"e164": "8613700000001"})
    assert response.status_code == 200
    assert "Over the phone book number limitation" in response.content.decode()
    assert AuditLog.objects.filter(action="phonebook.create", outcome="rejected").exists()


@pytest.mark.django_db
def test_editing_an_entry_can_change_its_number(emu_client, vos_emulator):
    response = emu_client.get(edit_url("8613912345678"))
    assert response.context["form"].initial["name"] == "Li Lei"
    response = emu_client.post(
        edit_url("8613912345678"),
        {
            "e164": "8613912340000",
            "name": "Li Lei (new)",
            "short_numbers": "8001",
            "department": "Sales",
            "memo": "",
        },
    )
    assert response.status_code == 302
    entries = book(vos_emulator)
    assert "8613912345678" not in entries
    assert entries["8613912340000"]["name"] == "Li Lei (new)"


@pytest.mark.django_db
def test_renaming_onto_an_existing_number_is_refused(emu_client, vos_emulator):
    response = emu_client.post(edit_url("8613912345678"), {"e164": "447700900123"})
    assert "already in your phone book" in str(response.context["form"].errors["e164"])
    assert vos_emulator.calls["ModifyCustomerPhoneBook"] == 0


@pytest.mark.django_db
def test_deleting_asks_for_confirmation_first(emu_client, vos_emulator):
    response = emu_client.get(delete_url("8675588886666"))
    assert "Delete <strong>王小明</strong> (8675588886666)" in response.content.decode()
    assert "8675588886666" in book(vos_emulator)
    assert emu_client.post(delete_url("8675588886666")).status_code == 302
    assert "8675588886666" not in book(vos_emulator)


@pytest.mark.django_db
def test_another_accounts_entries_are_a_404(client, vos_server, vos_emulator):
    vos_emulator.state.phone_books["1002"] = [{"e164": "8613955550000", "name": "Other"}]
    account = VosAccountFactory(server=vos_server, account="1005")
    client.force_login(CustomerFactory(vos_account=account))
    for e164 in ("8613912345678", "8613955550000"):  # 1001's and 1002's entries
        assert client.get(edit_url(e164)).status_code == 404
        assert client.post(edit_url(e164), {"e164": "8613900000000"}).status_code == 404
        assert client.get(delete_url(e164)).status_code == 404
        assert client.post(delete_url(e164)).status_code == 404
    assert vos_emulator.calls["ModifyCustomerPhoneBook"] == 0
    assert vos_emulator.calls["DeleteCustomerPhoneBook"] == 0
    assert "8613912345678" in book(vos_emulator)


@pytest.mark.django_db
def test_when_vos_is_down_the_book_shows_a_notice_and_no_list(emu_client, vos_emulator):
    vos_emulator.faults.error_rate = 1.0
    response = emu_client.get(BOOK)
    assert response.status_code == 200
    assert response.context["entries"] is None
    html = response.content.decode()
    assert "The switch is not answering right now." in html
    assert "<table" not in html
    response = emu_client.post(ADD, {"e164": "8613700000001"})
    assert response.status_code == 200
    assert "Nothing was saved." in response.content.decode()
    assert emu_client.get(edit_url("8613912345678")).status_code == 200
    assert emu_client.get(EXPORT).status_code == 302


def _upload(text: str, name: str = "book.csv", encoding: str = "utf-8-sig"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


@pytest.mark.django_db
def test_import_adds_valid_rows_and_reports_each_bad_one(emu_client, vos_emulator, limited):
    text = (
        "e164,name,short_numbers,department,memo\n"
        "8613700000001,张三,811 812,财务,\n"
        "12,Too short,,,\n"
        "8613912345678,Already there,,,\n"
        "8613700000001,Twice,,,\n"
        "8613700000002,Li Si,,,\n"
        "8613700000003,Bad short,8a,,\n"
    )
    response = emu_client.post(IMPORT, {"file": _upload(text)})
    result = response.context["result"]
    assert (result.created, result.updated) == (2, 0)
    assert [(e.line, e.e164) for e in result.errors] == [
        (3, "12"),
        (4, "8613912345678"),
        (5, "8613700000001"),
        (7, "8613700000003"),
    ]
    entries = book(vos_emulator)
    assert entries["8613700000001"]["shortE164s"] == ["811", "812"]
    assert "8613700000002" in entries
    html = response.content.decode()
    assert "2 added, 0 updated." in html and "Too short" not in html


@pytest.mark.django_db
def test_import_stops_at_the_limit_and_can_update_existing_entries(
    emu_client, vos_emulator, emu_account
):
    emu_account.phone_book_limit = 5
    emu_account.save()
    text = "e164,name\n8613912345678,Renamed\n8613700000001,A\n8613700000002,B\n"
    result = emu_client.post(IMPORT, {"file": _upload(text), "overwrite": "on"}).context["result"]
    assert (result.created, result.updated) == (1, 1)
    assert [e.e164 for e in result.errors] == ["8613700000002"]
    assert "full" in result.errors[0].message
    assert book(vos_emulator)["8613912345678"]["name"] == "Renamed"
    assert len(book(vos_emulator)) == 5


@pytest.mark.django_db
def test_import_reads_gb18030_files_and_refuses_a_file_without_the_e164_column(
    emu_client, vos_emulator, limited
):
    result = emu_client.post(
        IMPORT, {"file": _upload("e164,name\n8613700000009,王五\n", encoding="gb18030")}
    ).context["result"]
    assert result.created == 1
    assert book(vos_emulator)["8613700000009"]["name"] == "王五"
    response = emu_client.post(IMPORT, {"file": _upload("number,name\n1234,x\n")})
    assert "must name the columns" in str(response.context["form"].errors["file"])


@pytest.mark.django_db
def test_export_writes_the_import_format_with_a_bom(emu_client, vos_emulator):
    response = emu_client.get(EXPORT)
    assert response["Content-Disposition"] == 'attachment; filename="phonebook-1001.csv"'
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == ["e164", "name", "short_numbers", "department", "memo"]
    assert ["8675588886666", "王小明", "", "财务部", "月底对账"] in rows
    assert ["8613800001002", "Café Müller (front desk)", "1002 802", "", ""] in rows

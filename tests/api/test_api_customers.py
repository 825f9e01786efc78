"""/customers through the API: the reseller's own customers only, figures, actions."""

from __future__ import annotations

from decimal import Decimal

from accounts.models import AuditLog
from telephony.models import VosAccount


def test_customers_list_pages_through_only_the_resellers_own_customers(reseller_api):
    seen = []
    cursor = None
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = reseller_api.get("/customers", params).json()
        seen += [item["account"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert seen == ["1001", "1002", "1003", "1004", "1005", "1006"]


def test_customers_list_filters_locked_and_searches(reseller_api):
    assert [
        c["account"] for c in reseller_api.get("/customers", {"show": "locked"}).json()["items"]
    ] == ["1006"]
    assert [
        c["account"] for c in reseller_api.get("/customers", {"search": "Acme"}).json()["items"]
    ] == ["1004"]


def test_customer_detail_reads_the_switch_and_lists_phones(reseller_api, vos_emulator):
    body = reseller_api.get("/customers/1001").json()
    assert body["account"] == "1001"
    assert body["stale"] is False
    assert Decimal(body["balance"]) == vos_emulator.state.customers["1001"]["money"]
    assert "8613800001001" in body["phones"]
    assert body["as_of"]


def test_customer_detail_during_an_outage_is_the_last_known_figures(reseller_api, vos_emulator):
    reseller_api.get("/customers/1001")
    vos_emulator.faults.update({"garbage_mode": "hang", "hang_seconds": 3})
    response = reseller_api.get("/customers/1001")
    assert response.status_code == 200
    assert response.json()["stale"] is True
    assert response.json()["as_of"]


def test_another_resellers_customer_is_404_never_their_data(other_api):
    response = other_api.get("/customers/1001")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "balance" not in response.json()


def test_patch_locks_and_changes_the_limit_on_the_switch(reseller_api, vos_emulator, world):
    response = reseller_api.patch("/customers/1002", {"locked": True, "limit_money": "15"})
    assert response.status_code == 200, response.json()
    assert vos_emulator.state.customers["1002"]["lockType"] == 1
    assert Decimal(str(vos_emulator.state.customers["1002"]["limitMoney"])) == Decimal("15")
    assert AuditLog.objects.filter(action="customer.lock", account="1002").exists()


def test_patch_while_the_switch_is_down_is_503_with_retry_after(reseller_api, vos_emulator):
    vos_emulator.faults.update({"error_rate": 1.0})
    response = reseller_api.patch("/customers/1002", {"locked": True})
    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["status"] == 503


def test_create_customer_makes_the_account_and_phone_like_the_page(reseller_api, vos_emulator):
    response = reseller_api.post(
        "/customers",
        {"account": "1099", "name": "New Co", "e164": "8613800009999", "web_password": "pw1234"},
    )
    assert response.status_code == 201, response.json()
    assert "1099" in vos_emulator.state.customers
    assert vos_emulator.state.customers["1099"]["agentAccount"] == "agent01"
    assert vos_emulator.state.phones["8613800009999"]["account"] == "1099"
    assert VosAccount.objects.filter(account="1099", agent_account="agent01").exists()


def test_add_and_remove_a_phone(reseller_api, vos_emulator):
    response = reseller_api.post("/customers/1002/phones", {"e164": "8613700001002"})
    assert response.status_code == 201, response.json()
    assert "8613700001002" in response.json()["phones"]
    response = reseller_api.delete("/customers/1002/phones/8613700001002")
    assert response.status_code == 200
    assert "8613700001002" not in vos_emulator.state.phones


def test_removing_another_accounts_phone_is_refused(reseller_api, vos_emulator):
    response = reseller_api.delete("/customers/1002/phones/8613800001001")
    assert response.status_code == 422
    assert "8613800001001" in vos_emulator.state.phones


def test_a_customer_key_cannot_use_the_reseller_endpoints(customer_api):
    assert customer_api.get("/customers").status_code == 403
    assert customer_api.get("/customers/1001").status_code == 403

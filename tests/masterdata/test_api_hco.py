"""The HCO API: list with filters, read, create, change, departments — and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata.models import HCO, HCODepartment
from omnihcp.masterdata.validation import uscc_check_character

pytestmark = pytest.mark.django_db

VALID_USCC_BODY = "12330100470116614"


def _valid_uscc() -> str:
    return VALID_USCC_BODY + uscc_check_character(VALID_USCC_BODY)


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _new_hco(**extra: Any) -> dict[str, Any]:
    return {
        "name": "杭州市西湖区第二人民医院",
        "hco_type": "hospital",
        "level": "2A",
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        **extra,
    }


def test_steward_creates_hospital_with_uscc(client_as: Callable[..., Client]) -> None:
    response = _post(client_as("steward"), "/api/md/hcos", _new_hco(uscc=_valid_uscc().lower()))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["uscc"] == _valid_uscc()
    assert body["code"] == f"HCO{body['id']:08d}"
    assert AuditEvent.objects.order_by("-seq").first().action == "hco.create"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"uscc": "12330100470116614X"}, "uscc"),
        ({"uscc": "123"}, "uscc"),
        ({"hco_type": "spa"}, "hco_type"),
        ({"level": "5Z"}, "level"),
        ({"hco_type": "pharmacy", "level": "3A"}, "level"),
        ({"name": "医" * 121}, "name"),
        ({"beds": -1}, "beds"),
        ({"province": ""}, "province"),
        ({"parent_id": 999_999_999}, "parent_id"),
        ({"founded": 1950}, "founded"),
    ],
)
def test_bad_hco_input_names_the_field_and_writes_nothing(
    client_as: Callable[..., Client], body: dict[str, Any], field: str
) -> None:
    hcos, events = HCO.objects.count(), AuditEvent.objects.count()
    response = _post(client_as("steward"), "/api/md/hcos", _new_hco(**body))
    assert response.status_code in {400, 422}, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (HCO.objects.count(), AuditEvent.objects.count()) == (hcos, events)


def test_duplicate_uscc_is_refused(client_as: Callable[..., Client]) -> None:
    client = client_as("steward")
    assert _post(client, "/api/md/hcos", _new_hco(uscc=_valid_uscc())).status_code == 201
    response = _post(client, "/api/md/hcos", _new_hco(name="另一家医院", uscc=_valid_uscc()))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "uscc"


def test_list_filters_by_type_level_and_city(client_as: Callable[..., Client]) -> None:
    body = (
        client_as("exec")
        .get("/api/md/hcos", {"hco_type": "hospital", "level": "3A", "city": "杭州市"})
        .json()
    )
    expected = HCO.objects.filter(
        hco_type="hospital", level="3A", city="杭州市", status="active"
    ).count()
    assert body["count"] == expected > 0
    assert {(i["hco_type"], i["level"], i["city"]) for i in body["items"]} == {
        ("hospital", "3A", "杭州市")
    }


def test_list_search_by_pinyin_initials(client_as: Callable[..., Client]) -> None:
    hco = HCO.objects.filter(city="杭州市", hco_type="hospital").first()
    body = client_as("exec").get("/api/md/hcos", {"q": hco.name_initials, "page_size": 200}).json()
    assert hco.pk in [item["id"] for item in body["items"]]


def test_patch_and_departments(client_as: Callable[..., Client], hangzhou_hcp: Any) -> None:
    client = client_as("steward")
    hco_id = hangzhou_hcp.primary_hco_id
    response = client.patch(
        f"/api/md/hcos/{hco_id}", json.dumps({"beds": 1200}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["beds"] == 1200
    response = _post(client, f"/api/md/hcos/{hco_id}/departments", {"name": "心血管内科二病区"})
    assert response.status_code == 201
    departments = client.get(f"/api/md/hcos/{hco_id}/departments").json()
    assert "心血管内科二病区" in [d["name"] for d in departments]
    again = _post(client, f"/api/md/hcos/{hco_id}/departments", {"name": "心血管内科二病区"})
    assert again.status_code == 400
    assert again.json()["errors"][0]["field"] == "name"
    unknown = _post(
        client, f"/api/md/hcos/{hco_id}/departments", {"name": "新科室", "standard_code": "ZZZ"}
    )
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "standard_code"
    assert not HCODepartment.objects.filter(name="新科室").exists()


def test_standard_department_dictionary(client_as: Callable[..., Client]) -> None:
    body = client_as("rep_hangzhou").get("/api/md/departments", {"q": "心"}).json()
    names = [d["name"] for d in body]
    assert {"心内科", "心胸外科"} <= set(names)
    assert all("心" in name for name in names)


def test_api_needs_login_or_token() -> None:
    response = Client().get("/api/md/hcos")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    response = Client().get("/api/md/hcos", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401


def test_token_authenticates_an_integration(cast_user: Callable[[str], Any]) -> None:
    from omnihcp.org.services import api_token_issue

    _, raw = api_token_issue(actor=None, user=cast_user("steward"), name="crm sync")
    response = Client().get("/api/md/hcos", {"page_size": 1}, HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    assert response.json()["count"] == HCO.objects.filter(status="active").count()


def test_session_writes_need_csrf(cast_user: Callable[[str], Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast_user("steward"))
    response = _post(client, "/api/md/hcos", _new_hco())
    assert response.status_code == 403
    assert not HCO.objects.filter(name=_new_hco()["name"]).exists()


def test_openapi_documents_the_api(client_as: Callable[..., Client]) -> None:
    schema = client_as("exec").get("/api/openapi.json").json()
    assert "/api/md/hcps/search" in schema["paths"]
    assert "/api/org/products" in schema["paths"]
    assert client_as("exec").get("/api/docs").status_code == 200

"""The HCP API: list, search, read, create, change, reveal — and what bad input gets back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnihcp.governance.models import AuditEvent, PIAccessLog
from omnihcp.masterdata.models import HCP, HCODepartment

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def _patch(client: Client, url: str, body: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type="application/json")


def _new_hcp(hco_id: int, **extra: Any) -> dict[str, Any]:
    return {"name": "欧阳明华", "title": "attending", "primary_hco_id": hco_id, **extra}


def test_steward_creates_hcp_with_masked_phone_and_audit(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("steward")
    before = AuditEvent.objects.count()
    response = _post(
        client,
        "/api/md/hcps",
        _new_hcp(hangzhou_hcp.primary_hco_id, mobile="+86 139-1234-5678", licence_no=""),
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "欧阳明华"
    assert body["name_pinyin"] == "ouyangminghua"
    assert body["mobile_masked"] == "139****5678"
    assert "13912345678" not in response.content.decode()
    assert body["code"] == f"HCP{body['id']:08d}"
    event = AuditEvent.objects.order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert (event.action, str(event.object_id)) == ("hcp.create", str(body["id"]))
    assert "13912345678" not in json.dumps(event.after, ensure_ascii=False)


def test_rep_may_not_create_or_change_hcps(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("rep_hangzhou")
    count = HCP.objects.count()
    response = _post(client, "/api/md/hcps", _new_hcp(hangzhou_hcp.primary_hco_id))
    assert response.status_code == 403
    response = _patch(client, f"/api/md/hcps/{hangzhou_hcp.pk}", {"specialty": "x"})
    assert response.status_code == 403
    assert HCP.objects.count() == count


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"mobile": "+1 415 555 0100"}, "mobile"),
        ({"licence_no": "12AB"}, "licence_no"),
        ({"title": "professor"}, "title"),
        ({"gender": "X"}, "gender"),
        ({"name": "张" * 41}, "name"),
        ({"colour": "blue"}, "colour"),
        ({"primary_hco_id": 999_999_999}, "primary_hco_id"),
        ({"department_id": 999_999_999}, "department_id"),
        ({"primary_hco_id": 2**70}, "primary_hco_id"),
        ({"name": "王\x00明"}, "name"),
        ({"specialty": "心内\x00科"}, "specialty"),
    ],
)
def test_bad_hcp_input_names_the_field_and_writes_nothing(
    client_as: Callable[..., Client], hangzhou_hcp: Any, body: dict[str, Any], field: str
) -> None:
    client = client_as("steward")
    hcps, events = HCP.objects.count(), AuditEvent.objects.count()
    response = _post(client, "/api/md/hcps", {**_new_hcp(hangzhou_hcp.primary_hco_id), **body})
    assert response.status_code in {400, 422}, response.content
    assert field in [error["field"] for error in response.json()["errors"]]
    assert (HCP.objects.count(), AuditEvent.objects.count()) == (hcps, events)


def test_an_id_beyond_any_record_is_not_found(client_as: Callable[..., Client]) -> None:
    client = client_as("exec")
    assert client.get(f"/api/md/hcps/{2**70}").status_code in {404, 422}
    assert client.get(f"/api/org/nodes?parent_id={2**70}").status_code in {400, 422}
    page = client.get(f"/md/hcps/{2**70}/")
    assert page.status_code == 404


def test_nul_in_a_query_is_refused_clearly(client_as: Callable[..., Client]) -> None:
    response = client_as("exec").get("/api/md/hcps/search", {"q": "wang\x00"})
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_missing_required_fields_are_each_named(client_as: Callable[..., Client]) -> None:
    response = _post(client_as("steward"), "/api/md/hcps", {})
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"name", "title", "primary_hco_id"} <= fields


def test_malformed_json_is_a_clear_error(client_as: Callable[..., Client]) -> None:
    response = client_as("steward").post(
        "/api/md/hcps", '{"name": "王', content_type="application/json"
    )
    assert response.status_code in {400, 422}
    assert "JSON" in response.json()["detail"] + json.dumps(response.json()["errors"])


def test_errors_speak_chinese_to_a_chinese_client(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("steward", language="zh-hans")
    response = _post(
        client, "/api/md/hcps", _new_hcp(hangzhou_hcp.primary_hco_id, mobile="12345", extra=1)
    )
    body = response.json()
    assert response.status_code == 422
    assert body["detail"] == "请求中有无效字段。"
    assert {"field": "extra", "message": "未知字段。"} in body["errors"]


def test_department_of_another_hco_is_refused(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    other = HCODepartment.objects.exclude(hco_id=hangzhou_hcp.primary_hco_id).first()
    response = _patch(
        client_as("steward"), f"/api/md/hcps/{hangzhou_hcp.pk}", {"department_id": other.pk}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "department"


def test_patch_changes_only_given_fields_and_audits_before_after(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    response = _patch(
        client_as("steward"), f"/api/md/hcps/{hangzhou_hcp.pk}", {"specialty": "心力衰竭"}
    )
    assert response.status_code == 200
    assert response.json()["specialty"] == "心力衰竭"
    assert response.json()["title"] == hangzhou_hcp.title
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "hcp.update"
    assert event.before["specialty"] == hangzhou_hcp.specialty
    assert event.after["specialty"] == "心力衰竭"


def test_search_by_name_pinyin_initials_and_hospital(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("rep_hangzhou")
    for q in (
        hangzhou_hcp.name,
        hangzhou_hcp.name_pinyin,
        hangzhou_hcp.name_initials,
        hangzhou_hcp.primary_hco.name,
    ):
        response = client.get("/api/md/hcps/search", {"q": q, "limit": 50})
        assert response.status_code == 200
        assert hangzhou_hcp.pk in [hit["id"] for hit in response.json()["items"]], q


def test_search_limit_is_checked(client_as: Callable[..., Client]) -> None:
    response = client_as("rep_hangzhou").get("/api/md/hcps/search", {"q": "wang", "limit": 500})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "limit"


def test_list_filters_and_pages(client_as: Callable[..., Client], hangzhou_hcp: Any) -> None:
    client = client_as("exec")
    body = client.get(
        "/api/md/hcps", {"hco_id": hangzhou_hcp.primary_hco_id, "page_size": 5}
    ).json()
    assert body["count"] == HCP.objects.filter(primary_hco=hangzhou_hcp.primary_hco).count()
    assert len(body["items"]) == min(5, body["count"])
    assert {item["primary_hco"]["id"] for item in body["items"]} == {hangzhou_hcp.primary_hco_id}
    bad = client.get("/api/md/hcps", {"page": 0})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "page"


def test_list_query_count_does_not_grow_with_page_size(
    client_as: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    client = client_as("rep_hangzhou")
    client.get("/api/md/hcps", {"page_size": 5})
    with django_assert_max_num_queries(8):
        client.get("/api/md/hcps", {"page_size": 200})


def test_reveal_returns_clear_value_and_logs_it(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    steward = client_as("steward")
    _patch(steward, f"/api/md/hcps/{hangzhou_hcp.pk}", {"mobile": "13800138000"})
    logs = PIAccessLog.objects.count()
    response = _post(
        client_as("rep_hangzhou"),
        f"/api/md/hcps/{hangzhou_hcp.pk}/reveal",
        {"field": "mobile", "purpose": "visit follow-up"},
    )
    assert response.status_code == 200
    assert response.json() == {"field": "mobile", "value": "13800138000"}
    assert PIAccessLog.objects.count() == logs + 1
    log = PIAccessLog.objects.order_by("-id").first()
    assert (str(log.subject_id), log.field) == (str(hangzhou_hcp.pk), "mobile")


def test_marketing_may_not_reveal(client_as: Callable[..., Client], hangzhou_hcp: Any) -> None:
    logs = PIAccessLog.objects.count()
    response = _post(
        client_as("marketing"), f"/api/md/hcps/{hangzhou_hcp.pk}/reveal", {"field": "mobile"}
    )
    assert response.status_code == 403
    assert PIAccessLog.objects.count() == logs


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mobile=st.text(alphabet="0123456789+- ", min_size=0, max_size=20))
def test_any_mobile_is_stored_normalised_or_refused_by_name(
    client_as: Callable[..., Client], hangzhou_hcp: Any, mobile: str
) -> None:
    response = _patch(client_as("steward"), f"/api/md/hcps/{hangzhou_hcp.pk}", {"mobile": mobile})
    if response.status_code == 200:
        masked = response.json()["mobile_masked"]
        assert masked == "" or (len(masked) == 11 and masked[3:7] == "****")
    else:
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "mobile"

"""The org API: org tree, employees, products and SKUs; only administrators change them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from omnihcp.governance.models import AuditEvent
from omnihcp.org.models import SKU, OrgNode, Product

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_org_tree_lists_regions_and_their_areas(client_as: Callable[..., Client]) -> None:
    client = client_as("exec")
    regions = client.get("/api/org/nodes", {"level": "region"}).json()
    assert regions["count"] == OrgNode.objects.filter(level="region").count() == 4
    east = next(node for node in regions["items"] if node["code"] == "E")
    areas = client.get("/api/org/nodes", {"parent_id": east["id"]}).json()["items"]
    assert areas
    assert {area["level"] for area in areas} == {"area"}
    assert all(area["path"].startswith(east["path"]) for area in areas)


def test_employees_of_a_subtree(client_as: Callable[..., Client]) -> None:
    client = client_as("exec")
    district = OrgNode.objects.get(code="E1-1")
    body = client.get("/api/org/employees", {"org_node_id": district.pk, "position": "rep"}).json()
    assert body["count"] >= 1
    assert {item["org_node_name"] for item in body["items"]} == {district.name}
    one = client.get(f"/api/org/employees/{body['items'][0]['id']}")
    assert one.status_code == 200
    assert client.get("/api/org/employees/999999999").status_code == 404


def test_products_with_skus_and_filters(client_as: Callable[..., Client]) -> None:
    client = client_as("rep_hangzhou")
    body = client.get("/api/org/products", {"page_size": 50}).json()
    assert body["count"] == Product.objects.count() == 8
    assert all(product["skus"] for product in body["items"])
    units = {unit["code"] for unit in client.get("/api/org/business-units").json()}
    assert len(units) == 2
    unit = sorted(units)[0]
    filtered = client.get("/api/org/products", {"business_unit": unit}).json()
    assert filtered["count"] == Product.objects.filter(business_unit__code=unit).count()
    assert client.get("/api/org/therapy-areas").json()


def test_admin_creates_product_and_sku_with_audit(client_as: Callable[..., Client]) -> None:
    client = client_as("admin")
    unit = client.get("/api/org/business-units").json()[0]["code"]
    area = client.get("/api/org/therapy-areas").json()[0]["code"]
    response = _post(
        client,
        "/api/org/products",
        {
            "code": "P-NEW",
            "brand_name": "新立达",
            "brand_name_en": "Newlida",
            "molecule": "沙库巴曲缬沙坦",
            "molecule_en": "sacubitril/valsartan",
            "business_unit": unit,
            "therapy_area": area,
        },
    )
    assert response.status_code == 201, response.content
    product = response.json()
    sku = _post(
        client,
        f"/api/org/products/{product['id']}/skus",
        {"code": "P-NEW-100", "specification": "100mg", "pack": "28片", "list_price": "128.50"},
    )
    assert sku.status_code == 201
    assert sku.json()["list_price"] == "128.50"
    assert AuditEvent.objects.order_by("-seq").first().action == "sku.create"
    patched = client.patch(
        f"/api/org/products/{product['id']}",
        json.dumps({"vbp_contracted": True}),
        content_type="application/json",
    )
    assert patched.json()["vbp_contracted"] is True


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"business_unit": "NOPE"}, "business_unit"),
        ({"therapy_area": "NOPE"}, "therapy_area"),
        ({"code": "X" * 17}, "code"),
        ({"vbp": True}, "vbp"),
    ],
)
def test_bad_product_input_names_the_field(
    client_as: Callable[..., Client], body: dict[str, Any], field: str
) -> None:
    client = client_as("admin")
    base = {
        "code": "P-BAD",
        "brand_name": "坏",
        "brand_name_en": "Bad",
        "molecule": "m",
        "molecule_en": "m",
        "business_unit": client.get("/api/org/business-units").json()[0]["code"],
        "therapy_area": client.get("/api/org/therapy-areas").json()[0]["code"],
    }
    count = Product.objects.count()
    response = _post(client, "/api/org/products", {**base, **body})
    assert response.status_code in {400, 422}
    assert field in [error["field"] for error in response.json()["errors"]]
    assert Product.objects.count() == count


def test_negative_price_is_refused(client_as: Callable[..., Client]) -> None:
    product = Product.objects.first()
    response = _post(
        client_as("admin"),
        f"/api/org/products/{product.pk}/skus",
        {"code": "NEG", "specification": "1mg", "pack": "1", "list_price": "-1"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "list_price"
    assert not SKU.objects.filter(code="NEG").exists()


@pytest.mark.parametrize("username", ["rep_hangzhou", "steward", "marketing", "exec"])
def test_only_admin_changes_the_org(client_as: Callable[..., Client], username: str) -> None:
    node = OrgNode.objects.get(code="E1-1")
    response = client_as(username).patch(
        f"/api/org/nodes/{node.pk}", json.dumps({"name": "改名"}), content_type="application/json"
    )
    assert response.status_code == 403
    node.refresh_from_db()
    assert node.name != "改名"


def test_org_node_must_sit_under_the_right_level(client_as: Callable[..., Client]) -> None:
    region = OrgNode.objects.filter(level="region").first()
    response = _post(
        client_as("admin"),
        "/api/org/nodes",
        {"code": "BAD-D", "name": "错误片区", "level": "district", "parent_id": region.pk},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "parent"
    assert not OrgNode.objects.filter(code="BAD-D").exists()

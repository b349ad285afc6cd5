"""A rep gets 404 for another territory's doctor or institution on every API route."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.test import Client

from omnihcp.config.api import api

# A valid body for each write route that names an HCP or HCO, so the request reaches the scope
# check instead of failing validation first.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/api/md/hcps/{hcp_id}/reveal"): {"field": "mobile"},
    ("patch", "/api/md/hcps/{hcp_id}"): {"specialty": "高血压"},
    ("patch", "/api/md/hcos/{hco_id}"): {"beds": 100},
    ("post", "/api/md/hcos/{hco_id}/departments"): {"name": "心内科二病区"},
}


def _id_operations() -> list[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return [
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if "{hcp_id}" in path or "{hco_id}" in path
    ]


def test_every_api_route_with_an_hcp_or_hco_id_is_listed() -> None:
    operations = set(_id_operations())
    assert ("get", "/api/md/hcps/{hcp_id}") in operations
    assert ("get", "/api/md/hcos/{hco_id}/departments") in operations
    writes = {op for op in operations if op[0] != "get"}
    assert writes == set(BODIES), "give each new write route a valid body above"


def test_rep_gets_404_for_other_territory_on_every_api_route(
    client_as: Callable[..., Client], beijing_hcp: Any
) -> None:
    client = client_as("rep_hangzhou")
    for method, path in _id_operations():
        url = path.format(hcp_id=beijing_hcp.pk, hco_id=beijing_hcp.primary_hco_id)
        body = BODIES.get((method, path))
        response = getattr(client, method)(
            url, data=json.dumps(body) if body else None, content_type="application/json"
        )
        assert response.status_code == 404, (method, url, response.content)
        assert response.json()["code"] == "not_found"
        assert beijing_hcp.name not in response.content.decode()


def test_rep_search_never_returns_other_territories(
    client_as: Callable[..., Client], beijing_hcp: Any
) -> None:
    response = client_as("rep_hangzhou").get("/api/md/hcps/search", {"q": beijing_hcp.name})
    assert response.status_code == 200
    assert beijing_hcp.pk not in [hit["id"] for hit in response.json()["items"]]
    response = client_as("rep_beijing").get("/api/md/hcps/search", {"q": beijing_hcp.name})
    assert beijing_hcp.pk in [hit["id"] for hit in response.json()["items"]]


def test_rep_hcp_list_holds_only_their_territory(
    client_as: Callable[..., Client], scope_of: Callable[[str], Any]
) -> None:
    from omnihcp.masterdata import selectors

    expected = selectors.hcp_list(scope=scope_of("rep_hangzhou")).count()
    body = client_as("rep_hangzhou").get("/api/md/hcps", {"page_size": 200}).json()
    assert body["count"] == expected
    assert 0 < expected < 3_000

"""A rep gets the 404 page for another territory's doctor or institution on every page route."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

# Page routes that take an id and the body each needs when posted.
POSTED = {"hcp-reveal": {"field": "mobile"}}


PAGE_NAMESPACES = {"org", "masterdata"}  # the API has its own test; the admin is for HQ staff


def _id_routes() -> list[URLPattern]:
    """Page routes whose path names an HCP or an HCO."""
    routes: list[URLPattern] = []
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) not in PAGE_NAMESPACES:
            continue
        for inner in getattr(pattern, "url_patterns", []):
            converters = getattr(inner.pattern, "converters", {})
            if isinstance(inner, URLPattern) and {"hcp_id", "hco_id"} & set(converters):
                routes.append(inner)
    return routes


def _kwargs(route: URLPattern, hcp: Any) -> dict[str, int]:
    names = set(route.pattern.converters)
    if names == {"hcp_id"}:
        return {"hcp_id": hcp.pk}
    if names == {"hco_id"}:
        return {"hco_id": hcp.primary_hco_id}
    raise AssertionError(f"no outsider id for {route.name}: add it to this test")


def _namespaced(route: URLPattern) -> str:
    for pattern in get_resolver().url_patterns:
        if route in getattr(pattern, "url_patterns", []):
            return f"{pattern.namespace}:{route.name}"
    raise AssertionError(route)


def test_every_page_with_an_id_is_covered_by_this_test() -> None:
    names = {
        _namespaced(route) for route in _id_routes() if not _namespaced(route).startswith("admin")
    }
    assert {"masterdata:hcp-detail", "masterdata:hcp-reveal", "masterdata:hco-detail"} <= names


def test_rep_gets_404_page_for_other_territory_on_every_page(
    client_as: Callable[..., Client], beijing_hcp: Any
) -> None:
    client = client_as("rep_hangzhou")
    for route in _id_routes():
        name = _namespaced(route)
        url = reverse(name, kwargs=_kwargs(route, beijing_hcp))
        short = route.name or ""
        response = client.post(url, POSTED[short]) if short in POSTED else client.get(url)
        assert response.status_code == 404, url
        assert beijing_hcp.name not in response.content.decode()


def test_beijing_rep_opens_the_same_doctor(
    client_as: Callable[..., Client], beijing_hcp: Any
) -> None:
    response = client_as("rep_beijing").get(reverse("masterdata:hcp-detail", args=[beijing_hcp.pk]))
    assert response.status_code == 200
    assert beijing_hcp.name in response.content.decode()


def test_hq_roles_see_every_doctor(client_as: Callable[..., Client], beijing_hcp: Any) -> None:
    for username in ("exec", "marketing", "steward", "admin"):
        response = client_as(username).get(reverse("masterdata:hcp-detail", args=[beijing_hcp.pk]))
        assert response.status_code == 200, username


def test_manager_sees_subtree_only(
    client_as: Callable[..., Client], beijing_hcp: Any, hangzhou_hcp: Any
) -> None:
    for username in ("dm_hangzhou", "am_zhejiang", "rm_east"):
        client = client_as(username)
        assert (
            client.get(reverse("masterdata:hcp-detail", args=[hangzhou_hcp.pk])).status_code == 200
        )
        assert (
            client.get(reverse("masterdata:hcp-detail", args=[beijing_hcp.pk])).status_code == 404
        )


def test_anonymous_visitor_is_sent_to_login(beijing_hcp: Any) -> None:
    response = Client().get(reverse("masterdata:hcp-detail", args=[beijing_hcp.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("org:login"))

"""Helpers every app's page views share: one page of a list, and the query string to keep."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZE = 50


def page_of(
    request: HttpRequest, qs: QuerySet[Any, Any], *, per_page: int = PAGE_SIZE
) -> Page[Any]:
    """The requested page of ``qs``; a bad or too-large page number gives the last page."""
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current filters as a query string, for "next page" links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()

"""The institution pages: list with filters, and an institution with its doctors."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from omnihcp.masterdata import selectors

pytestmark = pytest.mark.django_db


def test_rep_lists_only_their_institutions(
    client_as: Callable[..., Client], scope_of: Callable[[str], Any]
) -> None:
    page = client_as("rep_hangzhou").get(reverse("masterdata:hco-list")).content.decode()
    shown = {int(i) for i in re.findall(r'data-hco="(\d+)"', page)}
    allowed = set(selectors.hco_list(scope=scope_of("rep_hangzhou")).values_list("id", flat=True))
    assert shown
    assert shown <= allowed


def test_filters_by_type_and_level(client_as: Callable[..., Client]) -> None:
    page = (
        client_as("exec")
        .get(
            reverse("masterdata:hco-list"),
            {"hco_type": "hospital", "level": "3A", "city": "杭州市"},
        )
        .content.decode()
    )
    assert "Tier 3A" in page
    assert "Pharmacy" not in re.sub(r"<option.*?</option>", "", page)


def test_institution_page_lists_its_doctors(
    client_as: Callable[..., Client], hangzhou_hcp: Any, django_assert_max_num_queries: Any
) -> None:
    client = client_as("rep_hangzhou")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("masterdata:hco-detail", args=[hangzhou_hcp.primary_hco_id]))
    page = response.content.decode()
    assert hangzhou_hcp.primary_hco.name in page
    assert f'data-hcp="{hangzhou_hcp.pk}"' in page

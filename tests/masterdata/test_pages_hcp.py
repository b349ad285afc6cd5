"""The doctor pages: search by Chinese name, pinyin, initials and hospital; the doctor's card."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from omnihcp.governance.models import PIAccessLog
from omnihcp.masterdata import services
from omnihcp.masterdata.models import HCP

pytestmark = pytest.mark.django_db


def _result_ids(page: str) -> list[int]:
    import re

    return [int(i) for i in re.findall(r'data-hcp="(\d+)"', page)]


@pytest.mark.parametrize("kind", ["name", "name_pinyin", "name_initials", "hospital"])
def test_rep_finds_doctor(client_as: Callable[..., Client], hangzhou_hcp: Any, kind: str) -> None:
    q = hangzhou_hcp.primary_hco.name if kind == "hospital" else getattr(hangzhou_hcp, kind)
    response = client_as("rep_hangzhou").get(reverse("masterdata:hcp-list"), {"q": q})
    assert response.status_code == 200
    assert hangzhou_hcp.pk in _result_ids(response.content.decode())


def test_pinyin_zhangwei_finds_zhang_wei(client_as: Callable[..., Client]) -> None:
    # given a doctor called 张伟 in the steward's (national) scope
    hco = HCP.objects.first().primary_hco
    hcp = services.hcp_create(
        actor=None, data={"name": "张伟", "title": "attending", "primary_hco": hco}
    )
    # when the steward types "zhangwei", then "zw"
    for q in ("zhangwei", "zw", "张伟", "ZhangWei"):
        page = client_as("steward").get(reverse("masterdata:hcp-list"), {"q": q}).content.decode()
        assert hcp.pk in _result_ids(page), q


def test_live_search_returns_only_the_results_part(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    response = client_as("rep_hangzhou").get(
        reverse("masterdata:hcp-list"), {"q": hangzhou_hcp.name_pinyin}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert hangzhou_hcp.pk in _result_ids(page)
    assert "<html" not in page


def test_no_match_says_so(client_as: Callable[..., Client]) -> None:
    page = (
        client_as("rep_hangzhou")
        .get(reverse("masterdata:hcp-list"), {"q": "xqxqxq"})
        .content.decode()
    )
    assert "No doctor in your scope matches “xqxqxq”." in page


def test_list_page_query_count_is_bounded(
    client_as: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    client = client_as("dm_hangzhou")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("masterdata:hcp-list"))
    assert len(_result_ids(response.content.decode())) == 50


def test_doctor_page_masks_phone_and_reveal_is_logged(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    services.hcp_update(actor=None, hcp=hangzhou_hcp, data={"mobile": "13912345678"})
    client = client_as("rep_hangzhou")
    url = reverse("masterdata:hcp-detail", args=[hangzhou_hcp.pk])
    page = client.get(url).content.decode()
    assert "139****5678" in page
    assert "13912345678" not in page
    logs = PIAccessLog.objects.count()
    response = client.post(
        reverse("masterdata:hcp-reveal", args=[hangzhou_hcp.pk]),
        {"field": "mobile"},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-revealed="mobile">13912345678<' in response.content.decode()
    assert PIAccessLog.objects.count() == logs + 1


def test_marketing_sees_masked_phone_without_reveal_button(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    services.hcp_update(actor=None, hcp=hangzhou_hcp, data={"mobile": "13912345678"})
    client = client_as("marketing")
    page = client.get(reverse("masterdata:hcp-detail", args=[hangzhou_hcp.pk])).content.decode()
    assert "139****5678" in page
    assert reverse("masterdata:hcp-reveal", args=[hangzhou_hcp.pk]) not in page
    response = client.post(
        reverse("masterdata:hcp-reveal", args=[hangzhou_hcp.pk]), {"field": "mobile"}
    )
    assert response.status_code == 403


def test_merged_doctor_redirects_to_survivor(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    duplicate = services.hcp_create(
        actor=None,
        data={
            "name": hangzhou_hcp.name,
            "title": "resident",
            "primary_hco": hangzhou_hcp.primary_hco,
        },
    )
    HCP.objects.filter(pk=duplicate.pk).update(merged_into=hangzhou_hcp, status="merged")
    page = (
        client_as("rep_hangzhou")
        .get(reverse("masterdata:hcp-detail", args=[duplicate.pk]))
        .content.decode()
    )
    assert hangzhou_hcp.code in page


def test_doctor_page_in_chinese(client_as: Callable[..., Client], hangzhou_hcp: Any) -> None:
    page = (
        client_as("rep_hangzhou", language="zh-hans")
        .get(reverse("masterdata:hcp-detail", args=[hangzhou_hcp.pk]))
        .content.decode()
    )
    assert "手机号" in page
    assert "医师执业证书编码" in page

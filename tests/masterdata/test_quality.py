"""The data-quality page: completeness, rejected values, duplicates, match rates, daily trend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata import quality
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    ImportBatch,
    ImportSource,
    MatchCandidate,
    QualitySnapshot,
    RecordStatus,
    SourceRecord,
)

pytestmark = pytest.mark.django_db


def _hcp(hco: HCO, code: str, name: str, pinyin: str, **fields: Any) -> HCP:
    return HCP.objects.create(
        code=code,
        name=name,
        name_pinyin=pinyin,
        name_initials=pinyin[:1],
        title="attending",
        primary_hco=hco,
        **fields,
    )


@pytest.fixture
def hco() -> HCO:
    return HCO.objects.create(
        code="QA-HCO-1",
        name="质量测试医院",
        name_pinyin="zhiliangceshiyiyuan",
        name_initials="zlcsyy",
        hco_type="hospital",
        province="浙江",
        city="杭州",
    )


def test_completeness_counts_every_active_record_with_the_field_filled(hco: HCO) -> None:
    # given: the demo doctors, plus one bare doctor and one inactive one
    _hcp(hco, "QA-1", "空白医生", "kongbaiyisheng")
    _hcp(hco, "QA-2", "停用医生", "tingyongyisheng", specialty="心内", status="inactive")
    active = HCP.objects.filter(status=RecordStatus.ACTIVE)
    # when
    figures = quality.quality_figures_compute()
    # then: the same counts as looking at every record one by one
    hcps = list(active)
    assert figures["hcp"]["total"] == len(hcps)
    assert figures["hcp"]["filled"] == {
        "name": sum(1 for h in hcps if h.name),
        "gender": sum(1 for h in hcps if h.gender not in ("", "U")),
        "title": sum(1 for h in hcps if h.title),
        "position": sum(1 for h in hcps if h.position),
        "department": sum(1 for h in hcps if h.department_id),
        "specialty": sum(1 for h in hcps if h.specialty),
        "mobile": sum(1 for h in hcps if h.mobile_hash),
        "licence": sum(1 for h in hcps if h.licence_hash),
        "primary_hco": len(hcps),
    }
    hcos = list(HCO.objects.filter(status=RecordStatus.ACTIVE))
    assert figures["hco"]["total"] == len(hcos)
    assert figures["hco"]["filled"]["beds"] == sum(1 for h in hcos if h.beds is not None)
    assert figures["hco"]["filled"]["uscc"] == sum(1 for h in hcos if h.uscc)
    assert figures["hco"]["filled"]["district"] == sum(1 for h in hcos if h.district)


def test_rejected_values_of_the_last_30_days_are_grouped_by_field_and_reason(hco: HCO) -> None:
    source = ImportSource.objects.create(code="qa-crm", name="QA CRM", entity_type="hcp")
    recent = ImportBatch.objects.create(
        source=source,
        file_name="a.csv",
        sha256="a",
        status="done",
        rejected=3,
        rejected_rows=[
            {"row": 2, "field": "mobile", "column": "手机", "reason": "QA: not a mobile number"},
            {"row": 5, "field": "mobile", "column": "手机", "reason": "QA: not a mobile number"},
            {"row": 7, "field": "name", "column": "姓名", "reason": "QA: name is missing"},
        ],
    )
    old = ImportBatch.objects.create(
        source=source,
        file_name="old.csv",
        sha256="b",
        status="done",
        rejected=1,
        rejected_rows=[{"row": 2, "field": "mobile", "reason": "QA: not a mobile number"}],
    )
    ImportBatch.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))

    rows = quality.quality_figures_compute()["failures"]["rows"]

    ours = {(r["field"], r["reason"]): r for r in rows if r["reason"].startswith("QA:")}
    assert ours[("mobile", "QA: not a mobile number")]["count"] == 2
    assert ours[("mobile", "QA: not a mobile number")]["batch_ids"] == [recent.pk]
    assert ours[("name", "QA: name is missing")]["count"] == 1
    assert len(ours) == 2


def test_suspected_duplicates_share_pinyin_and_primary_hco(hco: HCO) -> None:
    before = quality.quality_figures_compute()["duplicates"]
    names = ["王伟", "汪伟", "王伟", "王伟", "王玮"]
    wangs = [_hcp(hco, f"QA-W{i}", name, "wangwei") for i, name in enumerate(names)]
    _hcp(hco, "QA-L1", "李娜", "lina")  # alone: no group
    _hcp(hco, "QA-W9", "王伟", "wangwei", status="merged")  # merged records do not count

    after = quality.quality_figures_compute()["duplicates"]

    assert after["groups"] == before["groups"] + 1
    assert after["records"] == before["records"] + 5
    top = after["top"][0]
    assert (top["name_pinyin"], top["hco_id"], top["hco_name"], top["count"]) == (
        "wangwei",
        hco.pk,
        "质量测试医院",
        5,
    )
    assert [h["id"] for h in top["hcps"]] == [h.pk for h in wangs]


def test_open_candidates_are_counted_by_entity_and_score_band(hco: HCO) -> None:
    a = _hcp(hco, "QA-A", "张三", "zhangsan")
    b = _hcp(hco, "QA-B", "张叁", "zhangsan")
    before = quality.quality_figures_compute()["candidates"].get("hcp", {})
    for probability in (0.95, 0.91, 0.8, 0.3, None):
        MatchCandidate.objects.create(
            entity_type="hcp", left_hcp=a, right_hcp=b, probability=probability
        )
    MatchCandidate.objects.create(
        entity_type="hcp", left_hcp=a, right_hcp=b, probability=0.99, status="rejected"
    )

    after = quality.quality_figures_compute()["candidates"]["hcp"]

    assert {band: after[band] - before.get(band, 0) for band in after} == {
        "high": 2,
        "medium": 1,
        "low": 1,
        "none": 1,
    }


def test_match_rates_are_shares_of_each_source_records(hco: HCO) -> None:
    for i, status in enumerate(["matched", "matched", "new", "review"]):
        SourceRecord.objects.create(
            source="qa-platform", source_key=str(i), entity_type="hcp", payload={}, status=status
        )
    snapshot = quality.quality_snapshot_take()

    report = quality.quality_report(snapshot=snapshot)

    row = next(r for r in report.sources if r.source == "qa-platform")
    assert row.total == 4
    assert {o.outcome: (o.count, o.pct) for o in row.outcomes} == {
        "matched": (2, 50.0),
        "new": (1, 25.0),
        "review": (1, 25.0),
        "rejected": (0, 0.0),
        "pending": (0, 0.0),
    }


def test_a_second_snapshot_the_same_day_replaces_the_first(hco: HCO) -> None:
    first = quality.quality_snapshot_take()
    _hcp(hco, "QA-N", "新医生", "xinyisheng")

    second = quality.quality_snapshot_take()

    assert QualitySnapshot.objects.filter(day=timezone.localdate()).count() == 1
    assert second.pk == first.pk
    second.refresh_from_db()
    assert second.figures["hcp"]["total"] == first.figures["hcp"]["total"] + 1
    assert AuditEvent.objects.filter(action="quality_snapshot.take").count() == 2


def test_steward_reads_the_latest_figures_and_the_trend(
    client_as: Callable[..., Client], django_assert_max_num_queries: Any
) -> None:
    today = timezone.localdate()
    snapshot = quality.quality_snapshot_take()
    for days_ago, total in ((3, 10), (40, 99)):
        QualitySnapshot.objects.create(
            day=today - dt.timedelta(days=days_ago),
            computed_at=timezone.now(),
            figures={"hcp": {"total": total, "filled": {"name": total}}},
        )

    client = client_as("steward")
    # The page only reads snapshots: a fixed handful of queries whatever the data size.
    with django_assert_max_num_queries(6):
        page = client.get(reverse("masterdata:quality")).content.decode()

    hcp_total = snapshot.figures["hcp"]["total"]
    assert f'data-snapshot="{today:%Y-%m-%d}"' in page
    assert f"{hcp_total} active HCPs" in page
    assert 'data-field="specialty"' in page
    assert f'data-day="{today - dt.timedelta(days=3):%Y-%m-%d}"' in page
    assert f'data-day="{today - dt.timedelta(days=40):%Y-%m-%d}"' not in page
    assert 'data-sparkline="hcp_completeness"' in page
    assert "<polyline points=" in page
    assert 'data-action="refresh-quality"' in page


def test_page_renders_in_chinese(client_as: Callable[..., Client]) -> None:
    quality.quality_snapshot_take()

    response = client_as("steward", "zh-hans").get(reverse("masterdata:quality"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-Hans"' in page
    assert "性别" in page  # the gender row's label


def test_page_without_any_snapshot_says_so(client_as: Callable[..., Client]) -> None:
    page = client_as("steward").get(reverse("masterdata:quality")).content.decode()

    assert 'data-snapshot="none"' in page


def test_steward_refreshes_todays_figures(client_as: Callable[..., Client]) -> None:
    response = client_as("steward").post(reverse("masterdata:quality"))

    assert response.status_code == 302
    assert QualitySnapshot.objects.filter(day=timezone.localdate()).exists()
    event = AuditEvent.objects.get(action="quality_snapshot.take")
    assert event.actor == "steward"


def test_executive_reads_but_may_not_refresh(client_as: Callable[..., Client]) -> None:
    quality.quality_snapshot_take()
    client = client_as("exec")

    page = client.get(reverse("masterdata:quality"))
    refresh = client.post(reverse("masterdata:quality"))

    assert page.status_code == 200
    assert 'data-action="refresh-quality"' not in page.content.decode()
    assert refresh.status_code == 403


@pytest.mark.parametrize("username", ["rep_hangzhou", "marketing"])
def test_other_roles_get_403(client_as: Callable[..., Client], username: str) -> None:
    assert client_as(username).get(reverse("masterdata:quality")).status_code == 403


def test_steward_menu_leads_to_quality_and_sources(client_as: Callable[..., Client]) -> None:
    page = client_as("steward").get(reverse("org:home")).content.decode()

    assert f'href="{reverse("masterdata:quality")}"' in page
    assert f'href="{reverse("masterdata:source-list")}"' in page

"""Segments: refused rules, counts within the caller's territory, the Excel export without
personal information, and a campaign sent to a segment."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.utils import timezone

from omnihcp.core.scope import DataScope
from omnihcp.engagement.models import Campaign
from omnihcp.masterdata.models import HCP
from omnihcp.profiles import segments
from omnihcp.profiles.rules import rule_compile
from tests.engagement.support import approved_content

pytestmark = pytest.mark.django_db

RULE = 'title = "chief_physician"'


@pytest.fixture
def chiefs(cast_user):
    return segments.segment_save(
        actor=cast_user("marketing"), draft=segments.SegmentDraft(name="主任医师", rule=RULE)
    )


def _count(html: str) -> int:
    return int(re.search(r'data-count="(\d+)"', html).group(1))


def test_a_segment_with_a_wrong_rule_is_refused(client_as) -> None:
    page = client_as("marketing").post(
        "/profiles/segments/new/", {"name": "坏规则", "rule": 'title = "a" and'}
    )

    assert page.status_code == 400
    assert 'data-error="rule"' in page.content.decode()
    assert "column 16" in page.content.decode()


def test_counts_are_the_callers_territory(client_as, chiefs, scope_of) -> None:
    everyone = _count(
        client_as("marketing").get(f"/profiles/segments/{chiefs.pk}/").content.decode()
    )
    hangzhou = _count(
        client_as("rep_hangzhou").get(f"/profiles/segments/{chiefs.pk}/").content.decode()
    )

    active = HCP.objects.filter(status="active")
    assert everyone == rule_compile(RULE).apply(active).count()
    in_scope = scope_of("rep_hangzhou").filter_hcos(active, "primary_hco_id")
    assert hangzhou == rule_compile(RULE).apply(in_scope).count()
    assert 0 < hangzhou < everyone


def test_the_excel_export_lists_the_members_without_personal_information(
    client_as, chiefs, scope_of
) -> None:
    response = client_as("rep_hangzhou").get(f"/profiles/segments/{chiefs.pk}/export/")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Code", "Name", "Title", "Institution", "City", "Department")
    members = segments.segment_members(segment=chiefs, scope=scope_of("rep_hangzhou"))
    assert [r[0] for r in rows[1:]] == list(members.values_list("code", flat=True))
    assert not any(re.search(r"1[3-9]\d{9}", str(cell)) for row in rows for cell in row)


def test_a_campaign_goes_to_the_segments_doctors(client_as, cast_user, chiefs) -> None:
    item = approved_content(cast_user("marketing"), cast_user("medical"))
    tomorrow = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client_as("marketing").post(
        f"/profiles/segments/{chiefs.pk}/campaign/",
        {
            "name": "主任医师专场",
            "item": item.pk,
            "channel": "sms",
            "scheduled_at": tomorrow,
        },
    )

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    members = set(
        segments.segment_members(segment=chiefs, scope=DataScope.system()).values_list(
            "pk", flat=True
        )
    )
    assert set(campaign.recipients.values_list("hcp_id", flat=True)) == members
    report = client_as("marketing").get(f"/engagement/campaigns/{campaign.pk}/").content.decode()
    assert "主任医师</span>" in report


def test_reps_read_segments_but_do_not_write_them(client_as, chiefs) -> None:
    rep = client_as("rep_hangzhou")

    assert rep.get("/profiles/segments/").status_code == 200
    assert rep.get("/profiles/segments/new/").status_code == 403
    assert (
        "data-segment-campaign" not in rep.get(f"/profiles/segments/{chiefs.pk}/").content.decode()
    )

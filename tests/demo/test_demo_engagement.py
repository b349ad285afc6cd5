"""The demo month of engagement: what `make demo` opens on — content approved, consent before
the first message, shares spread over 30 days, reads and answers, a sent campaign whose report
shows skips and why, and the performance page full."""

from __future__ import annotations

import re

import pytest
from django.db.models import Min

from omnihcp.demo.engagement import demo_engagement
from omnihcp.demo.generator import DEFAULT_SEED
from omnihcp.engagement.models import (
    Campaign,
    ConsentEvent,
    ContentItem,
    Delivery,
    Response,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def month() -> object:
    return demo_engagement(seed=DEFAULT_SEED)


def test_the_month_is_spread_over_thirty_days_and_follows_consent(month) -> None:
    assert ContentItem.objects.filter(status="approved").count() == 6
    days = {
        d.created_at.date()
        for d in Delivery.objects.exclude(idempotency_key__startswith="campaign")
    }
    assert len(days) >= 20
    first_consent = dict(
        ConsentEvent.objects.values("hcp_id")
        .annotate(at=Min("created_at"))
        .values_list("hcp_id", "at")
    )
    for hcp_id, first_send in (
        Delivery.objects.values("hcp_id").annotate(at=Min("created_at")).values_list("hcp_id", "at")
    ):
        assert first_consent[hcp_id] < first_send
    assert Response.objects.filter(score__isnull=False).exists()
    assert Response.objects.filter(score__isnull=True).exists()  # survey answers


def test_the_sent_campaign_reports_skips_and_the_next_one_waits(month, client_as) -> None:
    done, waiting = Campaign.objects.order_by("scheduled_at")
    html = client_as("marketing").get(f"/engagement/campaigns/{done.pk}/").content.decode()

    assert done.status == "done"
    assert waiting.status == "scheduled"
    assert int(re.search(r'data-kpi="sent">(\d+)<', html).group(1)) > 0
    assert 'data-skip="no_consent"' in html


def test_the_performance_page_shows_every_content_item_and_both_reps(month, client_as) -> None:
    marketing = client_as("marketing")

    by_content = marketing.get("/engagement/performance/").content.decode()
    by_rep = marketing.get("/engagement/performance/?by=rep").content.decode()

    assert by_content.count("<tr data-row=") == 6
    assert "data-quiz-stats" in by_content
    assert 'data-row="rep_hangzhou"' in by_rep
    assert 'data-row="rep_beijing"' in by_rep


def test_tags_of_every_category_and_kind_are_there(month, client_as) -> None:
    from omnihcp.profiles.models import HCPTag, TagDefinition

    kinds = set(TagDefinition.objects.values_list("category", "kind"))
    assert {c for c, _k in kinds} == {"basic", "marketing", "value"}
    assert {k for _c, k in kinds} == {"manual", "rule", "model"}
    assert HCPTag.objects.filter(definition__name="测验高分").exists()
    assert HCPTag.objects.filter(definition__kind="manual").count() > 0


def test_segments_are_there_and_count_doctors(month, client_as) -> None:
    from omnihcp.profiles.models import Segment

    segment = Segment.objects.get(name="杭州主任与副主任医师")
    page = client_as("marketing").get(f"/profiles/segments/{segment.pk}/").content.decode()

    assert Segment.objects.count() == 3
    assert int(re.search(r'data-count="(\d+)"', page).group(1)) > 0


def test_adoption_stages_and_proposals_are_there(month) -> None:
    from omnihcp.profiles.models import Adoption, AdoptionEvent

    assert Adoption.objects.values("stage").distinct().count() >= 4
    assert AdoptionEvent.objects.filter(kind="proposal", open=True).exists()


def test_the_first_products_doctors_are_tiered(month) -> None:
    from omnihcp.profiles.models import HCPTier

    assert set(HCPTier.objects.values_list("tier", flat=True)) == {"A", "B", "C"}


def test_engaged_doctors_have_interests(month) -> None:
    from omnihcp.profiles.models import HCPTag

    assert HCPTag.objects.filter(definition__name="关注：高血压", weight__gt=0).exists()


def test_the_rep_opens_on_next_best_actions_and_content(month, client_as) -> None:
    from omnihcp.profiles.models import Suggestion

    page = client_as("rep_hangzhou").get("/profiles/nba/").content.decode()
    report = client_as("marketing").get("/profiles/nba/report/").content.decode()

    assert page.count('data-nba="') >= 3
    assert "data-why>" in page
    assert Suggestion.objects.exclude(status="open").count() == 3
    assert 'data-rate="' in report
    doctor = Suggestion.objects.filter(kind="action").first().hcp_id
    card = client_as("rep_hangzhou").get(f"/profiles/hcps/{doctor}/").content.decode()
    assert 'data-section="next"' in card


def test_the_rep_opens_on_a_today_page_with_plan_visits_and_hot_leads(month, client_as) -> None:
    from omnihcp.fieldforce.models import Task, Visit

    manager = client_as("dm_hangzhou").get("/ff/plan/").content.decode()
    today = client_as("rep_hangzhou").get("/ff/today/").content.decode()

    assert Visit.objects.filter(rep__user__username="rep_hangzhou").count() == 6
    assert Visit.objects.filter(far_from_hco=True).count() == 1
    assert today.count('data-source="hot_signal"') >= 1
    assert 'data-source="visit"' in today  # the first visit's next step
    assert "calls made" in today
    assert 'data-team-plan="' in manager
    assert Task.objects.filter(source="hot_signal", notify_error="WeCom not configured").exists()

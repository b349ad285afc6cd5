"""Call plans: made from the doctors' tiers, set against the visits made, adjusted by the
manager (and kept when the plan is made again)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from omnihcp.fieldforce.callplans import call_plans_generate, month_of
from omnihcp.fieldforce.models import CallPlan
from omnihcp.governance.models import AuditEvent
from omnihcp.profiles.models import HCPTier, TierMatrix
from tests.fieldforce.support import log_visit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tiers(tiered: None) -> None:
    """Every test here starts from the tiered brand (``conftest.tiered``)."""


def _plan(username: str) -> CallPlan:
    return CallPlan.objects.get(rep__user__username=username, month=month_of(timezone.localdate()))


def test_the_plan_gives_each_tier_its_calls_and_counts_the_visits_made(client_as):
    assert call_plans_generate() >= 2  # every rep of the demo company
    assert call_plans_generate() == 0  # made once a month

    plan = _plan("rep_hangzhou")
    matrix = TierMatrix.objects.get()
    line = plan.lines.select_related("hcp").order_by("tier").first()
    tier = HCPTier.objects.get(hcp=line.hcp, product=matrix.product).tier
    assert (line.tier, line.planned) == (tier, matrix.frequencies[tier])
    assert (
        plan.lines.count()
        == HCPTier.objects.filter(hcp__in=[li.hcp_id for li in plan.lines.all()]).count()
    )

    rep = client_as("rep_hangzhou")
    log_visit(rep, line.hcp, "k-1")
    page = rep.get(f"/ff/plan/{plan.pk}/").content.decode()
    assert "data-made>1<" in page.replace(" ", "")
    today = rep.get("/ff/today/").content.decode()
    assert "1 of" in today  # attainment on the today page
    assert 'data-planned="' in today


def test_a_manager_changes_a_doctors_calls_and_regeneration_keeps_it(client_as):
    call_plans_generate()
    plan = _plan("rep_hangzhou")
    line = plan.lines.order_by("pk").first()
    manager = client_as("dm_hangzhou")

    refused = manager.post(f"/ff/plan/{plan.pk}/", {"line": line.pk, "planned": "lots"})
    changed = manager.post(f"/ff/plan/{plan.pk}/", {"line": line.pk, "planned": "7"})
    call_plans_generate(refresh=True)

    assert refused.status_code == 400
    assert "whole number from 0 to 31" in refused.content.decode()
    assert changed.status_code == 200
    line.refresh_from_db()
    assert line.planned == 7
    assert AuditEvent.objects.filter(action="call_plan.edited", object_id=str(line.pk)).exists()
    team = manager.get("/ff/plan/").content.decode()
    assert 'data-team-plan="' in team


def test_a_rep_sees_but_cannot_change_the_plan_and_others_cannot_open_it(client_as):
    call_plans_generate()
    plan = _plan("rep_hangzhou")
    line = plan.lines.first()

    own = client_as("rep_hangzhou").post(f"/ff/plan/{plan.pk}/", {"line": line.pk, "planned": "9"})
    other = client_as("rep_beijing").get(f"/ff/plan/{plan.pk}/")

    assert own.status_code == 200
    assert 'name="planned"' not in own.content.decode()
    line.refresh_from_db()
    assert line.planned != 9
    assert other.status_code == 404

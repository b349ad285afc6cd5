"""Virtual-rep programmes: a target list from a rule (hospitals nobody visited lately), calls
with a script, outcomes, call-backs and an intent score, a one-click hand-off to the field rep
with the answers (refused when no active rep covers the hospital), the rep's feedback back, a
send to the targets not reached yet, and the funnel."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from omnihcp.engagement import campaigns
from omnihcp.engagement import questionnaire as q
from omnihcp.fieldforce.models import (
    OutreachCall,
    Programme,
    ProgrammeTarget,
    TargetStage,
    Task,
    TaskSource,
)
from omnihcp.masterdata.models import HCP
from omnihcp.org.models import Product
from omnihcp.profiles.adoption import adoption_set
from omnihcp.profiles.models import Adoption
from omnihcp.tracking.models import Activity
from tests.engagement.support import approved_content, consent
from tests.fieldforce.support import log_visit

pytestmark = pytest.mark.django_db


@pytest.fixture
def script(cast_user: Any) -> Any:
    return approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="集采后用药调研",
        kind="survey",
        body="两题。",
        questions=(
            q.QuestionDraft(kind="single", text="目前使用的品牌？", options="原研\n仿制\n都用"),
            q.QuestionDraft(kind="text", text="最关心的问题？", required=False),
        ),
    )


def _rule(hcp: HCP) -> str:
    return f'city = "{hcp.primary_hco.city}" and title = "{hcp.title}"'


def _create(client: Client, hcp: HCP, script: Any, **extra: Any) -> Any:
    data = {
        "name": "杭州未覆盖医院",
        "rule": _rule(hcp),
        "unvisited_days": "365",
        "script": script.pk,
    } | extra
    return client.post("/ff/programmes/new/", data)


def _target(hcp: HCP) -> ProgrammeTarget:
    return ProgrammeTarget.objects.get(hcp=hcp)


def _call(client: Client, target: ProgrammeTarget, key: str, **data: Any) -> Any:
    url = f"/ff/programmes/{target.programme_id}/targets/{target.pk}/"
    return client.post(url, {"client_key": key, "channel": "phone"} | data)


def test_a_target_list_leaves_out_hospitals_visited_lately(client_as, hangzhou_hcp, script):
    visited = HCP.objects.filter(
        primary_hco__city=hangzhou_hcp.primary_hco.city, title=hangzhou_hcp.title
    ).exclude(primary_hco=hangzhou_hcp.primary_hco)[0]
    log_visit(client_as("rep_hangzhou"), visited, "seen-1", days_ago=30)
    vrep = client_as("vrep")

    response = _create(vrep, hangzhou_hcp, script)
    programme = Programme.objects.get()
    assert response.status_code == 302
    vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "build"})

    matching = HCP.objects.filter(
        status="active", primary_hco__city=hangzhou_hcp.primary_hco.city, title=hangzhou_hcp.title
    ).exclude(primary_hco=visited.primary_hco)
    assert set(programme.targets.values_list("hcp_id", flat=True)) == set(
        matching.values_list("id", flat=True)
    )
    assert not programme.targets.filter(hcp=visited).exists()
    again = vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "build"}).content.decode()
    assert "0 doctors added" in again
    page = vrep.get(f"/ff/programmes/{programme.pk}/").content.decode()
    assert re.search(r'data-funnel="1">.*?data-count>' + str(matching.count()) + "<", page, re.S)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"rule": ""}, "rule"),
        ({"rule": 'title = "chief_physician" and'}, "rule"),
        ({"unvisited_days": "0"}, "unvisited_days"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_programme_is_refused_with_the_field_named(
    client_as, hangzhou_hcp, script, extra, field
):
    response = _create(client_as("vrep"), hangzhou_hcp, script, **extra)
    assert response.status_code == 400
    assert f'data-error="{field}"' in response.content.decode()
    assert not Programme.objects.exists()


def test_a_call_records_outcome_answers_and_intent_once(client_as, hangzhou_hcp, script):
    vrep = client_as("vrep")
    _create(vrep, hangzhou_hcp, script)
    programme = Programme.objects.get()
    vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "build"})
    target = _target(hangzhou_hcp)

    first = _call(vrep, target, "c-1", outcome="wants_visit", q1="1", q2="集采后的供货")
    again = _call(vrep, target, "c-1", outcome="wants_visit", q1="1", q2="集采后的供货")

    assert first.status_code == again.status_code == 302
    target.refresh_from_db()
    assert OutreachCall.objects.filter(target=target).count() == 1
    assert target.stage == TargetStage.INTERESTED
    assert target.intent == 90  # wants a visit 80 + answers 10
    assert target.answers == {"目前使用的品牌？": "仿制", "最关心的问题？": "集采后的供货"}
    assert Activity.objects.filter(hcp=hangzhou_hcp, event="Outreach Call").count() == 1
    # a call-back after no answer keeps the intent
    later = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    _call(vrep, target, "c-2", outcome="no_answer", callback_at=later)
    target.refresh_from_db()
    assert target.intent == 90
    assert target.callback_at is not None
    due = vrep.get(f"/ff/programmes/{programme.pk}/?due=1").content.decode()
    assert f'data-target="{hangzhou_hcp.name}"' not in due  # not due before tomorrow


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": ""}, "outcome"),
        ({"outcome": "interested", "q1": "7"}, "q1"),
        ({"outcome": "not_now", "callback_at": "2020-01-01T09:00"}, "callback_at"),
        ({"outcome": "interested", "channel": "f2f"}, "channel"),
    ],
)
def test_a_bad_call_is_refused_and_nothing_is_saved(client_as, hangzhou_hcp, script, data, field):
    vrep = client_as("vrep")
    _create(vrep, hangzhou_hcp, script)
    programme = Programme.objects.get()
    vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "build"})
    target = _target(hangzhou_hcp)

    response = _call(vrep, target, "bad", **data)

    assert response.status_code == 400
    assert f'data-error="{field}"' in response.content.decode()
    assert not OutreachCall.objects.exists()
    target.refresh_from_db()
    assert (target.attempts, target.stage) == (0, TargetStage.PENDING)


def test_the_hand_off_reaches_the_field_rep_and_the_funnel_follows(
    client_as, hangzhou_hcp, script, wecom
):
    cardio = Product.objects.filter(business_unit__code="CV").order_by("code").first()
    vrep = client_as("vrep")
    _create(vrep, hangzhou_hcp, script, product=cardio.pk)
    programme = Programme.objects.get()
    vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "build"})
    target = _target(hangzhou_hcp)
    _call(vrep, target, "c-1", outcome="wants_visit", q1="0")
    url = f"/ff/programmes/{programme.pk}/targets/{target.pk}/"

    vrep.post(url, {"action": "handoff", "note": "下午有空"})
    vrep.post(url, {"action": "handoff", "note": "下午有空"})  # a second click

    task = Task.objects.get(source=TaskSource.VIRTUAL_REP)
    rep = client_as("rep_hangzhou")
    assert task.assignee.user.username == "rep_hangzhou"
    assert task.detail["answers"] == {"目前使用的品牌？": "原研"}
    sent = [b for p, b in wecom.state.requests if p == "/cgi-bin/message/send"]
    assert [m["touser"] for m in sent] == ["rep_hangzhou"]
    today = rep.get("/ff/today/").content.decode()
    assert "原研" in today
    assert "下午有空" in today

    rep.post(f"/ff/tasks/{task.pk}/feedback/", {"feedback": "已拜访，同意试用"})
    log_visit(rep, hangzhou_hcp, "after-handoff")
    Adoption.objects.filter(hcp=hangzhou_hcp, product=cardio).delete()
    adoption_set(actor=None, hcp=hangzhou_hcp, product=cardio, stage="trial")

    page = vrep.get(url).content.decode()
    assert "已拜访，同意试用" in page
    funnel = vrep.get(f"/ff/programmes/{programme.pk}/").content.decode()
    counts = [int(n) for n in re.findall(r"data-count>(\d+)<", funnel)]
    assert counts[4:] == [1, 1, 1]  # handed off, visited, adoption moved


def test_no_hand_off_when_no_active_rep_covers_the_hospital(client_as, hangzhou_hcp, script):
    from omnihcp.org.selectors import reps_covering_hco

    vrep = client_as("vrep")
    _create(vrep, hangzhou_hcp, script)
    programme = Programme.objects.get()
    vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "build"})
    target = _target(hangzhou_hcp)
    _call(vrep, target, "c-1", outcome="interested")
    reps_covering_hco(hco_id=hangzhou_hcp.primary_hco_id).update(is_active=False)

    page = vrep.post(
        f"/ff/programmes/{programme.pk}/targets/{target.pk}/", {"action": "handoff"}
    ).content.decode()

    assert "No active field rep covers" in page
    assert hangzhou_hcp.primary_hco.name in page
    assert not Task.objects.filter(source=TaskSource.VIRTUAL_REP).exists()
    target.refresh_from_db()
    assert target.stage == TargetStage.INTERESTED


def test_a_send_to_the_targets_counts_their_answers_as_engaged(client_as, hangzhou_hcp, script):
    vrep = client_as("vrep")
    _create(vrep, hangzhou_hcp, script)
    programme = Programme.objects.get()
    vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "build"})
    consent(hangzhou_hcp, channel="sms")

    page = vrep.post(
        f"/ff/programmes/{programme.pk}/", {"action": "send", "item": "", "channel": "link"}
    )
    assert page.status_code == 400  # a link is for a rep to paste, not a send
    vrep.post(f"/ff/programmes/{programme.pk}/", {"action": "send", "item": "", "channel": "sms"})
    campaigns.campaign_send_due(now=timezone.now() + dt.timedelta(minutes=1))
    recipient = programme.campaigns.get().campaign.recipients.get(hcp=hangzhou_hcp)
    assert recipient.delivery is not None
    from omnihcp.engagement.delivery import delivery_url

    link = delivery_url(recipient.delivery, "")
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    doctor.post(f"{link}answers/", {"q1": "2"})

    vrep.get(f"/ff/programmes/{programme.pk}/")
    assert _target(hangzhou_hcp).stage == TargetStage.ENGAGED


def test_programmes_are_for_virtual_reps_marketing_and_managers(client_as, hangzhou_hcp, script):
    _create(client_as("vrep"), hangzhou_hcp, script)
    programme = Programme.objects.get()
    assert client_as("rep_hangzhou").get("/ff/programmes/new/").status_code == 404
    assert client_as("rep_hangzhou").get(f"/ff/programmes/{programme.pk}/").status_code == 404
    assert client_as("dm_hangzhou").get(f"/ff/programmes/{programme.pk}/").status_code == 200
    assert client_as("marketing").get("/ff/programmes/").status_code == 200
    manager = client_as("dm_hangzhou").get(f"/ff/programmes/{programme.pk}/").content.decode()
    assert 'data-action="build"' not in manager  # managers read, virtual reps act

"""The manager's team page: calls judged by what the doctor did afterwards, this week against
last, plan attainment, red / amber / green; a rep's recent visits; a nudge that reaches the rep
by WeCom and as a task."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from omnihcp.fieldforce.models import Task, TaskSource
from omnihcp.governance.models import AuditEvent
from omnihcp.org.models import Employee
from omnihcp.tracking.models import HcpDailyActivity
from tests.fieldforce.support import log_visit

pytestmark = pytest.mark.django_db


def test_call_quality_counts_visits_the_doctor_answered(client_as, scope_of):
    from omnihcp.masterdata.selectors import hcp_list

    rep = client_as("rep_hangzhou")
    doctors = list(hcp_list(scope=scope_of("rep_hangzhou"))[:3])
    followed = log_visit(rep, doctors[0], "k-1", days_ago=20)
    log_visit(rep, doctors[1], "k-2", days_ago=20)  # nothing happened after it
    log_visit(rep, doctors[2], "k-3", days_ago=2)  # too recent to judge, nothing yet
    HcpDailyActivity.objects.create(
        hcp=doctors[0],
        day=timezone.localtime(followed.started_at).date() + dt.timedelta(days=3),
        event="Content Read",
        count=1,
        last_at=timezone.now(),
    )
    from omnihcp.fieldforce.team import visits_judge

    before = client_as("dm_hangzhou").get("/ff/team/").content.decode()
    assert visits_judge() == 2  # the recent visit is still waiting
    assert visits_judge() == 0  # judged once
    page = client_as("dm_hangzhou").get("/ff/team/").content.decode()

    rep_name = Employee.objects.get(user__username="rep_hangzhou").name
    row = page[page.index(f'data-rep="{rep_name}"') :]
    row = row[: row.index("</tr>")]
    assert "50%" in row
    assert "(1/2)" in row  # the recent visit is not judged yet
    assert "(1/2)" not in before  # the page counts what the job judged
    assert "data-this-week>1<" in row.replace(" ", "")
    drill = client_as("dm_hangzhou").get(f"/ff/team/{followed.rep_id}/").content.decode()
    assert drill.count("data-followed") == 1
    assert drill.count("data-not-followed") == 1


def test_a_nudge_reaches_the_rep_by_wecom_and_as_a_task(client_as, wecom):
    rep = Employee.objects.get(user__username="rep_hangzhou")
    manager = client_as("dm_hangzhou")

    empty = manager.post(f"/ff/team/{rep.pk}/", {"text": " "})
    sent = manager.post(f"/ff/team/{rep.pk}/", {"text": "本周请拜访三位A级医生"})

    assert empty.status_code == 400
    assert "Write what the rep should do" in empty.content.decode()
    assert "Sent by WeCom" in sent.content.decode()
    task = Task.objects.get(assignee=rep, source=TaskSource.MANAGER)
    assert task.notified_at is not None
    assert AuditEvent.objects.filter(action="nudge.sent", object_id=str(task.pk)).exists()
    cards = [b for path, b in wecom.state.requests if path.endswith("/message/send")]
    assert cards[-1]["touser"] == "rep_hangzhou"
    assert cards[-1]["textcard"]["description"] == "本周请拜访三位A级医生"
    today = client_as("rep_hangzhou").get("/ff/today/").content.decode()
    assert "本周请拜访三位A级医生" in today


def test_the_team_page_is_for_managers_of_that_team(client_as):
    beijing_rep = Employee.objects.get(user__username="rep_beijing")

    assert client_as("rep_hangzhou").get("/ff/team/").status_code == 404
    assert client_as("dm_hangzhou").get(f"/ff/team/{beijing_rep.pk}/").status_code == 404


def test_the_team_page_shows_shares_quiz_answers_coverage_and_districts(
    client_as, scope_of, cast_user, tiered
):
    from django.test import Client

    from omnihcp.engagement import questionnaire
    from omnihcp.fieldforce.callplans import call_plan_generate
    from omnihcp.masterdata.selectors import hcp_list
    from tests.engagement.support import approved_content, consent, link_of, share

    quiz = approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="心衰测验",
        kind="quiz",
        body="一题。",
        questions=(questionnaire.QuestionDraft(kind="single", text="首选？", options="* 甲\n乙"),),
    )
    rep = client_as("rep_hangzhou")
    doctors = list(hcp_list(scope=scope_of("rep_hangzhou"))[:2])
    for hcp, answer in zip(doctors, ("0", "1"), strict=True):  # 100 and 0
        consent(hcp)
        doctor = Client()
        link = link_of(share(rep, hcp, quiz, key=f"t{hcp.pk}"))
        doctor.post(f"{link}consent/", {"answer": "yes"})
        doctor.post(f"{link}answers/", {"q1": answer})
    me = Employee.objects.get(user__username="rep_hangzhou")
    plan = call_plan_generate(rep=me, month=timezone.localdate())
    line = plan.lines.order_by("tier", "pk").first()
    tier_lines = plan.lines.filter(tier=line.tier).count()
    log_visit(rep, line.hcp, "cov-1")

    page = client_as("dm_hangzhou").get("/ff/team/").content.decode()

    row = page[page.index(f'data-rep="{me.name}"') :]
    row = row[: row.index("</tr>")]
    assert "data-shares>2<" in row
    assert "data-quiz>2" in row
    assert "avg. 50" in row
    assert f'data-tier="{line.tier}">{line.tier} 1/{tier_lines}<' in row
    assert 'data-section="districts"' not in page  # one district: no district lines

    area = client_as("am_zhejiang").get("/ff/team/").content.decode()
    assert 'data-section="districts"' in area
    assert f'data-district="{me.org_node.name}"' in area
    assert f'data-rep="{me.name}"' in area
    region = client_as("rm_east").get("/ff/team/").content.decode()  # a line per area
    assert f'data-district="{me.org_node.parent.name}"' in region
    assert f'data-district="{me.org_node.name}"' not in region


def test_the_rep_drill_shows_the_adoption_ladder_down_to_the_doctors(client_as, scope_of):
    from omnihcp.masterdata.selectors import hcp_list
    from omnihcp.org.models import Product
    from omnihcp.profiles.models import Adoption

    me = Employee.objects.get(user__username="rep_hangzhou")
    product = Product.objects.filter(business_unit__code="CV").first()
    doctors = list(hcp_list(scope=scope_of("rep_hangzhou"))[:3])
    Adoption.objects.filter(hcp__in=doctors, product=product).delete()
    for hcp, stage in zip(doctors, ("trial", "trial", "regular"), strict=True):
        Adoption.objects.create(hcp=hcp, product=product, stage=stage)
    manager = client_as("dm_hangzhou")

    page = manager.get(f"/ff/team/{me.pk}/").content.decode()
    ladder = page[page.index(f'data-ladder="{product.brand_name}"') :]
    assert 'data-step="trial"' in ladder[: ladder.index("</tr>")]

    step = manager.get(f"/ff/team/{me.pk}/?product={product.pk}&stage=trial").content.decode()
    listed = step[step.index("data-step-doctors") :]
    assert doctors[0].name in listed
    assert doctors[1].name in listed
    assert doctors[2].name not in listed.split("</div>")[0]

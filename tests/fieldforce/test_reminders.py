"""Tasks that come to a rep from elsewhere: a steward's decision on the rep's data change
request (a task and a WeCom message, once), a next best action kept as a task, and the
morning reminder of the day's tasks (once a day)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from omnihcp.fieldforce import reminders
from omnihcp.fieldforce.models import Task, TaskSource, TaskStatus
from omnihcp.fieldforce.services import task_close, task_open
from omnihcp.masterdata import dcr as dcr_services
from omnihcp.org.models import Employee
from omnihcp.profiles.models import Suggestion
from tests.masterdata.test_dcr import new_proposal, submit

pytestmark = pytest.mark.django_db


def _sent(wecom) -> list[dict]:
    return [body for path, body in wecom.state.requests if path == "/cgi-bin/message/send"]


def test_a_stewards_decision_reaches_the_rep_once(cast_user, scope_of, hangzhou_hcp, wecom):
    approved = submit(cast_user, scope_of, new_proposal(hangzhou_hcp, key="a"))
    rejected = submit(cast_user, scope_of, new_proposal(hangzhou_hcp, key="b"))
    pending = submit(cast_user, scope_of, new_proposal(hangzhou_hcp, key="c"))
    steward = cast_user("steward")
    approved = dcr_services.dcr_approve(actor=steward, dcr_id=approved.pk, create_anyway=True)
    dcr_services.dcr_reject(actor=steward, dcr_id=rejected.pk, reason="医院已撤销")

    assert reminders.dcr_outcomes_notify() == 2

    tasks = Task.objects.filter(source=TaskSource.DCR).order_by("dedupe_key")
    assert [t.dedupe_key for t in tasks] == [f"dcr:{approved.pk}", f"dcr:{rejected.pk}"]
    assert tasks[0].assignee.user.username == "rep_hangzhou"
    assert tasks[0].hcp == approved.result_hcp
    assert "plan a first visit" in tasks[0].title
    assert "医院已撤销" in tasks[1].title
    assert [m["touser"] for m in _sent(wecom)] == ["rep_hangzhou", "rep_hangzhou"]
    assert not Task.objects.filter(dedupe_key=f"dcr:{pending.pk}").exists()
    # the rep closes one; the next runs tell nothing again
    task_close(actor=cast_user("rep_hangzhou"), task=tasks[0])
    assert reminders.dcr_outcomes_notify() == 0
    assert len(_sent(wecom)) == 2


def test_a_next_best_action_kept_as_a_task_is_one_task(client_as, tiered, settings, tmp_path):
    settings.OMNIHCP_MODEL_DIR = tmp_path / "models"
    rep = client_as("rep_hangzhou")
    page = rep.get("/ff/today/").content.decode()
    assert "data-add-task" in page
    suggestion = Suggestion.objects.filter(rep__user__username="rep_hangzhou").first()

    first = rep.post(f"/ff/actions/{suggestion.pk}/task/", HTTP_HX_REQUEST="true")
    again = rep.post(f"/ff/actions/{suggestion.pk}/task/", HTTP_HX_REQUEST="true")

    task = Task.objects.get(source=TaskSource.NEXT_BEST_ACTION)
    assert first.status_code == again.status_code == 200
    assert task.hcp_id == suggestion.hcp_id
    assert task.title == suggestion.why()[:200]
    assert f'id="task-{task.pk}"' in first.content.decode()
    # another rep cannot take it
    assert client_as("rep_beijing").post(f"/ff/actions/{suggestion.pk}/task/").status_code == 404


def test_the_morning_reminder_goes_once_a_day_after_eight(cast_user, wecom):
    me = Employee.objects.get(user__username="rep_hangzhou")
    today = timezone.localdate()
    for n, due in enumerate((today, today - dt.timedelta(days=2), today + dt.timedelta(days=3))):
        task_open(
            assignee=me,
            hcp=None,
            source=TaskSource.MANAGER,
            title=f"task {n}",
            due_on=due,
            dedupe_key=f"r{n}",
        )
    early = timezone.localtime().replace(hour=6)
    morning = timezone.localtime().replace(hour=9)

    assert reminders.task_reminders_send(now=early) == 0
    assert reminders.task_reminders_send(now=morning) == 1
    assert reminders.task_reminders_send(now=morning + dt.timedelta(hours=2)) == 0

    message = _sent(wecom)[-1]
    assert message["touser"] == "rep_hangzhou"
    assert "2 tasks due today (1 overdue)" in message["textcard"]["description"]
    assert Task.objects.filter(status=TaskStatus.OPEN, assignee=me).count() == 3

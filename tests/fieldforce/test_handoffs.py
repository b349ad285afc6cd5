"""Hot signals: when a doctor shows interest, the owning rep hears at once — one task on the
today page and one WeCom message, however many signals the doctor sends."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from omnihcp.fieldforce.handoffs import handoffs_from_signals
from omnihcp.fieldforce.models import Task, TaskSource
from omnihcp.masterdata.models import ExternalIdentity
from omnihcp.org.selectors import reps_covering_hco

pytestmark = pytest.mark.django_db


def _event(n: int, name: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": f"m-{n}",
        "userId": "u-1",
        "event": name,
        "timestamp": timezone.now().isoformat(),
        "properties": {"channel": "wecom", "content_id": "c-7", **properties},
    }


def _run() -> Any:
    return handoffs_from_signals(settle=dt.timedelta(0))  # no event is still committing


@pytest.fixture
def reader(hangzhou_hcp: Any) -> Any:
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    _run()  # the cursor starts after the events already there
    return hangzhou_hcp


def test_a_deep_read_reaches_the_rep_once_as_a_task_and_a_wecom_message(
    segment, wecom, reader, client_as
):
    segment("batch", {"batch": [_event(1, "Content Read", title="高血压长期管理")]})

    first = _run()
    segment("batch", {"batch": [_event(2, "Content Read"), _event(3, "Survey Answered")]})
    second = _run()

    reps = list(reps_covering_hco(hco_id=reader.primary_hco_id))
    assert (first.tasks_opened, second.tasks_opened) == (len(reps), 0)
    task = Task.objects.get(hcp=reader, assignee__user__username="rep_hangzhou")
    assert task.source == TaskSource.HOT_SIGNAL
    assert [s["event"] for s in task.detail["signals"]] == [
        "Content Read",
        "Content Read",
        "Survey Answered",
    ]
    assert task.notified_at is not None
    sent = [body for path, body in wecom.state.requests if path == "/cgi-bin/message/send"]
    assert [b["touser"] for b in sent].count("rep_hangzhou") == 1
    card = next(b for b in sent if b["touser"] == "rep_hangzhou")["textcard"]
    assert reader.name in card["title"]
    assert card["url"].endswith("/ff/today/")

    page = client_as("rep_hangzhou").get("/ff/today/").content.decode()
    assert f'data-task="{reader.name}"' in page
    assert "高血压长期管理" in page


def test_a_low_quiz_score_is_not_a_hot_signal_and_a_high_one_is(segment, wecom, reader):
    segment("batch", {"batch": [_event(1, "Quiz Answered", score=40)]})
    assert _run().tasks_opened == 0

    segment("batch", {"batch": [_event(2, "Quiz Answered", score=90)]})
    assert _run().tasks_opened >= 1
    assert Task.objects.filter(hcp=reader, source=TaskSource.HOT_SIGNAL).exists()


def test_when_wecom_refuses_the_task_stays_and_the_error_is_kept(
    segment, wecom, reader, monkeypatch
):
    monkeypatch.setenv("OMNIHCP_WECOM_SECRET", "wrong")
    segment("batch", {"batch": [_event(1, "Visit Requested")]})

    result = _run()

    task = Task.objects.get(hcp=reader, assignee__user__username="rep_hangzhou")
    assert result.messages_sent == 0
    assert task.notified_at is None
    assert "40001" in task.notify_error
    assert "asked for a visit" in task.title


def test_a_closed_hot_lead_opens_again_on_a_new_signal(segment, wecom, reader, client_as):
    segment("batch", {"batch": [_event(1, "Content Read")]})
    _run()
    task = Task.objects.get(hcp=reader, assignee__user__username="rep_hangzhou")
    rep = client_as("rep_hangzhou")
    answer = rep.post(f"/ff/tasks/{task.pk}/close/", {"outcome": "done"}, HTTP_HX_REQUEST="true")
    assert "Done" in answer.content.decode()

    segment("batch", {"batch": [_event(2, "Content Read")]})
    _run()

    statuses = Task.objects.filter(hcp=reader, assignee__user__username="rep_hangzhou")
    assert sorted(statuses.values_list("status", flat=True)) == ["done", "open"]


def test_a_rep_who_left_gets_no_hand_off(segment, wecom, reader):
    from omnihcp.org.models import Employee

    Employee.objects.filter(user__username="rep_hangzhou").update(is_active=False)
    segment("batch", {"batch": [_event(1, "Content Read")]})

    _run()

    assert not Task.objects.filter(assignee__user__username="rep_hangzhou").exists()
    sent = [body["touser"] for path, body in wecom.state.requests if path.endswith("send")]
    assert "rep_hangzhou" not in sent

"""Rep training: marketing makes a course of content and a quiz, a manager assigns it to the
team's reps, the rep reads and passes the quiz (attempts and best score kept), managers see
completion; a course that gates sharing keeps a rep from sharing the brand's content until
passed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import questionnaire as q
from omnihcp.engagement.delivery import delivery_share
from omnihcp.engagement.models_training import Course, CourseAssignment
from omnihcp.org.models import Employee, Product
from tests.engagement.support import approved_content, consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def material(cast_user: Any) -> dict[str, Any]:
    author, reviewer = cast_user("marketing"), cast_user("medical")
    brand = Product.objects.order_by("code").first()
    first = approved_content(author, reviewer, title="产品机制")
    second = approved_content(author, reviewer, title="临床证据")
    first.products.add(brand)
    second.products.add(brand)
    quiz = approved_content(
        author,
        reviewer,
        title="产品知识测验",
        kind="quiz",
        body="两题。",
        questions=(
            q.QuestionDraft(kind="single", text="作用机制？", options="* 甲\n乙"),
            q.QuestionDraft(kind="single", text="推荐剂量？", options="一次\n* 两次"),
        ),
    )
    return {"brand": brand, "items": [first, second], "quiz": quiz}


def _course(client: Any, material: dict[str, Any], **extra: Any) -> Any:
    data = {
        "title": "新人产品培训",
        "items": [i.pk for i in material["items"]],
        "quiz": material["quiz"].pk,
        "pass_score": "80",
        "product": material["brand"].pk,
        "gates_sharing": "on",
    } | extra
    return client.post("/engagement/training/new/", data)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"items": []}, "items"),
        ({"quiz": ""}, "quiz"),
        ({"product": ""}, "product"),  # gating needs the brand
        ({"pass_score": "120"}, "pass_score"),
        ({"title": ""}, "title"),
    ],
)
def test_a_bad_course_is_refused_with_the_field_named(client_as, material, extra, field):
    response = _course(client_as("marketing"), material, **extra)
    assert response.status_code == 400
    assert f'data-error="{field}"' in response.content.decode()
    assert not Course.objects.exists()


def test_a_rep_reads_passes_and_the_manager_sees_it(client_as, material, hangzhou_hcp, cast_user):
    assert _course(client_as("marketing"), material).status_code == 302
    course = Course.objects.get()
    manager = client_as("dm_hangzhou")
    me = Employee.objects.get(user__username="rep_hangzhou")
    beijing = Employee.objects.get(user__username="rep_beijing")

    outside = manager.post(f"/engagement/training/{course.pk}/", {"employees": [beijing.pk]})
    assert 'data-error="employees"' in outside.content.decode()
    manager.post(f"/engagement/training/{course.pk}/", {"employees": [me.pk]})
    assert CourseAssignment.objects.filter(course=course).count() == 1

    rep = client_as("rep_hangzhou")
    assert 'data-course="新人产品培训"' in rep.get("/ff/today/").content.decode()
    # the brand's content cannot be shared before passing
    consent(hangzhou_hcp)
    with pytest.raises(ApplicationError) as refused:
        delivery_share(
            actor=cast_user("rep_hangzhou"),
            hcp=hangzhou_hcp,
            item=material["items"][0],
            channel="link",
            base_url="",
        )
    assert refused.value.field == "item"
    assert "新人产品培训" in refused.value.message

    early = rep.post(f"/engagement/training/{course.pk}/quiz/", {"q1": "0", "q2": "1"})
    assert early.status_code == 400
    assert "Read every item" in early.content.decode()
    for item in material["items"]:
        assert rep.get(f"/engagement/training/{course.pk}/items/{item.pk}/").status_code == 200
    failed = rep.post(f"/engagement/training/{course.pk}/quiz/", {"q1": "0", "q2": "0"})
    assert 'data-result="failed"' in failed.content.decode()
    assert "推荐剂量？" in failed.content.decode()  # the wrong one is named
    passed = rep.post(f"/engagement/training/{course.pk}/quiz/", {"q1": "0", "q2": "1"})
    assert 'data-result="passed"' in passed.content.decode()

    assignment = CourseAssignment.objects.get(course=course)
    assert (assignment.attempts, assignment.best_score) == (2, 100.0)
    assert assignment.passed_at is not None
    progress = manager.get(f"/engagement/training/{course.pk}/").content.decode()
    row = progress[progress.index(f'data-learner="{me.name}"') :]
    assert "2/2" in row[: row.index("</tr>")]
    team = manager.get("/ff/team/").content.decode()
    team_row = team[team.index(f'data-rep="{me.name}"') :]
    assert re.search(r"data-training>1/1<", team_row[: team_row.index("</tr>")])
    delivery = delivery_share(
        actor=cast_user("rep_hangzhou"),
        hcp=hangzhou_hcp,
        item=material["items"][0],
        channel="link",
        base_url="",
    )
    assert delivery.pk


def test_new_reps_get_the_course_and_others_cannot_open_it(client_as, material):
    import datetime as dt

    from django.utils import timezone

    _course(client_as("marketing"), material)
    course = Course.objects.get()
    me = Employee.objects.get(user__username="rep_hangzhou")
    me.hired_on = timezone.localdate() - dt.timedelta(days=10)
    me.save()
    Employee.objects.exclude(pk=me.pk).update(
        hired_on=timezone.localdate() - dt.timedelta(days=900)
    )

    client_as("marketing").post(f"/engagement/training/{course.pk}/", {"hired_within_days": "30"})

    assert list(course.assignments.values_list("employee_id", flat=True)) == [me.pk]
    assert client_as("rep_beijing").get(f"/engagement/training/{course.pk}/").status_code == 404
    assert client_as("rep_hangzhou").get("/engagement/training/new/").status_code == 404

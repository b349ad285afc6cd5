"""Quizzes and surveys: the builder's option syntax and its errors, questions approved with
their version, the doctor answering on the delivery page (score, explanations, once only),
survey answers setting tags, and the rep reading the latest answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import questionnaire, services
from omnihcp.engagement.models_questionnaire import AnswerTag, Question, Response
from omnihcp.org.models import Product
from omnihcp.tracking.models import Activity
from tests.engagement.support import approved_content, consent, link_of, share

Q = questionnaire.QuestionDraft

QUIZ = (
    Q(
        kind="single",
        text="高血压患者的一般降压目标是？",
        options="<140/90 mmHg\n* <130/80 mmHg\n<150/100 mmHg",
        explanation="2024 指南建议一般患者 <130/80 mmHg。",
    ),
    Q(
        kind="multiple",
        text="哪些属于一线降压药？",
        options="* ACEI\n* ARB\n硝酸甘油",
    ),
    Q(kind="text", text="您的临床困惑", required=False),
)
SURVEY = (
    Q(
        kind="single",
        text="您更喜欢哪种学习方式？",
        options="短视频 => 内容偏好:视频\n长文 => 内容偏好:文章\n线下会议",
    ),
    Q(kind="rating", text="您对本资料的评价", scale=5),
)


@pytest.fixture
def quiz(cast_user: Any) -> Any:
    return approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="降压知识测验",
        kind="quiz",
        body="请完成以下 3 题。",
        questions=QUIZ,
    )


@pytest.fixture
def survey(cast_user: Any) -> Any:
    return approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="学习偏好调研",
        kind="survey",
        body="1 分钟问卷。",
        questions=SURVEY,
    )


def _open_as_doctor(client_as: Any, hcp: Any, item: Any, *, profiling: bool = True) -> tuple:
    consent(hcp)
    link = link_of(share(client_as("rep_hangzhou"), hcp, item, key=f"k-{item.pk}"))
    doctor = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    doctor.post(f"{link}consent/", {"answer": "yes" if profiling else "no"})
    return doctor, link


@pytest.mark.parametrize(
    ("options", "kind", "quiz", "message"),
    [
        ("A\n* B\n* C", "single", True, "one correct answer"),
        ("A\nB", "single", True, "Mark the correct answer"),
        ("A\n* B => x", "single", True, "Line 2: tags are set by survey answers"),
        ("* A\nB", "single", False, "Line 1: a survey has no correct answers"),
        ("A => \nB", "single", False, "Line 1: write the tag"),
        ("A", "multiple", False, "Give 2 to 12 options"),
        ("A\nA", "single", False, "Two options are the same"),
        ("A\nB", "text", False, "Only choice questions have options"),
    ],
)
def test_the_builder_names_the_wrong_option_line(options, kind, quiz, message):
    with pytest.raises(ApplicationError) as refused:
        questionnaire.parse_options(options, kind=kind, quiz=quiz)

    assert message in str(refused.value.message)
    assert refused.value.field == "options"


def test_a_quiz_cannot_go_to_review_without_a_scored_question(cast_user):
    author = cast_user("marketing")
    area = Product.objects.order_by("code").first().therapy_area_id
    item = services.content_create(
        actor=author,
        draft=services.ContentDraft(title="空测验", kind="quiz", therapy_area_id=area, body="说明"),
    )
    with pytest.raises(ApplicationError, match="Add the questions"):
        services.content_submit(actor=author, item=item)
    questionnaire.question_add(actor=author, item=item, draft=Q(kind="text", text="感想"))
    with pytest.raises(ApplicationError, match="correct answer"):
        services.content_submit(actor=author, item=item)


def test_the_builder_page_adds_moves_and_removes_questions(client_as, cast_user):
    area = Product.objects.order_by("code").first().therapy_area_id
    item = services.content_create(
        actor=cast_user("marketing"),
        draft=services.ContentDraft(title="问卷", kind="survey", therapy_area_id=area, body="说明"),
    )
    page = f"/engagement/content/{item.pk}/questions/"
    author = client_as("marketing")

    bad = author.post(page, {"kind": "single", "text": "偏好？", "options": "* A\nB"})
    author.post(page, {"kind": "single", "text": "偏好？", "options": "A\nB => 偏好:B"})
    author.post(page, {"kind": "rating", "text": "评分", "scale": "7", "required": "on"})
    author.post(page, {"action": "up", "position": "2"})
    shown = author.get(page).content.decode()

    assert bad.status_code == 400
    assert 'data-error="options"' in bad.content.decode()
    assert "Line 1" in bad.content.decode()
    assert shown.index("评分") < shown.index("偏好？")
    assert "偏好:B" in shown
    author.post(page, {"action": "remove", "position": "1"})
    assert [q.text for q in Question.objects.filter(version__item=item)] == ["偏好？"]
    assert client_as("rep_hangzhou").post(page, {"kind": "text", "text": "x"}).status_code == 403


def test_questions_are_approved_with_their_version_and_copied_to_the_next_draft(quiz, cast_user):
    approved = quiz.approved_version
    questionnaire.question_add(
        actor=cast_user("marketing"), item=quiz, draft=Q(kind="text", text="新增一题")
    )

    latest = quiz.versions.order_by("-number").first()
    assert latest.number == approved.number + 1
    assert latest.status == "draft"
    assert approved.questions.count() == 3
    assert [q.text for q in latest.questions.all()][-1] == "新增一题"
    assert latest.questions.count() == 4


def test_the_doctor_answers_a_quiz_and_sees_the_score_and_explanations(
    client_as, hangzhou_hcp, quiz
):
    doctor, link = _open_as_doctor(client_as, hangzhou_hcp, quiz)
    form = doctor.get(link).content.decode()

    answered = doctor.post(
        f"{link}answers/", {"q1": "1", "q2": ["0"], "q3": "<b>何时加药</b>"}, follow=True
    )
    html = answered.content.decode()

    assert 'data-question="1"' in form
    assert "高血压患者的一般降压目标是？" in form
    assert re.search(r"data-score>[^<]*50 / 100", html), html[-3000:]
    assert html.count('data-correct="yes"') == 1
    assert html.count('data-correct="no"') == 1
    assert "2024 指南建议一般患者" in html
    assert "&lt;b&gt;何时加药&lt;/b&gt;" in html
    event = Activity.objects.get(event="Quiz Answered", hcp=hangzhou_hcp)
    assert event.properties["score"] == 50.0
    assert event.content_ref == quiz.code


def test_a_resubmitted_quiz_is_recorded_once(client_as, hangzhou_hcp, quiz):
    doctor, link = _open_as_doctor(client_as, hangzhou_hcp, quiz)

    doctor.post(f"{link}answers/", {"q1": "1", "q2": ["0", "1"]})
    doctor.post(f"{link}answers/", {"q1": "0", "q2": ["2"]})

    response = Response.objects.get()
    assert response.score == 100.0
    assert Activity.objects.filter(event="Quiz Answered").count() == 1


def test_a_missing_required_answer_is_named_and_nothing_is_saved(client_as, hangzhou_hcp, quiz):
    doctor, link = _open_as_doctor(client_as, hangzhou_hcp, quiz)

    refused = doctor.post(f"{link}answers/", {"q1": "1"})
    forged = doctor.post(f"{link}answers/", {"q1": "9", "q2": ["0"]})

    assert refused.status_code == 400
    assert 'data-error="q2"' in refused.content.decode()
    assert forged.status_code == 400
    assert not Response.objects.exists()


def test_survey_answers_set_tags_the_rep_can_read(client_as, hangzhou_hcp, survey):
    doctor, link = _open_as_doctor(client_as, hangzhou_hcp, survey)

    doctor.post(f"{link}answers/", {"q1": "0", "q2": "4"})
    page = client_as("rep_hangzhou").get(f"/engagement/hcps/{hangzhou_hcp.pk}/answers/")
    html = page.content.decode()

    tag = AnswerTag.objects.get(hcp=hangzhou_hcp)
    assert (tag.name, tag.value) == ("内容偏好", "视频")
    assert 'data-tag="内容偏好"' in html
    assert "视频" in html
    assert "短视频" in html
    assert "4 / 5" in html
    event = Activity.objects.get(event="Survey Answered", hcp=hangzhou_hcp)
    assert event.properties["tags"] == ["内容偏好:视频"]


def test_without_consent_to_profiling_answers_set_no_tag_and_reach_no_timeline(
    client_as, hangzhou_hcp, survey
):
    doctor, link = _open_as_doctor(client_as, hangzhou_hcp, survey, profiling=False)

    doctor.post(f"{link}answers/", {"q1": "1", "q2": "3"})

    assert Response.objects.count() == 1
    assert not AnswerTag.objects.exists()
    assert not Activity.objects.filter(event="Survey Answered").exists()


def test_a_rep_outside_the_territory_cannot_read_the_answers(client_as, beijing_hcp):
    page = client_as("rep_hangzhou").get(f"/engagement/hcps/{beijing_hcp.pk}/answers/")

    assert page.status_code == 404

"""Quizzes and surveys: building the questions of a draft version, and the HCP's answers.

The builder writes options one per line, the way an author drafts them in a document::

    * 血压控制在 130/80 mmHg 以下        ← "*" marks a correct answer (quizzes)
    每年复查一次 => 随访习惯:每年          ← "=> tag" sets an HCP tag (surveys)

and a refused line is named by its number. Answers come from the HCP's page of a delivery:
``response_submit`` validates every question (the error names it), scores a quiz (each scored
question one point; a multiple-choice answer is right only when it picks exactly the correct
options), records the response once per delivery, and, with the HCP's consent to profiling,
sets the survey's tags and puts "Quiz Answered" / "Survey Answered" on the timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement.consent import consent_allows
from omnihcp.engagement.delivery import consent_channel
from omnihcp.engagement.models import ContentItem, ContentKind, ContentVersion
from omnihcp.engagement.models_consent import ConsentPurpose
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.engagement.models_questionnaire import (
    Answer,
    AnswerTag,
    Question,
    QuestionKind,
    Response,
)
from omnihcp.engagement.services import draft_version
from omnihcp.governance.services import Actor, audit_append
from omnihcp.tracking.services import activity_record

MAX_QUESTIONS = 50
MAX_OPTIONS = 12
MAX_TEXT_ANSWER = 2000
TAG_ARROW = "=>"


@dataclass(frozen=True)
class QuestionDraft:
    kind: str
    text: str
    options: str = ""  # one per line, see the module docstring
    scale: int = 5
    explanation: str = ""
    required: bool = True


def parse_options(text: str, *, kind: str, quiz: bool) -> list[dict[str, Any]]:
    """The builder's option lines as stored options; ApplicationError names the bad line."""
    options: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        correct = line.startswith(("*", "＊"))
        line = line.lstrip("*＊").strip()
        tag = ""
        if TAG_ARROW in line:
            line, tag = (part.strip() for part in line.split(TAG_ARROW, 1))
            if quiz:
                raise ApplicationError(
                    _("Line %(n)s: tags are set by survey answers, not quiz answers.")
                    % {"n": number},
                    field="options",
                )
            if not tag or len(tag) > 100 or tag.count(":") > 1 or tag.startswith(":"):
                raise ApplicationError(
                    _("Line %(n)s: write the tag as name or name:value after =>.") % {"n": number},
                    field="options",
                )
        if correct and not quiz:
            raise ApplicationError(
                _("Line %(n)s: a survey has no correct answers; remove the *.") % {"n": number},
                field="options",
            )
        if not line or len(line) > 200:
            raise ApplicationError(
                _("Line %(n)s: an option needs 1 to 200 characters.") % {"n": number},
                field="options",
            )
        options.append({"text": line, "correct": correct, "tag": tag})
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if not 2 <= len(options) <= MAX_OPTIONS:
            raise ApplicationError(
                _("Give 2 to %(n)s options, one per line.") % {"n": MAX_OPTIONS}, field="options"
            )
        if len({o["text"] for o in options}) != len(options):
            raise ApplicationError(_("Two options are the same."), field="options")
        correct_count = sum(o["correct"] for o in options)
        if quiz and correct_count == 0:
            raise ApplicationError(
                _("Mark the correct answer with * at the start of its line."), field="options"
            )
        if kind == QuestionKind.SINGLE and correct_count > 1:
            raise ApplicationError(
                _("A single-choice question has one correct answer."), field="options"
            )
    elif options:
        raise ApplicationError(
            _("Only choice questions have options; leave this empty."), field="options"
        )
    return options


def _clean_question(draft: QuestionDraft, *, quiz: bool) -> dict[str, Any]:
    if draft.kind not in QuestionKind.values:
        raise ApplicationError(_("Choose a question type."), field="kind")
    text = draft.text.strip()
    if not text:
        raise ApplicationError(_("This field is required."), field="text")
    if len(text) > 500:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 500}, field="text")
    if draft.kind == QuestionKind.RATING and not 2 <= draft.scale <= 10:
        raise ApplicationError(_("A rating scale runs from 2 to 10."), field="scale")
    return {
        "kind": draft.kind,
        "text": text,
        "options": parse_options(draft.options, kind=draft.kind, quiz=quiz),
        "scale": draft.scale if draft.kind == QuestionKind.RATING else 5,
        "explanation": draft.explanation.strip()[:2000],
        "required": draft.required,
    }


def _editable(item: ContentItem, actor: Actor) -> tuple[ContentItem, ContentVersion]:
    if item.kind not in (ContentKind.QUIZ, ContentKind.SURVEY):
        raise ApplicationError(_("Only quizzes and surveys have questions."), code="invalid_state")
    item = ContentItem.objects.select_for_update().get(pk=item.pk)
    return item, draft_version(item=item, actor=actor)


def question_add(*, actor: Actor, item: ContentItem, draft: QuestionDraft) -> Question:
    """Add a question at the end of the draft version (a new draft if the latest is approved)."""
    fields = _clean_question(draft, quiz=item.kind == ContentKind.QUIZ)
    with transaction.atomic(durable=True):
        item, version = _editable(item, actor)
        last = version.questions.aggregate(last=Max("position"))["last"] or 0
        if version.questions.count() >= MAX_QUESTIONS:
            raise ApplicationError(
                _("At most %(n)s questions.") % {"n": MAX_QUESTIONS}, field="text"
            )
        question = Question.objects.create(version=version, position=last + 1, **fields)
        _audit(actor, item, "question.add", {"version": version.number, "text": fields["text"]})
    return question


def question_remove(*, actor: Actor, item: ContentItem, position: int) -> None:
    with transaction.atomic(durable=True):
        item, version = _editable(item, actor)
        deleted, _rows = version.questions.filter(position=position).delete()
        if not deleted:
            raise ApplicationError(_("No such question."), code="not_found")
        for number, question in enumerate(version.questions.order_by("position"), start=1):
            if question.position != number:
                question.position = number
                question.save(update_fields=["position"])
        _audit(actor, item, "question.remove", {"version": version.number, "position": position})


def question_move_up(*, actor: Actor, item: ContentItem, position: int) -> None:
    with transaction.atomic(durable=True):
        item, version = _editable(item, actor)
        pair = list(version.questions.filter(position__in=[position - 1, position]))
        if len(pair) != 2:
            raise ApplicationError(_("No such question."), code="not_found")
        for question in pair:
            question.position = position if question.position == position - 1 else position - 1
            question.save(update_fields=["position"])
        _audit(actor, item, "question.move", {"version": version.number, "position": position})


def _audit(actor: Actor, item: ContentItem, action: str, after: dict[str, Any]) -> None:
    audit_append(
        actor=actor,
        action=action,
        object_type="engagement.content",
        object_id=item.pk,
        after=after,
    )


def answer_check(question: Question, values: Sequence[str]) -> Answer | None:
    """One question's answer from the submitted values (unsaved, ``correct`` set for a scored
    question); None when skipped (if allowed)."""
    values = [v.strip() for v in values if v.strip()]
    if not values:
        if question.required:
            raise ApplicationError(
                _("Question %(n)s needs an answer.") % {"n": question.position},
                field=f"q{question.position}",
            )
        return None
    answer = Answer(question=question)
    if question.kind == QuestionKind.TEXT:
        answer.text = values[0][:MAX_TEXT_ANSWER]
        return answer
    if not all(v.isdigit() and len(v) < 4 for v in values):
        raise ApplicationError(
            _("Question %(n)s: choose from the answers shown.") % {"n": question.position},
            field=f"q{question.position}",
        )
    numbers = sorted({int(v) for v in values})
    if question.kind == QuestionKind.RATING:
        if len(numbers) != 1 or not 1 <= numbers[0] <= question.scale:
            raise ApplicationError(
                _("Question %(n)s: choose from the answers shown.") % {"n": question.position},
                field=f"q{question.position}",
            )
        answer.rating = numbers[0]
        return answer
    if any(n >= len(question.options) for n in numbers) or (
        question.kind == QuestionKind.SINGLE and len(numbers) > 1
    ):
        raise ApplicationError(
            _("Question %(n)s: choose from the answers shown.") % {"n": question.position},
            field=f"q{question.position}",
        )
    answer.choices = numbers
    if question.scored:
        right = [i for i, o in enumerate(question.options) if o.get("correct")]
        answer.correct = numbers == right
    return answer


def response_submit(
    *,
    delivery: Delivery,
    values: Mapping[str, Sequence[str]],
    at: dt.datetime | None = None,
) -> Response:
    """The HCP's answers to the questionnaire of ``delivery`` (``values``: ``q<position>`` →
    the submitted values). A second submission returns the first response unchanged."""
    done = Response.objects.filter(delivery=delivery).first()
    if done is not None:
        return done
    questions = list(delivery.version.questions.all())
    if not questions:
        raise ApplicationError(_("This content has no questions."), code="invalid_state")
    answers = [(q, answer_check(q, values.get(f"q{q.position}", ()))) for q in questions]
    scored = [a for q, a in answers if q.scored]
    score = None
    if delivery.item.kind == ContentKind.QUIZ and scored:
        score = round(100 * sum(1 for a in scored if a and a.correct) / len(scored), 1)
    try:
        with transaction.atomic(durable=True):
            response = Response.objects.create(
                delivery=delivery,
                hcp_id=delivery.hcp_id,
                item_id=delivery.item_id,
                version_id=delivery.version_id,
                channel=delivery.channel,
                sender_id=delivery.sender_id,
                score=score,
                submitted_at=at or timezone.now(),
            )
            for question, answer in answers:
                if answer is None:
                    continue
                if question.scored and answer.correct is None:
                    answer.correct = False
                answer.response = response
                answer.save()
            profiling = consent_allows(
                hcp_id=delivery.hcp_id,
                purpose=ConsentPurpose.PROFILING,
                channel=consent_channel(delivery),
            )
            tags = _tags(answers) if profiling else []
            AnswerTag.objects.bulk_create(
                AnswerTag(hcp_id=delivery.hcp_id, name=name, value=value, response=response)
                for name, value in tags
            )
    except IntegrityError:  # the same delivery answered at the same moment by a retry
        return Response.objects.get(delivery=delivery)
    if profiling:
        activity_record(module="engagement", events=[_event(delivery, response, answers, tags)])
    return response


def _tags(answers: list[tuple[Question, Answer | None]]) -> list[tuple[str, str]]:
    tags: list[tuple[str, str]] = []
    for question, answer in answers:
        if answer is None:
            continue
        for index in answer.choices:
            tag = question.options[index].get("tag", "")
            if tag:
                name, _sep, value = tag.partition(":")
                tags.append((name.strip()[:60], value.strip()[:100]))
    return tags


def _event(
    delivery: Delivery,
    response: Response,
    answers: list[tuple[Question, Answer | None]],
    tags: list[tuple[str, str]],
) -> dict[str, Any]:
    quiz = delivery.item.kind == ContentKind.QUIZ
    return {
        "message_id": f"response-{response.pk}",
        "hcp_id": delivery.hcp_id,
        "occurred_at": response.submitted_at,
        "event": "Quiz Answered" if quiz else "Survey Answered",
        "channel": delivery.channel,
        "content_ref": delivery.item.code,
        "properties": {
            "delivery": delivery.pk,
            "response": response.pk,
            **({"score": response.score} if response.score is not None else {}),
            "answers": [
                {"question": q.text[:200], "answer": a.display(q)[:500]}
                for q, a in answers
                if a is not None
            ][:MAX_QUESTIONS],
            "tags": [f"{n}:{v}" if v else n for n, v in tags],
        },
    }

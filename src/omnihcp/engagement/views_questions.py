"""The questionnaire builder: the questions of a quiz or survey, added, reordered and removed
on the draft version (a new draft when the latest is approved), with the option syntax of
``questionnaire``. Reviewers and authors see the questions of any version; a refused question
is shown on its field and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement import questionnaire, selectors
from omnihcp.engagement.models import ContentKind
from omnihcp.engagement.models_questionnaire import QuestionKind
from omnihcp.org.permissions import CONTENT_AUTHORS, MLR_REVIEWERS, require_role


def _position(value: str) -> int:
    if not value.isdigit() or len(value) > 4:
        raise ApplicationError(_("No such question."), code="not_found")
    return int(value)


@login_required
@require_http_methods(["GET", "POST"])
def content_questions(request: HttpRequest, content_id: int) -> HttpResponse:
    require_role(request.user, CONTENT_AUTHORS | MLR_REVIEWERS)
    item = selectors.content_get(content_id=content_id)
    if item.kind not in (ContentKind.QUIZ, ContentKind.SURVEY):
        raise NotFoundError(_("Only quizzes and surveys have questions."))
    errors: dict[str, str] = {}
    values: Any = {"kind": QuestionKind.SINGLE, "scale": "5", "required": "on"}
    if request.method == "POST":
        require_role(request.user, CONTENT_AUTHORS)
        post = request.POST
        try:
            action = post.get("action", "add")
            if action == "remove":
                questionnaire.question_remove(
                    actor=request.user, item=item, position=_position(post.get("position", ""))
                )
            elif action == "up":
                questionnaire.question_move_up(
                    actor=request.user, item=item, position=_position(post.get("position", ""))
                )
            else:
                scale = post.get("scale", "5")
                questionnaire.question_add(
                    actor=request.user,
                    item=item,
                    draft=questionnaire.QuestionDraft(
                        kind=post.get("kind", ""),
                        text=post.get("text", ""),
                        options=post.get("options", ""),
                        scale=int(scale) if scale.isdigit() and len(scale) < 3 else 0,
                        explanation=post.get("explanation", ""),
                        required=post.get("required") == "on",
                    ),
                )
            return redirect("engagement:content-questions", content_id=item.pk)
        except ApplicationError as exc:
            errors[exc.field or "text"] = exc.message
            values = post
    latest = selectors.content_versions(item=item).first()
    context = {
        "item": item,
        "version": latest,
        "questions": selectors.content_questions(version=latest),
        "editable": getattr(request.user, "role", None) in CONTENT_AUTHORS
        and latest is not None
        and latest.status != "in_review",
        "quiz": item.kind == ContentKind.QUIZ,
        "kinds": QuestionKind.choices,
        "errors": errors,
        "values": values,
    }
    return render(
        request, "engagement/content_questions.html", context, status=400 if errors else 200
    )

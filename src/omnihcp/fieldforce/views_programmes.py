"""Virtual-rep programme pages (``programmes.py``): the list and a new programme, a programme's
funnel, target list, target building and one-to-many sends, and the call screen of one target
(script, outcome, call-back, hand-off to the field rep). Also the field rep's feedback on a
hand-off, from the task card."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement.selectors import ContentFilter, content_list
from omnihcp.fieldforce import programmes, selectors
from omnihcp.fieldforce.models import Outcome, TargetStage, VisitKind
from omnihcp.fieldforce.views import _employee, _int, _moment
from omnihcp.org.permissions import request_scope
from omnihcp.org.selectors import product_list
from omnihcp.profiles.segments import segment_list


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (p, programmes.programme_funnel(programme=p))
        for p in programmes.programme_list(actor=request.user)[:50]
    ]
    context = {"rows": rows, "can_edit": programmes.may_edit(request.user)}
    return render(request, "fieldforce/programmes.html", context)


@login_required
def programme_new(request: HttpRequest) -> HttpResponse:
    if not programmes.may_edit(request.user):
        raise NotFoundError(_("No such page."))
    context: dict[str, Any] = {
        "products": product_list(),
        "segments": segment_list(),
        "scripts": programmes.script_choices(),
        "data": request.POST,
    }
    if request.method == "POST":
        data = request.POST
        days = data.get("unvisited_days", "").strip()
        try:
            if days and not days.isdigit():
                raise ApplicationError(_("This is not a number."), field="unvisited_days")
            programme = programmes.programme_create(
                actor=request.user,
                draft=programmes.ProgrammeDraft(
                    name=data.get("name", ""),
                    description=data.get("description", ""),
                    product_id=_int(data.get("product", "")),
                    segment_id=_int(data.get("segment", "")),
                    rule=data.get("rule", ""),
                    unvisited_days=int(days) if days else None,
                    script_id=_int(data.get("script", "")),
                ),
            )
        except ApplicationError as exc:
            context |= {"error": exc.message, "field": exc.field}
            return render(request, "fieldforce/programme_form.html", context, status=400)
        return redirect("fieldforce:programme", programme_id=programme.pk)
    return render(request, "fieldforce/programme_form.html", context)


@login_required
def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = programmes.programme_get(actor=request.user, programme_id=programme_id)
    context: dict[str, Any] = {
        "programme": programme,
        "can_edit": programmes.may_edit(request.user),
    }
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "build":
                added = programmes.targets_build(
                    actor=request.user, programme=programme, scope=request_scope(request)
                )
                context["notice"] = _("%(n)s doctors added to the targets.") % {"n": added}
            elif action == "send":
                campaign = programmes.outreach_send(
                    actor=request.user,
                    programme=programme,
                    scope=request_scope(request),
                    item_id=_int(request.POST.get("item", "")),
                    channel=request.POST.get("channel", ""),
                )
                context["notice"] = _(
                    "Sending to %(n)s doctors now; consent, the frequency cap and quiet hours "
                    "apply."
                ) % {"n": campaign.recipients.count()}
        except ApplicationError as exc:
            if isinstance(exc, NotFoundError):
                raise
            context |= {"error": exc.message, "field": exc.field}
    programmes.responses_absorb(programme=programme)
    stage = request.GET.get("stage", "")
    due = request.GET.get("due") == "1"
    page = Paginator(programmes.targets_page(programme=programme, stage=stage, due=due), 50)
    context |= {
        "funnel": programmes.programme_funnel(programme=programme),
        "targets": page.get_page(request.GET.get("page")),
        "stages": TargetStage.choices,
        "stage": stage,
        "due": due,
        "content": content_list(filters=ContentFilter(sendable=True)).order_by("title")[:100],
    }
    status = 400 if "error" in context else 200
    return render(request, "fieldforce/programme.html", context, status=status)


@login_required
def target_detail(request: HttpRequest, programme_id: int, target_id: int) -> HttpResponse:
    programme = programmes.programme_get(actor=request.user, programme_id=programme_id)
    target = programmes.target_get(programme=programme, target_id=target_id)
    context: dict[str, Any] = {"programme": programme, "target": target}
    if request.method == "POST":
        data = request.POST
        try:
            if data.get("action") == "handoff":
                programmes.handoff(actor=request.user, target=target, note=data.get("note", ""))
                context["notice"] = _("Handed off: the field rep has a task and a WeCom message.")
            else:
                programmes.call_record(
                    actor=request.user,
                    target=target,
                    draft=programmes.CallDraft(
                        outcome=data.get("outcome", ""),
                        channel=data.get("channel", ""),
                        client_key=data.get("client_key", ""),
                        notes=data.get("notes", ""),
                        values={k: data.getlist(k) for k in data if k.startswith("q")},
                        callback_at=_moment(
                            data.get("callback_at", ""), "callback_at", required=False
                        ),
                    ),
                )
                return redirect("fieldforce:target", programme_id=programme.pk, target_id=target.pk)
        except ApplicationError as exc:
            if isinstance(exc, NotFoundError):
                raise
            context |= {"error": exc.message, "field": exc.field, "data": data}
        target = programmes.target_get(programme=programme, target_id=target_id)
    context |= {
        "target": target,
        "questions": programmes.script_questions(programme),
        "outcomes": Outcome.choices,
        "channels": [c for c in VisitKind.choices if c[0] != VisitKind.FACE_TO_FACE],
        "calls": target.calls.select_related("by")[:20],
        "field_rep": programmes.field_rep_for(target),
        "client_key": uuid.uuid4().hex,
        "can_edit": programmes.may_edit(request.user),
    }
    status = 400 if "error" in context else 200
    return render(request, "fieldforce/target.html", context, status=status)


@login_required
@require_POST
def task_feedback(request: HttpRequest, task_id: int) -> HttpResponse:
    """The field rep's word on a virtual rep's hand-off, back to the programme."""
    employee = _employee(request)
    if employee is None:
        raise NotFoundError(_("No such task."))
    task = selectors.task_get(employee=employee, task_id=task_id)
    try:
        programmes.handoff_feedback(
            actor=request.user, task=task, text=request.POST.get("feedback", "")
        )
    except ApplicationError as exc:
        if isinstance(exc, NotFoundError):
            raise
        return render(
            request,
            "fieldforce/_task.html",
            {"task": task, "feedback_error": exc.message},
            status=400,
        )
    task.refresh_from_db()
    if not request.htmx:  # type: ignore[attr-defined]
        return redirect("fieldforce:today")
    return render(request, "fieldforce/_task.html", {"task": task})

"""The field-force API: a visit posted by a rep's app (the ``Idempotency-Key`` header is the
visit's key, so a retried post returns the visit already stored, 200 instead of 201) and the
caller's open tasks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from omnihcp.core.api import ERROR_RESPONSES, InSchema, RecordId
from omnihcp.core.errors import ApplicationError
from omnihcp.fieldforce import selectors, services
from omnihcp.fieldforce.models import VisitKind
from omnihcp.org.selectors import employee_for_user
from omnihcp.profiles.models import AdoptionStage

router = Router(tags=["field force"])
HEADER = "Idempotency-Key"


class LocationIn(InSchema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class VisitIn(InSchema):
    hcp_id: RecordId
    kind: VisitKind
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    check_in: LocationIn | None = None
    check_out: LocationIn | None = None
    product_ids: list[RecordId] = Field(default_factory=list, max_length=20)
    content_ids: list[RecordId] = Field(default_factory=list, max_length=20)
    stages: dict[int, AdoptionStage] = Field(default_factory=dict)
    key_messages: str = Field(default="", max_length=2000)
    feedback: str = Field(default="", max_length=4000)
    objections: str = Field(default="", max_length=4000)
    next_step: str = Field(default="", max_length=200)
    next_step_due: dt.date | None = None


class VisitOut(Schema):
    id: int
    hcp_id: int
    kind: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    distance_m: int | None
    far_from_hco: bool
    feedback: str
    next_step: str
    created_at: dt.datetime


class TaskOut(Schema):
    id: int
    hcp_id: int | None
    source: str
    title: str
    due_on: dt.date
    status: str
    detail: dict[str, Any]


def _location(value: LocationIn | None) -> services.Location | None:
    return services.Location(value.lat, value.lng) if value is not None else None


@router.post("/visits", response={200: VisitOut, 201: VisitOut, **ERROR_RESPONSES})
def create_visit(request: HttpRequest, payload: VisitIn) -> Status[Any]:
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise ApplicationError(
            _("Send an Idempotency-Key header: a retried visit must not be stored twice."),
            field=HEADER,
        )
    draft = services.VisitDraft(
        hcp_id=payload.hcp_id,
        kind=payload.kind,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        client_key=key,
        check_in=_location(payload.check_in),
        check_out=_location(payload.check_out),
        product_ids=payload.product_ids,
        content_ids=payload.content_ids,
        stages={k: str(v) for k, v in payload.stages.items()},
        key_messages=payload.key_messages,
        feedback=payload.feedback,
        objections=payload.objections,
        next_step=payload.next_step,
        next_step_due=payload.next_step_due,
    )
    visit, created = services.visit_log(actor=request.user, draft=draft)
    return Status(201 if created else 200, visit)


@router.get("/tasks", response={200: list[TaskOut], **ERROR_RESPONSES})
def list_tasks(request: HttpRequest) -> Any:
    """The caller's open tasks, soonest due first (at most 200)."""
    employee = employee_for_user(user=request.user)  # type: ignore[arg-type]
    if employee is None:
        return []
    return list(selectors.rep_open_tasks(employee=employee)[:200])

"""Segments: saved audiences written in the rule language, their members in the caller's
territory, their export to Excel, and a campaign for a segment (through engagement's
campaign service, which fixes the audience when the campaign is scheduled).

The Excel file is written with openpyxl in write-only mode, row by row, and holds no personal
information (code, name, title, institution, city, department).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.core.scope import DataScope
from omnihcp.engagement import campaigns
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.profiles.models import Segment
from omnihcp.profiles.rules import RuleError, rule_compile
from omnihcp.profiles.services import rule_error

EXPORT_MAX = 200_000


@dataclass(frozen=True)
class SegmentDraft:
    name: str
    rule: str
    description: str = ""


def _clean(draft: SegmentDraft, exclude: int | None = None) -> SegmentDraft:
    name = draft.name.strip()
    if not name:
        raise ApplicationError(_("This field is required."), field="name")
    if len(name) > 80:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 80}, field="name")
    others = Segment.objects.filter(name=name)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise ApplicationError(_("A segment of this name exists."), field="name")
    try:
        rule_compile(draft.rule)
    except RuleError as exc:
        raise rule_error(exc) from None
    return SegmentDraft(name, draft.rule.strip(), draft.description.strip()[:300])


def segment_save(*, actor: Actor, draft: SegmentDraft, segment: Segment | None = None) -> Segment:
    """Create a segment, or change ``segment``; the rule is checked first."""
    draft = _clean(draft, exclude=segment.pk if segment else None)
    with transaction.atomic(durable=True):
        before = {"name": segment.name, "rule": segment.rule} if segment else None
        segment = segment or Segment(created_by_id=actor.pk)
        segment.name, segment.rule, segment.description = draft.name, draft.rule, draft.description
        segment.save()
        audit_append(
            actor=actor,
            action="segment.save",
            object_type="profiles.segment",
            object_id=segment.pk,
            before=before,
            after={"name": segment.name, "rule": segment.rule},
        )
    return segment


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("created_by")


def segment_get(*, segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).first()
    if segment is None:
        raise NotFoundError(_("No such segment."))
    return segment


def segment_members(*, segment: Segment, scope: DataScope) -> QuerySet[HCP]:
    """The active doctors of the scope the segment's rule matches, in pinyin order."""
    doctors = scope.filter_hcos(HCP.objects.filter(status=RecordStatus.ACTIVE), "primary_hco_id")
    members: QuerySet[HCP] = rule_compile(segment.rule).apply(doctors)
    return members.select_related("primary_hco", "department").order_by("name_pinyin", "id")


def segment_workbook(*, segment: Segment, scope: DataScope) -> bytes:
    """The segment's doctors as an .xlsx file (no personal information)."""
    import openpyxl  # type: ignore[import-untyped]  # openpyxl ships no type information

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet(segment.name[:31])
    sheet.append([_("Code"), _("Name"), _("Title"), _("Institution"), _("City"), _("Department")])
    members = segment_members(segment=segment, scope=scope)
    for hcp in members[:EXPORT_MAX].iterator(chunk_size=2000):
        sheet.append(
            [
                hcp.code,
                hcp.name,
                str(hcp.get_title_display()),
                hcp.primary_hco.name,
                hcp.primary_hco.city,
                hcp.department.name if hcp.department else "",
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def segment_campaign(
    *, actor: Actor, scope: DataScope, segment: Segment, draft: dict[str, Any]
) -> Any:
    """Schedule a campaign to the segment's doctors as they are now."""
    ids = tuple(
        segment_members(segment=segment, scope=scope).values_list("pk", flat=True)[
            : campaigns.MAX_AUDIENCE + 1
        ]
    )
    if not ids:
        raise ApplicationError(_("No doctor is in this segment now."), field="codes")
    return campaigns.campaign_create(
        actor=actor,
        scope=scope,
        draft=campaigns.CampaignDraft(
            name=draft["name"],
            item_id=draft["item_id"],
            channel=draft["channel"],
            scheduled_at=draft["scheduled_at"],
            hcp_ids=ids,
            audience_label=segment.name,
        ),
    )

"""The training gate on sharing: a rep shares a brand's content with doctors only after
passing the course that gates it (``training``). Kept apart from ``training`` so that
``delivery`` can ask it without importing the quiz machinery."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from omnihcp.engagement.models import ContentItem
from omnihcp.engagement.models_training import Course
from omnihcp.org.models import Role

LEARNERS = {Role.REP, Role.VIRTUAL_REP}


def share_block(*, actor: Any, item: ContentItem) -> str:
    """Why a rep may not share this item yet ("" when they may): a gating course of one of
    the item's brands that the rep has not passed."""
    if str(getattr(actor, "role", "")) not in LEARNERS:
        return ""
    gates = Course.objects.filter(
        gates_sharing=True, product_id__in=item.products.values("id")
    ).order_by("title")
    employee = getattr(actor, "employee", None)
    for course in gates:
        passed = (
            employee is not None
            and course.assignments.filter(employee=employee, passed_at__isnull=False).exists()
        )
        if not passed:
            return _("Pass the course “%(course)s” before sharing this brand's content.") % {
                "course": course.title
            }
    return ""

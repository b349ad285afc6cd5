"""The HCP 360 page: one phone-first screen a rep opens before a visit — who the doctor is and
where they work, their owning reps, consent, tiers and adoption stages per product, interests
and tags by category, recent quiz and survey answers, what they read, the last 90 days of
activity and the latest events (the full timeline one tap away). Every section reads through
its module's selectors, and each is bounded, so the page stays fast at national scale. Below
the doctor's standing: the next best content, with reasons (recorded as suggestions), and the
viewing rep's next best action for this doctor, if today's list holds one."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from omnihcp.engagement import consent
from omnihcp.engagement import selectors as engagement
from omnihcp.masterdata.selectors import hcp_affiliations, hcp_get
from omnihcp.masterdata.selectors_identity import hcp_with_merged_ids
from omnihcp.org.permissions import request_scope
from omnihcp.org.selectors import employee_for_user, reps_covering_hco
from omnihcp.profiles import selectors
from omnihcp.profiles.interests import PREFIX
from omnihcp.profiles.models import TagCategory
from omnihcp.profiles.nba import NOT_RELEVANT_REASONS
from omnihcp.profiles.recommend import next_best_content
from omnihcp.tracking import selectors as tracking

RECENT = 8


@login_required
def hcp_360(request: HttpRequest, hcp_id: int) -> HttpResponse:
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    ids = hcp_with_merged_ids(hcp.pk)
    tags = list(selectors.hcp_tags(hcp=hcp))
    interests = sorted(
        (t for t in tags if t.definition.name.startswith(PREFIX)),
        key=lambda t: -(t.weight or 0),
    )
    others = [t for t in tags if not t.definition.name.startswith(PREFIX)]
    answers = consent.consent_current(hcp_id=hcp.pk)
    employee = employee_for_user(user=request.user)  # type: ignore[arg-type]
    context = {
        "hcp": hcp,
        "affiliations": hcp_affiliations(hcp=hcp)[:5],
        "reps": reps_covering_hco(hco_id=hcp.primary_hco_id)[:6],
        "consent": sorted(answers.items()),
        "tiers": selectors.hcp_tiers(hcp=hcp),
        "adoptions": selectors.hcp_adoptions(hcp=hcp),
        "proposals": selectors.hcp_proposals(hcp=hcp),
        "interests": [(t.definition.name.removeprefix(PREFIX), t.weight or 0) for t in interests],
        "tags_by_category": [
            (label, [t for t in others if t.definition.category == code])
            for code, label in TagCategory.choices
        ],
        "responses": engagement.hcp_responses(hcp_id=hcp.pk, limit=3),
        "reads": engagement.hcp_recent_reads(hcp_id=hcp.pk, limit=RECENT),
        "summary": tracking.hcp_activity_summary(hcp_ids=ids)[:RECENT],
        "events": tracking.hcp_timeline(hcp_ids=ids, filters=tracking.TimelineFilter())[:RECENT],
        "advice": next_best_content(hcp=hcp),
        "actions": selectors.hcp_open_actions(hcp=hcp, employee=employee),
        "reasons": NOT_RELEVANT_REASONS,
    }
    return render(request, "profiles/hcp_360.html", context)

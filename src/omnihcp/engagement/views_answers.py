"""An HCP's latest quiz and survey answers, and the tags their survey answers set: what a rep
reads before a visit. Anyone who may see the HCP may read it (404 outside the territory)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from omnihcp.engagement import selectors
from omnihcp.masterdata.selectors import hcp_get
from omnihcp.org.permissions import request_scope


@login_required
def hcp_answers(request: HttpRequest, hcp_id: int) -> HttpResponse:
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    context = {
        "hcp": hcp,
        "responses": selectors.hcp_responses(hcp_id=hcp.pk, limit=20),
        "tags": selectors.hcp_answer_tags(hcp_id=hcp.pk),
    }
    return render(request, "engagement/hcp_answers.html", context)

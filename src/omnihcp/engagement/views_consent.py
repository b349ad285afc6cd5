"""The consent page of an HCP: current answers per purpose × channel, the full history with
its evidence, and a form for a rep to record what the doctor told them (with how).

Anyone who may see the HCP may read it (404 outside the territory, as everywhere); the form is
for roles that talk to doctors. A refused answer is shown on its field and nothing is saved.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement import consent
from omnihcp.engagement.models_consent import ConsentChannel, ConsentPurpose, ConsentSource
from omnihcp.masterdata.selectors import hcp_get
from omnihcp.org.permissions import CONSENT_RECORDERS, request_scope, require_role


@login_required
@require_http_methods(["GET", "POST"])
def hcp_consent(request: HttpRequest, hcp_id: int) -> HttpResponse:
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        require_role(request.user, CONSENT_RECORDERS)
        post = request.POST
        granted = post.get("decision") == "grant"
        answers = [(post.get("purpose", ""), c, granted) for c in post.getlist("channels")]
        try:
            consent.consent_record(
                hcp_id=hcp.pk,
                answers=answers,
                source=ConsentSource.REP,
                actor=request.user,
                evidence={"note": post.get("note", "").strip()[:500]},
            )
        except ApplicationError as exc:
            errors[exc.field or "purpose"] = exc.message
        else:
            return redirect("engagement:hcp-consent", hcp_id=hcp.pk)
    current = consent.consent_current(hcp_id=hcp.pk)
    matrix = [
        (label, [(current.get((purpose, channel))) for channel in ConsentChannel.values])
        for purpose, label in ConsentPurpose.choices
    ]
    context = {
        "hcp": hcp,
        "channels": ConsentChannel.choices,
        "purposes": ConsentPurpose.choices,
        "matrix": matrix,
        "history": consent.consent_history(hcp_id=hcp.pk)[:200],
        "may_record": getattr(request.user, "role", None) in CONSENT_RECORDERS,
        "errors": errors,
        "values": request.POST,
    }
    return render(request, "engagement/hcp_consent.html", context, status=400 if errors else 200)

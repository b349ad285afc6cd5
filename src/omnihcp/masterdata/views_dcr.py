"""Pages of data change requests: the rep's form with "is it one of these?", their requests, and
the steward's queue and decision page.

The form asks the online matcher while the rep types (htmx posts name, hospital and the rest to
``dcr-suggest``; a POST keeps the phone number out of URLs and logs). Each form carries an
idempotency key, so a double tap records one request. Stewards see every request; everyone
else sees only their own, and proposes changes only to doctors in their data scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.core.pages import page_of, query_without_page
from omnihcp.core.scope import DataScope
from omnihcp.masterdata import dcr as dcr_services
from omnihcp.masterdata import selectors, selectors_dcr
from omnihcp.masterdata.dcr import Kind, Proposal, Status
from omnihcp.masterdata.hco_lookup import CONFIDENT
from omnihcp.masterdata.matching.online import AUTO, REVIEW, SCORER, Suggestion
from omnihcp.masterdata.models import HCP, DataChangeRequest, Gender, Title
from omnihcp.masterdata.selectors_dcr import DCRFilter
from omnihcp.org.permissions import (
    MASTERDATA_EDITORS,
    may_edit_masterdata,
    request_scope,
    require_role,
)

HCO_CHOICES = 300
FORM_FIELDS = (
    "name",
    "hospital",
    "department",
    "title",
    "gender",
    "mobile",
    "licence_no",
    "note",
    "deactivation_reason",
)
INLINE_FIELDS = {*FORM_FIELDS, "hco"}
LIKELIHOOD = {
    AUTO: gettext_lazy("Almost certainly this doctor"),
    REVIEW: gettext_lazy("Possibly this doctor"),
}
UNLIKELY = gettext_lazy("Probably someone else")


@dataclass(frozen=True)
class Shown:
    """One suggested doctor as a page shows it."""

    hcp: HCP | None
    probability: float
    outcome: str
    label: str
    reasons: tuple[str, ...]
    in_scope: bool


@dataclass(frozen=True)
class Row:
    field: str
    label: str
    current: str
    proposed: str
    differs: bool


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _shown(request: HttpRequest, matches: list[dict[str, Any]]) -> list[Shown]:
    ids = [int(m["hcp_id"]) for m in matches]
    hcps = selectors_dcr.hcps_by_id(ids)
    scope = request_scope(request)
    visible = set(
        selectors.hcp_list(scope=scope, filters=None)
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    return [
        Shown(
            hcp=hcps.get(int(m["hcp_id"])),
            probability=float(m["probability"]),
            outcome=str(m["outcome"]),
            label=str(LIKELIHOOD.get(str(m["outcome"]), UNLIKELY)),
            reasons=tuple(m.get("reasons", ())),
            in_scope=int(m["hcp_id"]) in visible,
        )
        for m in matches
    ]


def _as_matches(suggestions: list[Suggestion]) -> list[dict[str, Any]]:
    return [
        {
            "hcp_id": s.hcp_id,
            "probability": s.probability,
            "outcome": s.outcome,
            "reasons": s.reasons,
        }
        for s in suggestions
    ]


def _form_values(request: HttpRequest) -> dict[str, Any]:
    post = request.POST
    values: dict[str, Any] = {name: post.get(name, "").strip() for name in FORM_FIELDS}
    values["hco_id"] = _int(post.get("hco"))
    values["kind"] = post.get("kind", Kind.NEW_HCP)
    return values


def _form_context(request: HttpRequest, hcp: HCP | None) -> dict[str, Any]:
    scope = request_scope(request)
    hcos = list(selectors.hco_list(scope=scope).values_list("id", "name", "city")[:HCO_CHOICES])
    if hcp is not None and hcp.primary_hco_id not in {row[0] for row in hcos}:
        hco = hcp.primary_hco
        hcos.insert(0, (hco.pk, hco.name, hco.city))
    return {
        "hcp": hcp,
        "hcos": hcos,
        "titles": Title.choices,
        "genders": Gender.choices,
        "kinds": [(k, k.label) for k in (Kind.CHANGE_HCP, Kind.DEACTIVATE_HCP)],
        "deactivation_reasons": DataChangeRequest.DeactivationReason.choices,
    }


@login_required
def dcr_new(request: HttpRequest) -> HttpResponse:
    """Propose a new doctor, or (``?hcp=<id>``) a change to one in the rep's scope."""
    scope = request_scope(request)
    hcp_id = _int(request.GET.get("hcp") or request.POST.get("hcp"))
    hcp = selectors.hcp_get(scope=scope, hcp_id=hcp_id) if hcp_id is not None else None
    context = _form_context(request, hcp)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = _form_values(request)
        key = request.POST.get("idempotency_key", "")
        proposal = Proposal(
            kind=values["kind"] if hcp else Kind.NEW_HCP,
            idempotency_key=key,
            hcp_id=hcp.pk if hcp else None,
            name=values["name"],
            hco_id=values["hco_id"],
            hospital=values["hospital"],
            department=values["department"],
            title=values["title"],
            gender=values["gender"],
            mobile=values["mobile"],
            licence_no=values["licence_no"],
            deactivation_reason=values["deactivation_reason"],
            note=values["note"],
            none_of_these=request.POST.get("none_of_these") == "1",
        )
        try:
            dcr_services.dcr_submit(actor=request.user, scope=scope, proposal=proposal)
        except ApplicationError as exc:
            errors = {e.field or "form": e.message for e in exc.errors} or {"form": exc.message}
            if exc.code == "choose_match":
                suggestions = dcr_services.suggestions_for(values, mobile=values["mobile"])
                context["suggestions"] = _shown(request, _as_matches(suggestions))
        else:
            messages.success(request, _("Your request was sent to the data steward."))
            return redirect("masterdata:dcr-mine")
    elif hcp is not None:
        values = {
            "kind": Kind.CHANGE_HCP,
            "name": hcp.name,
            "hco_id": hcp.primary_hco_id,
            "hospital": "",
            "department": hcp.department.name if hcp.department else "",
            "title": hcp.title,
            "gender": hcp.gender,
        }
        key = uuid.uuid4().hex
    else:
        values = {"kind": Kind.NEW_HCP, "gender": Gender.UNKNOWN}
        key = uuid.uuid4().hex
    # Errors of fields the form shows go beside them; the others (kind, the choice among the
    # suggestions, an expired form) at the top.
    top = [message for field, message in errors.items() if field not in INLINE_FIELDS]
    context.update(values=values, errors=errors, top_error=top[0] if top else "")
    context["idempotency_key"] = key
    return render(request, "masterdata/dcr_new.html", context, status=400 if errors else 200)


@login_required
@require_POST
def dcr_suggest(request: HttpRequest) -> HttpResponse:
    """The "is it one of these?" fragment, asked by htmx while the rep types."""
    values = _form_values(request)
    if values["hco_id"] is not None:
        hco = selectors.hco_list(scope=request_scope(request)).filter(pk=values["hco_id"]).first()
        values["hco_id"] = hco.pk if hco else None
    suggestions = dcr_services.suggestions_for(values, mobile=values["mobile"])
    context = {
        "suggestions": _shown(request, _as_matches(suggestions)),
        "asked": bool(values["name"]),
    }
    return render(request, "masterdata/_dcr_suggestions.html", context)


@login_required
def dcr_mine(request: HttpRequest) -> HttpResponse:
    """The rep's requests with the steward's decisions; new decisions are marked unread once."""
    page = page_of(request, selectors_dcr.dcr_list_mine(actor=request.user))
    rows = [(dcr, dcr.is_unread) for dcr in page.object_list]
    unread = [dcr.pk for dcr, is_unread in rows if is_unread]
    if unread:
        dcr_services.dcr_outcomes_seen(actor=request.user, dcr_ids=unread)
    context = {"page": page, "rows": rows, "query": query_without_page(request)}
    return render(request, "masterdata/dcr_mine.html", context)


def _choice(value: str, choices: Any) -> str:
    return value if value in choices.values else ""


@login_required
def dcr_list(request: HttpRequest) -> HttpResponse:
    """The steward's queue of requests."""
    require_role(request.user, MASTERDATA_EDITORS)
    status = request.GET.get("status", Status.PENDING)
    filters = DCRFilter(
        status="" if status == "all" else _choice(status, Status) or Status.PENDING,
        kind=_choice(request.GET.get("kind", ""), Kind),
        province=request.GET.get("province", "").strip()[:20],
    )
    context = {
        "filters": filters,
        "page": page_of(request, selectors_dcr.dcr_list(filters=filters)),
        "statuses": Status.choices,
        "kinds": Kind.choices,
        "provinces": selectors_dcr.dcr_provinces(),
        "query": query_without_page(request),
    }
    return render(request, "masterdata/dcr_list.html", context)


def _comparison(dcr: DataChangeRequest) -> list[Row]:
    hcp = dcr.hcp
    proposed = dcr.proposed
    labels = {
        "name": _("Name"),
        "gender": _("Gender"),
        "title": _("Title"),
        "hospital": _("Institution"),
        "department": _("Department"),
        "mobile": _("Mobile phone"),
        "licence_no": _("Practising licence no."),
    }
    current: dict[str, str] = dict.fromkeys(labels, "")
    if hcp is not None:
        current = {
            "name": hcp.name,
            "gender": hcp.get_gender_display(),
            "title": hcp.get_title_display(),
            "hospital": hcp.primary_hco.name,
            "department": hcp.department.name if hcp.department else "",
            "mobile": hcp.mobile_masked,
            "licence_no": hcp.licence_masked,
        }
    if dcr.kind == Kind.DEACTIVATE_HCP:
        assert hcp is not None  # noqa: S101  (a database constraint)
        reason = proposed.get("deactivation_reason", "")
        label = DataChangeRequest.DeactivationReason(reason).label if reason else ""
        rows = [Row(n, str(labels[n]), current[n], current[n], False) for n in labels]
        rows.append(
            Row("status", _("Status"), hcp.get_status_display(), f"{_('Inactive')} · {label}", True)
        )
        return rows
    titles = dict(Title.choices)
    genders = dict(Gender.choices)
    wanted = {
        "name": str(proposed.get("name", "")),
        "gender": str(genders.get(proposed.get("gender", ""), "")),
        "title": str(titles.get(proposed.get("title", ""), "")),
        "hospital": str(proposed.get("hospital", "")),
        "department": str(proposed.get("department", "")),
        "mobile": dcr.mobile_masked,
        "licence_no": dcr.licence_masked,
    }
    hashes = {
        "mobile": (dcr.mobile_hash, hcp.mobile_hash if hcp else ""),
        "licence_no": (dcr.licence_hash, hcp.licence_hash if hcp else ""),
    }
    rows = []
    for name, label in labels.items():
        if name in hashes:  # PI is compared by blind index; a blank proposal keeps the value
            mine, theirs = hashes[name]
            differs = bool(mine) and mine != theirs
            shown = wanted[name] if mine else ""
        else:
            differs = hcp is not None and wanted[name] != current[name]
            shown = wanted[name]
        rows.append(Row(name, str(label), current[name], shown, differs))
    return rows


def _hco_guess(dcr: DataChangeRequest) -> str:
    """The code of the institution a typed hospital most likely is, to pre-fill the steward's
    field; empty when the rep chose one or none is likely."""
    if dcr.kind == Kind.DEACTIVATE_HCP or dcr.proposed.get("hco_id"):
        return ""
    found = SCORER.hospitals().lookup(str(dcr.proposed.get("hospital", "")), limit=1)
    if not found or found[0].score < CONFIDENT:
        return ""
    hco = selectors.hco_list(scope=DataScope.system()).filter(pk=found[0].hco_id).first()
    return hco.code if hco else ""


@login_required
def dcr_detail(request: HttpRequest, dcr_id: int) -> HttpResponse:
    """A request side by side with the doctor on file; stewards approve or reject it here."""
    steward = may_edit_masterdata(request.user)
    dcr = selectors_dcr.dcr_get(actor=request.user, dcr_id=dcr_id, all_requests=steward)
    errors: dict[str, str] = {}
    if request.method == "POST" and steward:
        decision = request.POST.get("decision", "")
        reason = request.POST.get("reason", "")
        try:
            if decision == "approve":
                dcr_services.dcr_approve(
                    actor=request.user,
                    dcr_id=dcr.pk,
                    reason=reason,
                    hco=request.POST.get("hco", ""),
                    create_anyway=request.POST.get("create_anyway") == "1",
                )
            elif decision == "reject":
                dcr_services.dcr_reject(actor=request.user, dcr_id=dcr.pk, reason=reason)
            else:
                raise ApplicationError(_("Choose approve or reject."), field="decision")
        except ApplicationError as exc:
            errors = {e.field or "form": e.message for e in exc.errors} or {"form": exc.message}
        else:
            messages.success(request, _("Decision saved. The rep will be told."))
            return redirect("masterdata:dcr-list")
    fresh: list[Shown] = []
    pending = dcr.status == Status.PENDING
    if steward and pending and dcr.kind == Kind.NEW_HCP:
        suggestions = dcr_services.suggestions_for(dcr.proposed)
        fresh = _shown(request, _as_matches(suggestions))
    context = {
        "dcr": dcr,
        "steward": steward,
        "pending": pending,
        "rows": _comparison(dcr),
        "shown": _shown(request, dcr.shown_matches),
        "fresh": fresh,
        "auto_match": next((s for s in fresh if s.outcome == AUTO), None),
        "needs_hco": steward
        and pending
        and dcr.kind != Kind.DEACTIVATE_HCP
        and not dcr.proposed.get("hco_id"),
        "hco_guess": _hco_guess(dcr) if steward and pending else "",
        "errors": errors,
        "posted": request.POST if errors else {},
    }
    return render(request, "masterdata/dcr_detail.html", context, status=400 if errors else 200)


@login_required
@require_POST
def dcr_withdraw(request: HttpRequest, dcr_id: int) -> HttpResponse:
    try:
        dcr_services.dcr_withdraw(actor=request.user, dcr_id=dcr_id)
    except ApplicationError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Your request was withdrawn."))
    return redirect("masterdata:dcr-mine")

"""Pages of the data steward's review queue: the queue, one candidate side by side, unmerge.

Only master-data editors reach them; everyone else gets the 403 page. A candidate's two
records are compared field by field on standardised values (the import's own standardisation),
so "主任医师" in a file and the title "chief physician" on file are the same value; personal
information is compared by its blind index between golden records and by its masked form
against a file row, and only ever shown masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.core.pages import page_of, query_without_page
from omnihcp.masterdata import merging, selectors, stewardship, textkeys
from omnihcp.masterdata.importing import mapping as import_fields
from omnihcp.masterdata.importing.rows import hco_row, hcp_row
from omnihcp.masterdata.matching.online import reasons_from
from omnihcp.masterdata.models import HCO, HCP, MatchCandidate, SourceRecord
from omnihcp.masterdata.selectors import SCORE_BANDS, CandidateFilter
from omnihcp.masterdata.standardise import hospital_name, person_name
from omnihcp.org.permissions import MASTERDATA_EDITORS, request_scope, require_role

HCP_ROWS = (
    ("name", gettext_lazy("Name")),
    ("gender", gettext_lazy("Gender")),
    ("title", gettext_lazy("Title")),
    ("specialty", gettext_lazy("Specialty")),
    ("department", gettext_lazy("Department")),
    ("hospital", gettext_lazy("Institution")),
    ("city", gettext_lazy("City")),
    ("mobile", gettext_lazy("Mobile phone")),
    ("licence_no", gettext_lazy("Practising licence no.")),
)
HCO_ROWS = (
    ("name", gettext_lazy("Name")),
    ("hco_type", gettext_lazy("Type")),
    ("level", gettext_lazy("Hospital level")),
    ("province", gettext_lazy("Province")),
    ("city", gettext_lazy("City")),
    ("address", gettext_lazy("Address")),
    ("uscc", gettext_lazy("USCC")),
    ("beds", gettext_lazy("Beds")),
)
# A compared field → the survivorship field a steward may choose for it when merging.
OVERRIDABLE = {
    "name": "name",
    "gender": "gender",
    "title": "title",
    "specialty": "specialty",
    "hospital": "primary_hco",
    "mobile": "mobile",
    "licence_no": "licence_no",
}
RULES = {
    stewardship.RULE_HCP_NAME: gettext_lazy("Same name at the same institution"),
    stewardship.RULE_HOSPITAL: gettext_lazy("The hospital name fits several institutions"),
    stewardship.RULE_HCO_NAME: gettext_lazy("Same standardised name in the same city"),
}
OUTCOMES = {
    "exact": gettext_lazy("exact"),
    "same": gettext_lazy("same"),
    "similar": gettext_lazy("similar"),
    "different": gettext_lazy("different"),
    "missing": gettext_lazy("missing on one side"),
}
COMPARISONS = {
    "name": gettext_lazy("Name"),
    "hospital": gettext_lazy("Institution"),
    "city": gettext_lazy("City"),
    "uscc": gettext_lazy("USCC"),
    "licence_no": gettext_lazy("Practising licence no."),
    "mobile": gettext_lazy("Mobile phone"),
    "department": gettext_lazy("Department"),
    "title": gettext_lazy("Title"),
}
BANDS = (
    ("high", gettext_lazy("0.9 and above")),
    ("medium", gettext_lazy("0.7 to 0.9")),
    ("low", gettext_lazy("below 0.7")),
    ("none", gettext_lazy("no score (rule)")),
)

# One side of a comparison: field → (what the page shows, what is compared); None: n/a.
Side = dict[str, tuple[str, Any] | None]


@dataclass(frozen=True)
class Line:
    field: str
    label: str
    left: str | None
    right: str | None
    differs: bool
    overridable: bool


def _steward(request: HttpRequest) -> None:
    require_role(request.user, MASTERDATA_EDITORS)


def _row_cells(record: SourceRecord) -> dict[str, str]:
    """The row as the file had it, by our field names; personal information masked."""
    if record.batch is None:
        return {}
    cells: dict[str, Any] = record.payload.get("row", {})
    shown: dict[str, str] = {}
    for name, column in record.batch.mapping.items():
        cell = cells.get(column, "")
        shown[name] = str(cell.get("masked", "")) if isinstance(cell, dict) else str(cell).strip()
    return shown


def _record_side(record: SourceRecord) -> Side:
    cells = _row_cells(record)
    clear = {k: v for k, v in cells.items() if k not in {"mobile", "licence_no"}}
    if record.entity_type == import_fields.HCO:
        values = hco_row(clear).values
        side: Side = {name: (cells.get(name, ""), values.get(name, "")) for name, _l in HCO_ROWS}
        side["name"] = (cells.get("name", ""), hospital_name(cells.get("name", "")).key)
        side["beds"] = (cells.get("beds", ""), str(values.get("beds") or ""))
        return side
    values = hcp_row(clear).values
    side = {name: (cells.get(name, ""), values.get(name, "")) for name, _l in HCP_ROWS}
    side["name"] = (cells.get("name", ""), person_name(values.get("name", "")))
    gender = values.get("gender", "")
    side["gender"] = (cells.get("gender", ""), "" if gender == "U" else gender)
    side["department"] = (cells.get("department", ""), textkeys.fold(values.get("department", "")))
    hospital = values.get("hospital")
    side["hospital"] = (cells.get("hospital", ""), hospital.key if hospital else "")
    side["city"] = (cells.get("city", "") or values.get("city", ""), values.get("city", ""))
    # PI is compared by its masked form: the file row's clear value stays encrypted.
    for name in ("mobile", "licence_no"):
        side[name] = (cells.get(name, ""), cells.get(name, ""))
    return side


def _hcp_side(hcp: HCP, *, masked_pi: bool) -> Side:
    hco = hcp.primary_hco
    department = hcp.department.name if hcp.department else ""
    return {
        "name": (hcp.name, person_name(hcp.name)),
        "gender": (hcp.get_gender_display(), "" if hcp.gender == "U" else hcp.gender),
        "title": (hcp.get_title_display(), hcp.title),
        "specialty": (hcp.specialty, hcp.specialty),
        "department": (department, textkeys.fold(department)),
        "hospital": (hco.name, hospital_name(hco.name).key),
        "city": (hco.city, hco.city),
        "mobile": (hcp.mobile_masked, hcp.mobile_masked if masked_pi else hcp.mobile_hash),
        "licence_no": (
            hcp.licence_masked,
            hcp.licence_masked if masked_pi else hcp.licence_hash,
        ),
    }


def _hco_side(hco: HCO, *, as_hospital: bool) -> Side:
    if as_hospital:  # an HCP row's hospital: only where the doctor works is compared
        side: Side = dict.fromkeys(name for name, _l in HCP_ROWS)
        side["hospital"] = (hco.name, hospital_name(hco.name).key)
        side["city"] = (hco.city, hco.city)
        return side
    return {
        "name": (hco.name, hospital_name(hco.name).key),
        "hco_type": (hco.get_hco_type_display(), hco.hco_type),
        "level": (hco.get_level_display() if hco.level else "", hco.level),
        "province": (hco.province, hco.province),
        "city": (hco.city, hco.city),
        "address": (hco.address, hco.address),
        "uscc": (hco.uscc or "", hco.uscc or ""),
        "beds": (str(hco.beds or ""), str(hco.beds or "")),
    }


def _sides(candidate: MatchCandidate) -> tuple[Side, Side]:
    record = candidate.source_record
    if record is not None:
        left = _record_side(record)
    elif candidate.left_hcp is not None:
        left = _hcp_side(candidate.left_hcp, masked_pi=False)
    else:
        assert candidate.left_hco is not None  # noqa: S101  (a database constraint)
        left = _hco_side(candidate.left_hco, as_hospital=False)
    if candidate.right_hcp is not None:
        right = _hcp_side(candidate.right_hcp, masked_pi=record is not None)
    else:
        assert candidate.right_hco is not None  # noqa: S101
        right = _hco_side(candidate.right_hco, as_hospital=candidate.entity_type == "hcp")
    return left, right


def comparison(candidate: MatchCandidate) -> list[Line]:
    """The two records field by field; ``differs`` where both have a value and they differ."""
    left, right = _sides(candidate)
    rows = HCO_ROWS if candidate.entity_type == import_fields.HCO else HCP_ROWS
    pair = candidate.source_record is None and candidate.right_hcp is not None
    lines = []
    for name, label in rows:
        mine, theirs = left.get(name), right.get(name)
        # A value only one side has is not a conflict: survivorship keeps the filled one.
        differs = bool(mine and theirs and mine[1] and theirs[1] and mine[1] != theirs[1])
        lines.append(
            Line(
                field=name,
                label=str(label),
                left=None if mine is None else mine[0],
                right=None if theirs is None else theirs[0],
                differs=differs,
                overridable=pair and differs and name in OVERRIDABLE,
            )
        )
    return lines


def explanation(candidate: MatchCandidate) -> dict[str, Any]:
    data = dict(candidate.explanation)
    rule = str(data.pop("rule", ""))
    model = data.pop("model", None)
    evidence = reasons_from(model.get("comparisons", {})) if isinstance(model, dict) else []
    return {
        "rule": str(RULES.get(rule, rule)),
        "model": model.get("model", "") if isinstance(model, dict) else "",
        "evidence": [str(reason) for reason in evidence],
        "comparisons": [
            (str(COMPARISONS.get(name, name)), str(OUTCOMES.get(str(value), value)), name)
            for name, value in data.items()
        ],
    }


def _filters(request: HttpRequest) -> CandidateFilter:
    status = request.GET.get("status", MatchCandidate.Status.OPEN)
    band = request.GET.get("band", "")
    entity_type = request.GET.get("entity_type", "")
    return CandidateFilter(
        source=request.GET.get("source", "").strip()[:40],
        entity_type=entity_type if entity_type in SourceRecord.EntityType.values else "",
        band=band if band in SCORE_BANDS or band == "none" else "",
        status=status if status in stewardship.UNDECIDED else MatchCandidate.Status.OPEN,
    )


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    _steward(request)
    filters = _filters(request)
    page = page_of(request, selectors.candidate_list(filters=filters))
    context = {
        "filters": filters,
        "page": page,
        "rows": [{"candidate": c, "left": _left_label(c)} for c in page.object_list],
        "sources": selectors.candidate_sources(),
        "entity_types": SourceRecord.EntityType.choices,
        "bands": BANDS,
        "statuses": [(s, s.label) for s in stewardship.UNDECIDED],
        "query": query_without_page(request),
    }
    return render(request, "masterdata/review_list.html", context)


def _left_label(candidate: MatchCandidate) -> str:
    record = candidate.source_record
    if record is not None:
        name = _row_cells(record).get("name", "")
        return f"{record.source} · {record.source_key or record.row_number} · {name}"
    hcp = candidate.left_hcp
    return f"{hcp.name} · {hcp.code}" if hcp is not None else str(candidate.left_hco)


@login_required
@require_POST
def review_bulk(request: HttpRequest) -> HttpResponse:
    _steward(request)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit() and len(v) < 19]
    back = request.POST.get("next", "")
    url = reverse("masterdata:review-list")
    if not ids:
        messages.error(request, _("Tick at least one candidate."))
    else:
        try:
            result = stewardship.candidates_decide(
                actor=request.user,
                candidate_ids=ids,
                decision=request.POST.get("decision", ""),
                reason=request.POST.get("reason", "").strip(),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            if result.done:
                count = len(result.done)
                messages.success(
                    request,
                    ngettext("%(count)s candidate decided.", "%(count)s candidates decided.", count)
                    % {"count": count},
                )
            for pk, why in result.failed.items():
                messages.error(
                    request, _("Candidate %(id)s: %(reason)s") % {"id": pk, "reason": why}
                )
    return redirect(f"{url}?{back}" if back else url)


def _overrides(request: HttpRequest, survivor: str) -> dict[str, str]:
    chosen = {}
    for name, field in OVERRIDABLE.items():
        keep = request.POST.get(f"keep-{name}", "")
        if keep in {"left", "right"}:
            chosen[field] = merging.SURVIVOR if keep == survivor else merging.MERGED
    return chosen


@login_required
def review_detail(request: HttpRequest, candidate_id: int) -> HttpResponse:
    _steward(request)
    candidate = selectors.candidate_get(candidate_id=candidate_id)
    error = ""
    if request.method == "POST":
        decision = request.POST.get("decision", "")
        reason = request.POST.get("reason", "").strip()
        survivor = request.POST.get("survivor", "left")
        try:
            if decision == stewardship.APPROVE:
                stewardship.candidate_approve(
                    actor=request.user,
                    candidate=candidate,
                    reason=reason,
                    survivor=survivor,
                    overrides=_overrides(request, survivor),
                )
            elif decision in stewardship.DECISIONS:
                stewardship.DECISIONS[decision](
                    actor=request.user, candidate=candidate, reason=reason
                )
            else:
                raise ApplicationError(_("Choose approve, reject or defer."), field="decision")
        except ApplicationError as exc:
            error = exc.message
            candidate = selectors.candidate_get(candidate_id=candidate_id)
        else:
            messages.success(request, _("Decision saved."))
            return redirect("masterdata:review-list")
    context = {
        "candidate": candidate,
        "left_label": _left_label(candidate),
        "lines": comparison(candidate),
        "explanation": explanation(candidate),
        "others": selectors.candidate_others(candidate=candidate),
        "is_pair": candidate.source_record_id is None,
        "undecided": candidate.status in stewardship.UNDECIDED,
        "error": error,
    }
    return render(request, "masterdata/review_detail.html", context, status=400 if error else 200)


@login_required
def hcp_unmerge(request: HttpRequest, event_id: int) -> HttpResponse:
    """Confirm (GET) and undo (POST) one merge of two doctors."""
    _steward(request)
    event = selectors.merge_event_get(event_id=event_id)
    assert event.survivor_hcp is not None  # noqa: S101  (the selector finds HCP merges only)
    selectors.hcp_get(scope=request_scope(request), hcp_id=event.survivor_hcp.pk)  # in scope
    hcp = event.survivor_hcp
    error = ""
    if request.method == "POST":
        try:
            merging.hcp_unmerge(actor=request.user, merge_event=event)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, _("The merge was undone."))
            return redirect("masterdata:hcp-detail", hcp_id=hcp.pk)
    context = {"hcp": hcp, "event": event, "error": error}
    return render(request, "masterdata/review_unmerge.html", context, status=400 if error else 200)

"""Data change requests (DCRs): a rep proposes a new, changed or retired doctor; a steward decides.

A proposal is checked when it is handed in by the very services that will apply it
(``services.hcp_create`` / ``hcp_update`` run inside a savepoint that is rolled back), so a rep
learns of a bad phone number at once, not days later from the steward. A new doctor is matched
online against the whole master (``matching.online.match_hcp``); what the rep was shown and
whether they chose "none of these" is kept. Approval applies the change through the same
services in one transaction and, for a new doctor, matches again first: if the master now holds
the doctor (an AUTO match), approval links the request to that doctor unless the steward
confirms that this is someone else. The rep is told the outcome on "My change requests" and by
``notify_outcome`` (email now; WeCom plugs in there).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError, FieldError, NotFoundError
from omnihcp.core.records import full_clean_or_raise
from omnihcp.core.scope import DataScope
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata import selectors, services, textkeys
from omnihcp.masterdata.matching.online import AUTO, HCPQuery, Suggestion, match_hcp
from omnihcp.masterdata.merging import actor_user
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    DataChangeRequest,
    Gender,
    HCODepartment,
    RecordStatus,
    Title,
)
from omnihcp.masterdata.validation import normalise_licence, normalise_mobile

logger = logging.getLogger(__name__)

DCR = DataChangeRequest
Kind = DataChangeRequest.Kind
Status = DataChangeRequest.Status
MAX_REASON = 500
MAX_NOTE = 500
SUGGESTIONS = 5
# A service's field → the field of the DCR form that holds it.
FORM_FIELDS = {"primary_hco": "hco", "status": "kind"}


@dataclass(frozen=True)
class Proposal:
    """What a rep handed in; PI in clear only here, on its way to being encrypted."""

    kind: str
    idempotency_key: str
    hcp_id: int | None = None
    name: str = ""
    hco_id: int | None = None
    hospital: str = ""  # typed when the hospital is not one to choose
    department: str = ""
    title: str = ""
    gender: str = ""
    mobile: str = ""
    licence_no: str = ""
    deactivation_reason: str = ""
    note: str = ""
    none_of_these: bool = False


class _DryRun(Exception):
    """Raised inside a savepoint to roll back a write that was run only to validate."""


def _dry_run(write: Callable[[], object]) -> None:
    try:
        with transaction.atomic():
            write()
            raise _DryRun
    except _DryRun:
        pass


def _form_error(exc: ApplicationError) -> ApplicationError:
    errors = [FieldError(FORM_FIELDS.get(e.field or "", e.field), e.message) for e in exc.errors]
    return ApplicationError(exc.message, code=exc.code, errors=errors)


def _text(value: str, *, field: str, limit: int) -> str:
    value = " ".join(value.split())
    if len(value) > limit:
        raise ApplicationError(
            _("At most %(limit)s characters.") % {"limit": limit}, field=field, code="too_long"
        )
    return value


# --- placing the doctor: institution and department -------------------------------------------


def _department(*, actor: Actor | None, hco: HCO, name: str) -> HCODepartment | None:
    """The HCO's department of that name, created (through its service) when it has none."""
    if not name:
        return None
    found = HCODepartment.objects.filter(hco=hco, name=textkeys.fold(name)).first()
    if found is not None:
        return found
    return services.hco_department_create(actor=actor, hco=hco, name=name)


def _hco_from_text(text: str) -> HCO:
    """The HCO a steward named by code or id."""
    text = text.strip()
    query = Q(code__iexact=text)
    if text.isdigit() and len(text) < 19:
        query |= Q(pk=int(text))
    hco = HCO.objects.filter(query, status=RecordStatus.ACTIVE).first()
    if hco is None:
        raise ApplicationError(_("No active institution has this code."), field="hco")
    return hco


def hcp_query(values: dict[str, Any], *, mobile: str = "", mobile_hash: str = "") -> HCPQuery:
    """The online matcher's question for proposed values."""
    return HCPQuery(
        name=str(values.get("name", "")),
        hospital="" if values.get("hco_id") else str(values.get("hospital", "")),
        hco_id=values.get("hco_id") or None,
        department=str(values.get("department", "")),
        title=str(values.get("title", "")),
        gender=str(values.get("gender", "")),
        mobile=mobile,
        mobile_hash=mobile_hash,
    )


def suggestions_for(values: dict[str, Any], *, mobile: str = "") -> list[Suggestion]:
    """ "Is it one of these?": the master's doctors most like the proposed one, best first."""
    if not str(values.get("name", "")).strip():
        return []
    try:
        mobile = normalise_mobile(mobile) if mobile else ""
    except ApplicationError:
        mobile = ""  # not a number yet (still typing): match without it
    return match_hcp(hcp_query(values, mobile=mobile), limit=SUGGESTIONS)


# --- handing a proposal in --------------------------------------------------------------------


def _values(proposal: Proposal, scope: DataScope) -> tuple[dict[str, Any], HCO | None]:
    kind = proposal.kind
    if kind == Kind.DEACTIVATE_HCP:
        reason = proposal.deactivation_reason
        if reason not in DCR.DeactivationReason.values:
            raise ApplicationError(
                _("Say why the doctor should be deactivated."), field="deactivation_reason"
            )
        return {"deactivation_reason": reason}, None
    hco = None
    if proposal.hco_id is not None:
        try:
            hco = selectors.hco_get(scope=scope, hco_id=proposal.hco_id)
        except NotFoundError as exc:
            raise ApplicationError(
                _("Choose an institution in your territory."), field="hco"
            ) from exc
    values: dict[str, Any] = {
        "name": _text(proposal.name, field="name", limit=40),
        "hco_id": hco.pk if hco else None,
        "hospital": hco.name if hco else _text(proposal.hospital, field="hospital", limit=120),
        "department": _text(proposal.department, field="department", limit=60),
        "title": proposal.title,
        "gender": proposal.gender or Gender.UNKNOWN,
    }
    if not values["name"]:
        raise ApplicationError(_("Enter the doctor's name."), field="name")
    if not values["hospital"]:
        raise ApplicationError(_("Choose the institution or type its name."), field="hospital")
    if values["title"] not in Title.values:
        raise ApplicationError(_("Choose the doctor's title."), field="title")
    if values["gender"] not in Gender.values:
        raise ApplicationError(_("Choose male, female or unknown."), field="gender")
    return values, hco


def _service_data(
    *, actor: Actor | None, values: dict[str, Any], hco: HCO, mobile: str, licence: str
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": values["name"],
        "title": values["title"],
        "gender": values["gender"],
        "primary_hco": hco,
        "department": _department(actor=actor, hco=hco, name=values["department"]),
    }
    if mobile:
        data["mobile"] = mobile
    if licence:
        data["licence_no"] = licence
    return data


def _changes(hcp: HCP, data: dict[str, Any]) -> dict[str, Any]:
    """The part of ``data`` that differs from the doctor on file."""
    changed = {}
    for name, value in data.items():
        if name == "mobile":
            differs = pi.blind_index(value) != hcp.mobile_hash
        elif name == "licence_no":
            differs = pi.blind_index(value) != hcp.licence_hash
        else:
            differs = getattr(hcp, name) != value
        if differs:
            changed[name] = value
    return changed


def _fresh(hcp: HCP) -> HCP:
    # A dry run changes the instance it is given even though the database rolls back.
    return HCP.objects.select_related("primary_hco", "department").get(pk=hcp.pk)


def _validate(
    *, actor: Actor, proposal: Proposal, hcp: HCP | None, values: dict[str, Any], hco: HCO | None
) -> tuple[str, str]:
    """Check the proposal with the services that will apply it; return (mobile, licence)."""
    mobile = normalise_mobile(proposal.mobile) if proposal.mobile.strip() else ""
    licence = normalise_licence(proposal.licence_no) if proposal.licence_no.strip() else ""
    if proposal.kind == Kind.DEACTIVATE_HCP:
        assert hcp is not None  # noqa: S101  (checked by the caller)
        _dry_run(
            lambda: services.hcp_update(
                actor=actor, hcp=_fresh(hcp), data={"status": RecordStatus.INACTIVE}
            )
        )
        return "", ""
    if hco is None:
        # A hospital typed, not chosen: the steward places the doctor, and the services check
        # the whole record then; until then the fields are checked on their own.
        candidate = HCP(name=values["name"], title=values["title"], gender=values["gender"])
        full_clean_or_raise(candidate, exclude=["code", "primary_hco", "department"])
        return mobile, licence
    if hcp is None:
        _dry_run(
            lambda: services.hcp_create(
                actor=actor,
                data=_service_data(
                    actor=actor, values=values, hco=hco, mobile=mobile, licence=licence
                ),
            )
        )
        return mobile, licence

    def update() -> None:
        target = _fresh(hcp)
        data = _service_data(actor=actor, values=values, hco=hco, mobile=mobile, licence=licence)
        changes = _changes(target, data)
        if not changes:
            raise ApplicationError(_("Nothing differs from the doctor on file."), code="no_change")
        services.hcp_update(actor=actor, hcp=target, data=changes)

    _dry_run(update)
    return mobile, licence


def _matches_shown(suggestions: list[Suggestion]) -> list[dict[str, Any]]:
    return [
        {
            "hcp_id": s.hcp_id,
            "probability": round(s.probability, 4),
            "outcome": s.outcome,
            "reasons": list(s.reasons),
        }
        for s in suggestions
    ]


def dcr_snapshot(dcr: DataChangeRequest) -> dict[str, Any]:
    """The request for the audit log: PI only masked."""
    return {
        "kind": dcr.kind,
        "hcp": dcr.hcp_id,
        "proposed": dcr.proposed,
        "mobile": dcr.mobile_masked,
        "licence_no": dcr.licence_masked,
        "status": dcr.status,
        "reason": dcr.reason,
        "result_hcp": dcr.result_hcp_id,
        "none_of_these": dcr.none_of_these,
    }


@transaction.atomic
def dcr_submit(*, actor: Actor, scope: DataScope, proposal: Proposal) -> DataChangeRequest:
    """Record a rep's proposal, validated as the services that apply it would validate it."""
    key = proposal.idempotency_key.strip()
    if not key or len(key) > 64:
        raise ApplicationError(_("This form has expired; open it again."), field="idempotency_key")
    # Idempotency: a double tap or a retried POST carries the same key and gets the first DCR.
    existing = DCR.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.requested_by_id != actor.pk:
            raise ApplicationError(
                _("This form has expired; open it again."), field="idempotency_key"
            )
        return existing
    if proposal.kind not in Kind.values:
        raise ApplicationError(_("Choose what you propose."), field="kind")
    hcp = None
    if proposal.kind != Kind.NEW_HCP:
        if proposal.hcp_id is None:
            raise ApplicationError(_("Choose the doctor."), field="hcp")
        hcp = selectors.hcp_get(scope=scope, hcp_id=proposal.hcp_id)  # 404 outside the scope
        if hcp.status != RecordStatus.ACTIVE:
            raise ApplicationError(_("This doctor is no longer active."), field="hcp")
    values, hco = _values(proposal, scope)
    try:
        mobile, licence = _validate(actor=actor, proposal=proposal, hcp=hcp, values=values, hco=hco)
    except ApplicationError as exc:
        raise _form_error(exc) from exc
    shown: list[Suggestion] = []
    if proposal.kind == Kind.NEW_HCP:
        # The same question the form asked while the rep typed, so this is what they saw.
        shown = suggestions_for(values, mobile=mobile)
        if shown and not proposal.none_of_these:
            raise ApplicationError(
                _("Is it one of the doctors suggested? Choose one, or “None of these”."),
                field="none_of_these",
                code="choose_match",
            )
    place = hco or (hcp.primary_hco if hcp else None)
    dcr = DCR(
        kind=proposal.kind,
        hcp=hcp,
        proposed=values,
        province=place.province if place else "",
        note=_text(proposal.note, field="note", limit=MAX_NOTE),
        requested_by_id=actor.pk,
        shown_matches=_matches_shown(shown),
        none_of_these=bool(shown) and proposal.none_of_these,
        idempotency_key=key,
        mobile_encrypted=pi.encrypt(mobile),
        mobile_hash=pi.blind_index(mobile),
        mobile_masked=pi.mask_phone(mobile) if mobile else "",
        licence_encrypted=pi.encrypt(licence),
        licence_hash=pi.blind_index(licence),
        licence_masked=pi.mask_licence(licence) if licence else "",
    )
    try:
        with transaction.atomic():
            dcr.save()
    except IntegrityError:
        # The same form submitted twice at once: the other request recorded it.
        return DCR.objects.get(idempotency_key=key, requested_by=actor.pk)
    audit_append(
        actor=actor,
        action="dcr.submit",
        object_type="dcr",
        object_id=dcr.pk,
        after=dcr_snapshot(dcr),
    )
    return dcr


# --- the steward's decision and the rep's withdrawal --------------------------------------------


def _locked(dcr_id: int) -> DataChangeRequest:
    dcr = DCR.objects.select_for_update().filter(pk=dcr_id).first()
    if dcr is None:
        raise NotFoundError(_("No such change request."))
    if dcr.status != Status.PENDING:
        raise ApplicationError(
            _("This change request was already decided: %(status)s.")
            % {"status": dcr.get_status_display()},
            code="decided",
        )
    return dcr


def _decide(
    *, actor: Actor, dcr: DataChangeRequest, status: str, reason: str, result: HCP | None
) -> DataChangeRequest:
    before = {"status": dcr.status}
    dcr.status = status
    dcr.reason = reason
    dcr.decided_by = actor_user(actor)
    dcr.decided_at = timezone.now()
    dcr.result_hcp = result
    dcr.save(
        update_fields=["status", "reason", "decided_by", "decided_at", "result_hcp", "updated_at"]
    )
    audit_append(
        actor=actor,
        action=f"dcr.{status}",
        object_type="dcr",
        object_id=dcr.pk,
        before=before,
        after=dcr_snapshot(dcr),
    )
    dcr_id = dcr.pk
    transaction.on_commit(lambda: notify_outcome(DCR.objects.get(pk=dcr_id)))
    return dcr


def _proposed_pi(dcr: DataChangeRequest) -> tuple[str, str]:
    # Decrypted only to be encrypted again on the HCP, inside this transaction; no person
    # sees it, so this is no reveal for the access log.
    return pi.decrypt(dcr.mobile_encrypted), pi.decrypt(dcr.licence_encrypted)


def _placed_hco(dcr: DataChangeRequest, hco: str, current: HCO | None = None) -> HCO:
    """Where the doctor will work: as the steward names it, else as the rep chose it."""
    if hco.strip():
        return _hco_from_text(hco)
    hco_id = dcr.proposed.get("hco_id")
    if hco_id:
        found = HCO.objects.filter(pk=hco_id, status=RecordStatus.ACTIVE).first()
        if found is not None:
            return found
    elif current is not None and dcr.proposed.get("hospital") == current.name:
        return current
    raise ApplicationError(
        _("The rep typed the hospital: enter the code of the institution it is."), field="hco"
    )


def _current_hcp(dcr: DataChangeRequest) -> HCP:
    """The doctor to change: the survivor if the one proposed on was merged meanwhile."""
    assert dcr.hcp_id is not None  # noqa: S101  (a database constraint)
    hcp = selectors.hcp_get(scope=DataScope.system(), hcp_id=dcr.hcp_id)
    return (
        # Only the HCP row: PostgreSQL cannot lock the nullable side of the department join.
        HCP.objects.select_for_update(of=("self",))
        .select_related("primary_hco", "department")
        .get(pk=hcp.pk)
    )


@transaction.atomic
def dcr_approve(
    *,
    actor: Actor,
    dcr_id: int,
    reason: str = "",
    hco: str = "",
    create_anyway: bool = False,
) -> DataChangeRequest:
    """Apply a proposal through the HCP services; a new doctor the master now holds is linked.

    ``hco`` (a code or id) places a doctor whose hospital the rep typed; ``create_anyway``
    creates a new doctor although the online matcher is sure the master has them.
    """
    dcr = _locked(dcr_id)
    reason = _text(reason, field="reason", limit=MAX_REASON)
    mobile, licence = _proposed_pi(dcr)
    try:
        if dcr.kind == Kind.NEW_HCP:
            query = hcp_query(dcr.proposed, mobile_hash=dcr.mobile_hash)
            same = next((s for s in match_hcp(query, limit=1) if s.outcome == AUTO), None)
            if same is not None and not create_anyway:
                result = HCP.objects.get(pk=same.hcp_id)
            else:
                place = _placed_hco(dcr, hco)
                data = _service_data(
                    actor=actor, values=dcr.proposed, hco=place, mobile=mobile, licence=licence
                )
                result = services.hcp_create(actor=actor, data=data)
        elif dcr.kind == Kind.CHANGE_HCP:
            result = _current_hcp(dcr)
            place = _placed_hco(dcr, hco, result.primary_hco)
            data = _service_data(
                actor=actor, values=dcr.proposed, hco=place, mobile=mobile, licence=licence
            )
            services.hcp_update(actor=actor, hcp=result, data=_changes(result, data))
        else:
            result = _current_hcp(dcr)
            services.hcp_update(actor=actor, hcp=result, data={"status": RecordStatus.INACTIVE})
    except ApplicationError as exc:
        raise _form_error(exc) from exc
    return _decide(actor=actor, dcr=dcr, status=Status.APPROVED, reason=reason, result=result)


@transaction.atomic
def dcr_reject(*, actor: Actor, dcr_id: int, reason: str) -> DataChangeRequest:
    dcr = _locked(dcr_id)
    reason = _text(reason, field="reason", limit=MAX_REASON)
    if not reason:
        raise ApplicationError(_("Tell the rep why the request is rejected."), field="reason")
    return _decide(actor=actor, dcr=dcr, status=Status.REJECTED, reason=reason, result=None)


@transaction.atomic
def dcr_withdraw(*, actor: Actor, dcr_id: int) -> DataChangeRequest:
    """The rep takes back a request the steward has not decided yet."""
    dcr = _locked(dcr_id)
    if dcr.requested_by_id != actor.pk:
        raise NotFoundError(_("No such change request."))
    before = {"status": dcr.status}
    dcr.status = Status.WITHDRAWN
    dcr.save(update_fields=["status", "updated_at"])
    audit_append(
        actor=actor,
        action="dcr.withdraw",
        object_type="dcr",
        object_id=dcr.pk,
        before=before,
        after={"status": dcr.status},
    )
    return dcr


@transaction.atomic
def dcr_outcomes_seen(*, actor: Actor, dcr_ids: list[int]) -> int:
    """Mark the rep's decided requests as read; only a read marker, so not audited."""
    return DCR.objects.filter(
        pk__in=dcr_ids,
        requested_by=actor.pk,
        status__in=[Status.APPROVED, Status.REJECTED],
        outcome_seen_at__isnull=True,
    ).update(outcome_seen_at=timezone.now())


def notify_outcome(dcr: DataChangeRequest) -> None:
    """Tell the rep what the steward decided; WeCom's app message will plug in here."""
    user = dcr.requested_by
    if not user.email:
        return
    with translation.override(settings.LANGUAGE_CODE):
        values = {"name": dcr.name, "status": dcr.get_status_display()}
        subject = _("Your change request for %(name)s: %(status)s") % values
        lines = [subject]
        if dcr.reason:
            lines.append(_("Data steward's reason: %(reason)s") % {"reason": dcr.reason})
        lines.append(
            _("See your change requests: %(path)s") % {"path": reverse("masterdata:dcr-mine")}
        )
    try:
        send_mail(subject, "\n\n".join(lines), None, [user.email])
    except OSError:
        # The decision stands; the rep still sees it on "My change requests".
        logger.warning("could not email the outcome of DCR %s", dcr.pk, exc_info=True)

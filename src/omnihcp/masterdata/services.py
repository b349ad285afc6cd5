"""Writes of master data: create and change HCOs, departments and HCPs, reveal PI.

Every write validates (field-named errors), runs in one transaction and appends to the audit
chain. Personal information never enters the audit log in clear: only its masked form.
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError, PermissionDeniedError
from omnihcp.core.records import apply_changes, full_clean_or_raise, snapshot
from omnihcp.core.scope import DataScope
from omnihcp.governance.services import Actor, audit_append, pi_access_record
from omnihcp.masterdata import textkeys
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    Affiliation,
    HCODepartment,
    HCOType,
    RecordStatus,
    StandardDepartment,
)
from omnihcp.masterdata.validation import normalise_licence, normalise_mobile, normalise_uscc

HCO_FIELDS = (
    "code",
    "name",
    "short_name",
    "hco_type",
    "level",
    "province",
    "city",
    "district",
    "address",
    "uscc",
    "beds",
    "status",
    "parent",
)
HCP_FIELDS = (
    "code",
    "name",
    "gender",
    "title",
    "position",
    "specialty",
    "primary_hco",
    "department",
    "mobile_masked",
    "licence_masked",
    "status",
)
HCO_EDITABLE = frozenset(HCO_FIELDS) - {"code"}
HCP_EDITABLE = frozenset(HCP_FIELDS) - {"code", "mobile_masked", "licence_masked"} | {
    "mobile",
    "licence_no",
}


def _temporary_code() -> str:
    return f"tmp-{uuid.uuid4().hex[:16]}"


def _set_hco_keys(hco: HCO) -> None:
    hco.name = unicodedata.normalize("NFKC", hco.name).strip()
    hco.name_pinyin = textkeys.pinyin_key(hco.name)[:400]
    hco.name_initials = textkeys.initials_key(hco.name)[:120]


def _normalise_hco(hco: HCO) -> None:
    hco.uscc = normalise_uscc(hco.uscc) if hco.uscc else None
    _set_hco_keys(hco)


def _check_hco_rules(hco: HCO) -> None:
    """Rules across fields, checked once every field is valid on its own."""
    if hco.hco_type != HCOType.HOSPITAL and hco.level:
        raise ApplicationError(_("Only hospitals have a hospital level."), field="level")
    if hco.parent_id is not None and hco.parent_id == hco.pk:
        raise ApplicationError(_("An HCO cannot be its own parent."), field="parent")


@transaction.atomic
def hco_create(*, actor: Actor | None, data: dict[str, Any]) -> HCO:
    unknown = set(data) - HCO_EDITABLE
    if unknown:
        raise ApplicationError(_("Unknown field."), field=sorted(unknown)[0])
    hco = HCO(code=_temporary_code(), **data)
    _normalise_hco(hco)
    full_clean_or_raise(hco, exclude=["code"])
    _check_hco_rules(hco)
    hco.save()
    hco.code = f"HCO{hco.pk:08d}"
    hco.save(update_fields=["code"])
    audit_append(
        actor=actor,
        action="hco.create",
        object_type="hco",
        object_id=hco.pk,
        after=snapshot(hco, HCO_FIELDS),
    )
    return hco


@transaction.atomic
def hco_update(*, actor: Actor | None, hco: HCO, data: dict[str, Any]) -> HCO:
    unknown = set(data) - HCO_EDITABLE
    if unknown:
        raise ApplicationError(_("Unknown field."), field=sorted(unknown)[0])
    before = snapshot(hco, HCO_FIELDS)
    changed = apply_changes(hco, data)
    if not changed:
        return hco
    _normalise_hco(hco)
    full_clean_or_raise(hco)
    _check_hco_rules(hco)
    hco.save(update_fields=[*changed, "uscc", "name", "name_pinyin", "name_initials", "updated_at"])
    audit_append(
        actor=actor,
        action="hco.update",
        object_type="hco",
        object_id=hco.pk,
        before=before,
        after=snapshot(hco, HCO_FIELDS),
    )
    return hco


def standard_department_for(name: str) -> StandardDepartment | None:
    """Map an HCO's own department name to the dictionary by name or synonym."""
    folded = textkeys.fold(name)
    exact = StandardDepartment.objects.filter(name=folded).first()
    if exact is not None:
        return exact
    for department in StandardDepartment.objects.exclude(synonyms=[]):
        if folded in department.synonyms:
            return department
    return None


@transaction.atomic
def hco_department_create(
    *, actor: Actor | None, hco: HCO, name: str, standard: StandardDepartment | None = None
) -> HCODepartment:
    name = textkeys.fold(name)
    if HCODepartment.objects.filter(hco=hco, name=name).exists():
        raise ApplicationError(_("This HCO already has a department of that name."), field="name")
    department = HCODepartment(
        hco=hco, name=name, standard=standard or standard_department_for(name)
    )
    full_clean_or_raise(department)
    department.save()
    audit_append(
        actor=actor,
        action="hco_department.create",
        object_type="hco",
        object_id=hco.pk,
        after={"department": department.pk, "name": name},
    )
    return department


def _apply_personal_information(hcp: HCP, data: dict[str, Any]) -> list[str]:
    changed: list[str] = []
    if "mobile" in data:
        raw = data.pop("mobile")
        mobile = normalise_mobile(raw) if raw else ""
        if pi.blind_index(mobile) != hcp.mobile_hash:
            hcp.mobile_encrypted = pi.encrypt(mobile)
            hcp.mobile_hash = pi.blind_index(mobile)
            hcp.mobile_masked = pi.mask_phone(mobile)
            changed += ["mobile_encrypted", "mobile_hash", "mobile_masked"]
    if "licence_no" in data:
        raw = data.pop("licence_no")
        licence = normalise_licence(raw) if raw else ""
        if pi.blind_index(licence) != hcp.licence_hash:
            hcp.licence_encrypted = pi.encrypt(licence)
            hcp.licence_hash = pi.blind_index(licence)
            hcp.licence_masked = pi.mask_licence(licence)
            changed += ["licence_encrypted", "licence_hash", "licence_masked"]
            duplicate = (
                HCP.objects.filter(licence_hash=hcp.licence_hash, status=RecordStatus.ACTIVE)
                .exclude(pk=hcp.pk)
                .values_list("code", flat=True)
                .first()
            )
            if licence and duplicate:
                raise ApplicationError(
                    _("HCP %(code)s already has this practising licence number.")
                    % {"code": duplicate},
                    field="licence_no",
                )
    return changed


def _check_hcp(hcp: HCP) -> None:
    if hcp.department is not None and hcp.department.hco_id != hcp.primary_hco_id:
        raise ApplicationError(
            _("The department must belong to the HCP's primary HCO."), field="department"
        )
    if hcp.primary_hco_id is not None and hcp.primary_hco.status != RecordStatus.ACTIVE:
        raise ApplicationError(_("This HCO is not active."), field="primary_hco")
    hcp.name = unicodedata.normalize("NFKC", hcp.name).strip()
    hcp.name_pinyin = textkeys.pinyin_key(hcp.name)[:200]
    hcp.name_initials = textkeys.initials_key(hcp.name)[:40]


def _sync_primary_affiliation(hcp: HCP) -> None:
    Affiliation.objects.filter(hcp=hcp, is_primary=True).exclude(hco=hcp.primary_hco).update(
        is_primary=False
    )
    Affiliation.objects.update_or_create(
        hcp=hcp,
        hco=hcp.primary_hco,
        defaults={"is_primary": True, "department": hcp.department},
    )


@transaction.atomic
def hcp_create(*, actor: Actor | None, data: dict[str, Any]) -> HCP:
    data = dict(data)
    unknown = set(data) - HCP_EDITABLE
    if unknown:
        raise ApplicationError(_("Unknown field."), field=sorted(unknown)[0])
    hcp = HCP(code=_temporary_code())
    _apply_personal_information(hcp, data)
    for name, value in data.items():
        setattr(hcp, name, value)
    _check_hcp(hcp)
    full_clean_or_raise(hcp, exclude=["code"])
    hcp.save()
    hcp.code = f"HCP{hcp.pk:08d}"
    hcp.save(update_fields=["code"])
    _sync_primary_affiliation(hcp)
    audit_append(
        actor=actor,
        action="hcp.create",
        object_type="hcp",
        object_id=hcp.pk,
        after=snapshot(hcp, HCP_FIELDS),
    )
    return hcp


@transaction.atomic
def hcp_update(*, actor: Actor | None, hcp: HCP, data: dict[str, Any]) -> HCP:
    data = dict(data)
    unknown = set(data) - HCP_EDITABLE
    if unknown:
        raise ApplicationError(_("Unknown field."), field=sorted(unknown)[0])
    before = snapshot(hcp, HCP_FIELDS)
    changed = _apply_personal_information(hcp, data)
    changed += apply_changes(hcp, data)
    if not changed:
        return hcp
    _check_hcp(hcp)
    full_clean_or_raise(hcp)
    hcp.save(update_fields=[*changed, "name", "name_pinyin", "name_initials", "updated_at"])
    if {"primary_hco", "department"} & set(changed):
        _sync_primary_affiliation(hcp)
    audit_append(
        actor=actor,
        action="hcp.update",
        object_type="hcp",
        object_id=hcp.pk,
        before=before,
        after=snapshot(hcp, HCP_FIELDS),
    )
    return hcp


PI_FIELDS = {
    "mobile": "mobile_encrypted",
    "licence_no": "licence_encrypted",
    "email": "email_encrypted",
}
PI_MASKED = {"mobile": "mobile_masked", "licence_no": "licence_masked", "email": "email_masked"}


def hcp_email_set(*, actor: Actor | None, hcp: HCP, email: str) -> HCP:
    """Record the doctor's email address (encrypted, shown masked), e.g. from their card."""
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ApplicationError(_("Enter a valid email address."), field="email") from None
    with transaction.atomic():
        hcp.email_encrypted = pi.encrypt(email)
        hcp.email_masked = pi.mask_email(email)
        hcp.save(update_fields=["email_encrypted", "email_masked", "updated_at"])
        audit_append(
            actor=actor,
            action="hcp.email",
            object_type="hcp",
            object_id=hcp.pk,
            after={"email": hcp.email_masked},
        )
    return hcp


@transaction.atomic
def hcp_pi_reveal(
    *, actor: Actor, scope: DataScope, hcp: HCP, field: str, purpose: str = ""
) -> str:
    """Decrypt one personal-information field for an allowed role, logging the reveal."""
    if field not in PI_FIELDS:
        raise ApplicationError(_("Unknown field."), field="field")
    if not scope.may_reveal_pi:
        raise PermissionDeniedError(_("Your role may not see doctors' personal information."))
    value = pi.decrypt(getattr(hcp, PI_FIELDS[field]))
    pi_access_record(
        actor=actor, subject_type="hcp", subject_id=hcp.pk, field=field, purpose=purpose
    )
    return value

"""Tiering: per product, a doctor's potential (high / medium by two rules in the rule
language, else low) × support (from the adoption stage) gives tier A, B or C, and each tier a
call frequency. ``tiers_compute`` writes every active doctor's tier for the product in one
transaction: two rule queries and one read of the stages, then a bulk write.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.org.models import Product
from omnihcp.profiles.models import LEVELS, TIERS, Adoption, HCPTier, TierMatrix
from omnihcp.profiles.rules import RuleError, rule_compile

SUPPORT = {
    "advocate": "high",
    "regular": "high",
    "trial": "medium",
    "interested": "medium",
    "aware": "low",
    "unaware": "low",
}
DEFAULT_CELLS = {
    "high/high": "A",
    "high/medium": "A",
    "high/low": "B",
    "medium/high": "A",
    "medium/medium": "B",
    "medium/low": "C",
    "low/high": "B",
    "low/medium": "C",
    "low/low": "C",
}
DEFAULT_FREQUENCIES = {"A": 4, "B": 2, "C": 1}
BATCH = 5000


@dataclass(frozen=True)
class MatrixDraft:
    high_rule: str
    medium_rule: str
    cells: dict[str, str]
    frequencies: dict[str, Any]


def _check_rule(text: str, field: str, required: bool) -> str:
    text = text.strip()
    if not text and not required:
        return ""
    try:
        rule_compile(text)
    except RuleError as exc:
        raise ApplicationError(str(exc), field=field, code="rule") from None
    return text


def matrix_save(*, actor: Actor, product: Product, draft: MatrixDraft) -> TierMatrix:
    high = _check_rule(draft.high_rule, "high_rule", required=True)
    medium = _check_rule(draft.medium_rule, "medium_rule", required=False)
    cells = {}
    for potential in LEVELS:
        for support in LEVELS:
            key = f"{potential}/{support}"
            tier = draft.cells.get(key, "")
            if tier not in TIERS:
                raise ApplicationError(_("Choose a tier for every cell."), field=key)
            cells[key] = tier
    frequencies = {}
    for tier in TIERS:
        value = str(draft.frequencies.get(tier, "")).strip()
        if not value.isdigit() or not 0 <= int(value) <= 31:
            raise ApplicationError(
                _("Calls a month: a whole number from 0 to 31."), field=f"frequency_{tier}"
            )
        frequencies[tier] = int(value)
    with transaction.atomic(durable=True):
        matrix, _created = TierMatrix.objects.update_or_create(
            product=product,
            defaults={
                "high_rule": high,
                "medium_rule": medium,
                "cells": cells,
                "frequencies": frequencies,
                "updated_by_id": actor.pk,
            },
        )
        audit_append(
            actor=actor,
            action="tiers.matrix",
            object_type="profiles.tiermatrix",
            object_id=matrix.pk,
            after={"product": product.code, "high": high, "medium": medium, "cells": cells},
        )
    return matrix


def tiers_compute(*, matrix: TierMatrix, now: dt.datetime | None = None) -> Counter[str]:
    """Every active doctor's tier for the matrix's product; how many in each tier."""
    now = now or timezone.now()
    doctors = HCP.objects.filter(status=RecordStatus.ACTIVE)
    high = set(rule_compile(matrix.high_rule).apply(doctors).values_list("pk", flat=True))
    medium: set[int] = set()
    if matrix.medium_rule:
        medium = set(rule_compile(matrix.medium_rule).apply(doctors).values_list("pk", flat=True))
    stages = dict(Adoption.objects.filter(product=matrix.product).values_list("hcp_id", "stage"))
    counts: Counter[str] = Counter()
    rows = []
    for pk in doctors.values_list("pk", flat=True).iterator(chunk_size=BATCH):
        potential = "high" if pk in high else "medium" if pk in medium else "low"
        support = SUPPORT.get(stages.get(pk, "unaware"), "low")
        tier = matrix.cells.get(f"{potential}/{support}", "C")
        counts[tier] += 1
        rows.append(
            HCPTier(
                hcp_id=pk,
                product=matrix.product,
                potential=potential,
                support=support,
                tier=tier,
                computed_at=now,
            )
        )
    with transaction.atomic():
        HCPTier.objects.filter(product=matrix.product).delete()
        HCPTier.objects.bulk_create(rows, batch_size=BATCH)
        TierMatrix.objects.filter(pk=matrix.pk).update(computed_at=now)
    return counts

"""Online matching of one institution (an imported HCO row) against the master's HCOs.

Candidates come from the hospital index (``hco_lookup.HospitalIndex``: exact keys, then
rapidfuzz within the city, the province, the country) and from USCC equality; each is scored
by the trained Splink HCO model's own SQL, run as the HCP matcher runs its model
(``online.score``), so every pair gets a probability and the same thresholds apply: at or
above ``auto`` it is that HCO, in the review band a steward decides, below it is a new
institution. Two campuses of one hospital are two HCOs: a pair whose campuses differ (one
named, the other another or none) is never decided automatically, whatever its probability.

The model (roles in ``data/hco_master.toml``) compares the standardised name within the city
(``comparisons``: 第一人民医院 is near-certain in the same city and says nothing across two),
the address, the USCC like a licence number, and level and type as exact values. It is shipped
in ``data/hco_model.json``, trained with labels on the demo generator's noisy HCO records::

    python -m omnihcp.demo.noisy_hco hco_training.csv
    omnihcp mdm train hco_training.csv --entity hco --label truth

and a model trained later (``MatchingModel``, entity type hco) replaces it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from omnihcp.masterdata.matching.config import LinkageConfig, load_config
from omnihcp.masterdata.matching.online import (
    AUTO,
    DATA,
    REVIEW,
    Scored,
    Scorer,
    ranked,
    reasons_from,
    score,
)
from omnihcp.masterdata.matching.prepare import UNIQUE_ID, prepare_row
from omnihcp.masterdata.models import HCO, RecordStatus
from omnihcp.masterdata.standardise import hospital_name

HCO_CONFIG = DATA / "hco_master.toml"
# Candidates from the hospital index: the few names nearest the query.
CANDIDATES = 8
SCORER = Scorer("hco")
# The config's generic comparison names, as the steward reads them (explanations, reasons).
COMPARISON_NAMES = {"exact_0": "level", "exact_1": "hco_type", "licence": "uscc"}
FIELDS = ("id", "name", "city", "address", "level", "hco_type", "uscc")


@dataclass(frozen=True)
class HCOQuery:
    name: str
    city: str = ""
    province: str = ""
    address: str = ""
    level: str = ""
    hco_type: str = ""
    uscc: str = ""


@dataclass(frozen=True)
class HCOSuggestion:
    hco_id: int
    probability: float
    outcome: str
    reasons: tuple[str, ...]
    explanation: dict[str, Any] = field(default_factory=dict)
    match_weight: float = 0.0
    other_campus: bool = False  # the two name different campuses: a steward decides


@cache
def hco_config() -> LinkageConfig:
    return load_config(HCO_CONFIG)


def _prepared(values: dict[str, str]) -> dict[str, Any]:
    config = hco_config()
    prepared = prepare_row(values, config.left, date_order=config.date_order)
    return {key: (value if value != "" else None) for key, value in prepared.items()}


def _query_values(query: HCOQuery) -> dict[str, str]:
    return {
        "record_id": "query",
        "name": query.name,
        "city": query.city,
        "address": query.address,
        "level": query.level,
        "hco_type": query.hco_type,
        "uscc": query.uscc,
    }


def _candidate_ids(query: HCOQuery, also: Iterable[int]) -> list[int]:
    found = SCORER.hospitals().lookup(
        query.name,
        city=query.city or None,
        province=query.province or None,
        limit=CANDIDATES,
        min_score=0.3,
    )
    ids = dict.fromkeys(candidate.hco_id for candidate in found)
    ids.update(dict.fromkeys(also))
    if query.uscc:
        # The USCC names the organisation wherever the file placed it.
        for pk in HCO.objects.filter(uscc=query.uscc).values_list("id", flat=True):
            ids.setdefault(pk, None)
    return list(ids)


def _named(scored: Scored) -> Scored:
    """The explanation and reasons with the HCO comparisons' own names (level, not exact_0)."""
    comparisons = {
        COMPARISON_NAMES.get(name, name): found
        for name, found in scored.explanation["comparisons"].items()
    }
    explanation = {**scored.explanation, "comparisons": comparisons}
    return replace(scored, explanation=explanation, reasons=tuple(reasons_from(comparisons)))


def match_hco(query: HCOQuery, *, limit: int = 5, also: Iterable[int] = ()) -> list[HCOSuggestion]:
    """The master's HCOs most likely to be the institution described, best first ([] if none);
    ``also``: HCOs to score in any case (the importer's exact-name candidates)."""
    if not query.name.strip():
        return []
    ids = _candidate_ids(query, also)
    if not ids:
        return []
    rows = {
        values["id"]: values
        for values in HCO.objects.filter(pk__in=ids, status=RecordStatus.ACTIVE).values(*FIELDS)
    }
    candidates = [
        _prepared({**values, "record_id": str(pk), "uscc": values["uscc"] or ""})
        for pk, values in rows.items()
    ]
    if not candidates:
        return []
    query_row = _prepared(_query_values(query))
    query_row[UNIQUE_ID] = "0"
    campus = hospital_name(query.name).campus
    out = []
    for scored in ranked(score(query_row, candidates, scorer=SCORER), limit, SCORER):
        named = _named(scored)
        other_campus = hospital_name(rows[named.record_id]["name"]).campus != campus
        outcome = REVIEW if other_campus and named.outcome == AUTO else named.outcome
        out.append(
            HCOSuggestion(
                hco_id=named.record_id,
                probability=named.probability,
                outcome=outcome,
                reasons=named.reasons,
                explanation=named.explanation,
                match_weight=named.match_weight,
                other_campus=other_campus,
            )
        )
    return out

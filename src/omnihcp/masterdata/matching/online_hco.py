"""Online matching of one institution (an imported HCO row) against the master's HCOs.

Candidates come from the hospital index (``hco_lookup.HospitalIndex``: exact keys, then
rapidfuzz within the city, the province, the country); each is scored by the trained Splink
HCO model's own SQL, run as the HCP matcher runs its model (``online.score``), so every pair
gets a probability and the same thresholds apply: at or above ``auto`` it is that HCO, in the
review band a steward decides, below it is a new institution.

The model compares the standardised name within the city (``comparisons``: 第一人民医院 is
near-certain in the same city and says nothing across two). It is shipped in ``data/``
(``hco_model.json``, roles in ``hco_master.toml``), trained with labels on the demo
generator's free-text hospital names and its HCO master::

    python bench/mdm_hco_online.py --write-training FILE   # record_id, name, city, truth
    omnihcp mdm train FILE --entity hco --label truth

and a model trained later (``MatchingModel``, entity type hco) replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from omnihcp.masterdata.matching.config import LinkageConfig, load_config
from omnihcp.masterdata.matching.online import DATA, Scorer, ranked, score
from omnihcp.masterdata.matching.prepare import UNIQUE_ID, prepare_row
from omnihcp.masterdata.models import HCO, RecordStatus

HCO_CONFIG = DATA / "hco_master.toml"
# Candidates from the hospital index: the few names nearest the query.
CANDIDATES = 8
SCORER = Scorer("hco")


@dataclass(frozen=True)
class HCOQuery:
    name: str
    city: str = ""
    province: str = ""


@dataclass(frozen=True)
class HCOSuggestion:
    hco_id: int
    probability: float
    outcome: str
    reasons: tuple[str, ...]
    explanation: dict[str, Any] = field(default_factory=dict)


@cache
def hco_config() -> LinkageConfig:
    return load_config(HCO_CONFIG)


def _prepared(record_id: str, name: str, city: str) -> dict[str, Any]:
    config = hco_config()
    row = {"record_id": record_id, "name": name, "city": city}
    prepared = prepare_row(row, config.left, date_order=config.date_order)
    return {key: (value if value != "" else None) for key, value in prepared.items()}


def match_hco(query: HCOQuery, *, limit: int = 5) -> list[HCOSuggestion]:
    """The master's HCOs most likely to be the institution named, best first ([] if none)."""
    if not query.name.strip():
        return []
    found = SCORER.hospitals().lookup(
        query.name,
        city=query.city or None,
        province=query.province or None,
        limit=CANDIDATES,
        min_score=0.3,
    )
    ids = [candidate.hco_id for candidate in found]
    if not ids:
        return []
    rows = HCO.objects.filter(pk__in=ids, status=RecordStatus.ACTIVE).values_list(
        "id", "name", "city"
    )
    candidates = [_prepared(str(pk), name, city) for pk, name, city in rows]
    if not candidates:
        return []
    query_row = _prepared("query", query.name, query.city)
    query_row[UNIQUE_ID] = "0"
    predictions = score(query_row, candidates, scorer=SCORER)
    return [
        HCOSuggestion(
            hco_id=s.record_id,
            probability=s.probability,
            outcome=s.outcome,
            reasons=s.reasons,
            explanation=s.explanation,
        )
        for s in ranked(predictions, limit, SCORER)
    ]

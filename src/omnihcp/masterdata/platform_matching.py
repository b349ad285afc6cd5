"""Each row of a doctor platform's list placed and matched: its hospital text resolved to an
HCO with ``hco_lookup.HospitalIndex`` (so province and hospital level are known even for
doctors not found), then the user matched with ``matching.online.match_hcp``: auto, review or
unmatched. Reads only: the import runs it before its write transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omnihcp.masterdata.hco_lookup import HcoRow, HospitalIndex
from omnihcp.masterdata.matching.online import AUTO, REVIEW, HCPQuery, Suggestion, match_hcp
from omnihcp.masterdata.models import HCO, RecordStatus
from omnihcp.masterdata.models_platform import PlatformOutcome
from omnihcp.masterdata.platform_rows import PlatformRow
from omnihcp.masterdata.standardise import clean_text, parse_address

CANDIDATES_KEPT = 3
# A hospital text resolved at this score or better counts as that HCO for the report and is
# given to the matcher as the HCO; below it the matcher gets the text and looks it up itself.
HOSPITAL_MIN_SCORE = 0.7


@dataclass
class Resolved:
    hco_id: int | None
    level: str
    province: str
    city: str


@dataclass
class Outcome:
    outcome: str
    hcp_id: int | None
    best: float | None
    candidates: list[dict[str, Any]]


class HospitalResolver:
    """Hospital texts → HCOs, each distinct text looked up once per import."""

    def __init__(self) -> None:
        rows = HCO.objects.filter(status=RecordStatus.ACTIVE).values_list(
            "id", "name", "short_name", "province", "city", "level"
        )
        self.facts: dict[int, tuple[str, str, str]] = {}
        hcos: list[HcoRow] = []
        for pk, name, short, province, city, level in rows:
            hcos.append(HcoRow(pk, name, short or "", province, city))
            self.facts[pk] = (level, province, city)
        self.index = HospitalIndex.from_rows(hcos)
        self.found: dict[tuple[str, str, str], Resolved] = {}

    def resolve(self, row: PlatformRow) -> Resolved:
        province, city = row.province, row.city
        if province or city:
            parsed = parse_address(clean_text(province) + clean_text(city))
            province, city = parsed.province or province, parsed.city or city
        key = (row.hospital, province, city)
        if key not in self.found:
            found = self.index.lookup(
                row.hospital, city=city or None, province=province or None, limit=1
            )
            if found and found[0].score >= HOSPITAL_MIN_SCORE:
                level, hco_province, hco_city = self.facts[found[0].hco_id]
                self.found[key] = Resolved(found[0].hco_id, level, hco_province, hco_city)
            else:
                if not city:
                    parsed = parse_address(row.hospital)
                    province, city = province or parsed.province, parsed.city
                self.found[key] = Resolved(None, "", province[:20], city[:30])
        return self.found[key]


Matcher = Callable[[HCPQuery], list[Suggestion]]


def match_row(row: PlatformRow, place: Resolved, matcher: Matcher) -> Outcome:
    query = HCPQuery(
        name=row.name,
        hospital="" if place.hco_id else row.hospital,
        hco_id=place.hco_id,
        province=place.province,
        city=place.city,
        department=row.department,
        title=row.title,
        mobile_hash=row.phone_hash,
    )
    suggestions = [s for s in matcher(query) if s.outcome in {AUTO, REVIEW}]
    if not suggestions:
        return Outcome(PlatformOutcome.UNMATCHED, None, None, [])
    best = suggestions[0]
    # The comparisons are kept so that pages word the evidence in the reader's language.
    kept = [
        {
            "hcp_id": s.hcp_id,
            "probability": round(s.probability, 4),
            "reasons": list(s.reasons),
            "comparisons": s.explanation.get("comparisons", {}),
        }
        for s in suggestions[:CANDIDATES_KEPT]
    ]
    if best.outcome == AUTO:
        return Outcome(PlatformOutcome.AUTO, best.hcp_id, best.probability, kept)
    return Outcome(PlatformOutcome.REVIEW, None, best.probability, kept)


def default_matcher(query: HCPQuery) -> list[Suggestion]:
    return match_hcp(query, limit=CANDIDATES_KEPT)

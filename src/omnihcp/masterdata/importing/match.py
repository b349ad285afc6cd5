"""Deterministic matching of an imported row to the golden records.

The rules, in order: the source's own id seen before (ExternalIdentity) → that record; an HCO
by its USCC, else by the standardised hospital-name key within its city; an HCP by the blind
index of the practising licence number, else by standardised name within the matched HCO.
Exactly one candidate → matched (an HCO row's only if the HCO model, which also weighs
address, type, level and USCC, gives the pair at least the review threshold), several → review
by a data steward. A row the rules leave new or in review is then scored by the probabilistic
model (``matching.online`` for HCPs, ``matching.online_hco`` for HCOs, the trained Splink
models): at or above the auto threshold it is that doctor or institution, in the review band
the steward decides (with the probabilities and the evidence), below it is a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.importing.mapping import HCO as HCO_TYPE
from omnihcp.masterdata.matching import online
from omnihcp.masterdata.matching.online import HCPQuery, Suggestion, match_hcp
from omnihcp.masterdata.matching.online_hco import HCOQuery, match_hco
from omnihcp.masterdata.models import HCO, HCP, ExternalIdentity, RecordStatus
from omnihcp.masterdata.standardise import HospitalName, hospital_name, person_name

MATCHED = "matched"
REVIEW = "review"
NEW = "new"


@dataclass(frozen=True)
class Match:
    outcome: str  # MATCHED, REVIEW or NEW
    hcp: HCP | None = None
    hco: HCO | None = None  # the matched HCO, or for an HCP row its primary HCO
    candidates: tuple[int, ...] = ()
    # The probabilistic model's word on candidates: id → (probability, explanation).
    scores: dict[int, tuple[float, dict[str, Any]]] = field(default_factory=dict)


Keys = dict[tuple[str, str], set[int]]


def _key(name: HospitalName) -> tuple[str, str]:
    # The campus counts too: two campuses of one hospital are two HCOs.
    return (name.key, name.campus)


@dataclass
class HCOIndex:
    """Hospital-name keys of the active HCOs, built once per city for one import.

    Full names are looked up first and short names (简称) only when no full name fits: the
    campuses of a hospital share its short name, and must not all turn up as candidates.
    """

    by_place: dict[tuple[str, str], tuple[Keys, Keys]] = field(default_factory=dict)

    def _keys(self, province: str, city: str) -> tuple[Keys, Keys]:
        place = (province, city) if city else (province, "")
        if place not in self.by_place:
            qs = HCO.objects.filter(status=RecordStatus.ACTIVE)
            if city:
                qs = qs.filter(city=city)
            elif province:
                qs = qs.filter(province=province)
            full: Keys = {}
            short: Keys = {}
            for pk, name, short_name in qs.values_list("id", "name", "short_name"):
                full.setdefault(_key(hospital_name(name)), set()).add(pk)
                if short_name:
                    short.setdefault(_key(hospital_name(short_name)), set()).add(pk)
            self.by_place[place] = (full, short)
        return self.by_place[place]

    def find(self, name: HospitalName, *, province: str, city: str) -> set[int]:
        full, short = self._keys(province, city)
        return set(full.get(_key(name)) or short.get(_key(name)) or ())

    def add(self, hco: HCO) -> None:
        """A new HCO of this import is a candidate for the rows after it."""
        for place, (full, _short) in self.by_place.items():
            if place[1] in {"", hco.city} and place[0] in {"", hco.province}:
                full.setdefault(_key(hospital_name(hco.name)), set()).add(hco.pk)


def _identity(source: str, source_key: str) -> ExternalIdentity | None:
    return (
        ExternalIdentity.objects.filter(source=source, external_id=source_key)
        .select_related("hcp", "hco")
        .first()
    )


def _survivor(record: Any) -> Any:
    hops = 0
    model = type(record)
    while record is not None and record.merged_into_id is not None and hops < 10:
        record = model.objects.filter(pk=record.merged_into_id).first()
        hops += 1
    return record


def _match_hco(values: dict[str, Any], index: HCOIndex) -> Match:
    uscc = values.get("uscc")
    if uscc:
        found = HCO.objects.filter(uscc=uscc).first()
        if found is not None:
            return Match(MATCHED, hco=_survivor(found))
    ids = index.find(
        hospital_name(values["name"]), province=values["province"], city=values["city"]
    )
    if uscc and ids:
        # A different USCC on file means a different organisation of the same name.
        ids = set(HCO.objects.filter(pk__in=ids, uscc__isnull=True).values_list("id", flat=True))
    scored = match_hco(_hco_query(values), limit=5, also=ids)
    every = {s.hco_id: (s.probability, dict(s.explanation)) for s in scored}
    conflicting = _with_uscc({s.hco_id for s in scored}) if uscc else set()
    suggestions = [s for s in scored if s.outcome != online.NONE and s.hco_id not in conflicting]
    scores = {s.hco_id: every[s.hco_id] for s in suggestions}
    if len(ids) == 1:
        # The standardised name (campus included) is the city's one HCO of that name: the rule
        # decides, with the model's probability kept, unless the model finds the pair unlikely
        # (another type, another address) — then the steward does.
        pk = next(iter(ids))
        probability = every.get(pk, (1.0, {}))[0]
        if probability >= online.thresholds("hco").review:
            return Match(
                MATCHED, hco=HCO.objects.get(pk=pk), scores={pk: every[pk]} if pk in every else {}
            )
        return Match(REVIEW, candidates=(pk,), scores={pk: every[pk]})
    if ids:
        return Match(
            REVIEW,
            candidates=tuple(sorted(ids)),
            scores={pk: every[pk] for pk in ids if pk in every},
        )
    # No standardised name of the city fits: the model decides between a known HCO written
    # differently (auto), one for the steward (review band) and a new institution.
    if suggestions and suggestions[0].outcome == online.AUTO:
        best = HCO.objects.get(pk=suggestions[0].hco_id)
        return Match(MATCHED, hco=_survivor(best), scores=scores)
    if suggestions:
        return Match(REVIEW, candidates=tuple(sorted(scores)), scores=scores)
    return Match(NEW)


def _with_uscc(hco_ids: set[int]) -> set[int]:
    return set(HCO.objects.filter(pk__in=hco_ids, uscc__isnull=False).values_list("id", flat=True))


def _hco_query(values: dict[str, Any]) -> HCOQuery:
    """The row as the online HCO matcher reads it."""
    return HCOQuery(
        name=values["name"],
        city=values["city"],
        province=values["province"],
        address=values.get("address") or "",
        level=values.get("level") or "",
        hco_type=values.get("hco_type") or "",
        uscc=values.get("uscc") or "",
    )


def _match_hcp(values: dict[str, Any], index: HCOIndex) -> Match:
    licence_hash = pi.blind_index(values.get("licence_no", ""))
    if licence_hash:
        found = HCP.objects.filter(licence_hash=licence_hash, status=RecordStatus.ACTIVE).first()
        if found is not None:
            return Match(MATCHED, hcp=found, hco=found.primary_hco)
    hospital: HospitalName = values["hospital"]
    hco_ids = index.find(hospital, province=values["province"], city=values["city"])
    if not hco_ids:
        raise ApplicationError(
            _("No institution named %(name)s in %(city)s; import the institutions first.")
            % {"name": hospital.name, "city": values["city"] or _("any city")},
            field="hospital",
        )
    if len(hco_ids) > 1:
        return Match(REVIEW, candidates=tuple(sorted(hco_ids)))
    hco = HCO.objects.get(pk=next(iter(hco_ids)))
    name = person_name(values["name"])
    candidates = [
        hcp
        for hcp in HCP.objects.filter(primary_hco=hco, status=RecordStatus.ACTIVE)
        if person_name(hcp.name) == name
        # A different licence number on file is a different doctor of the same name.
        and (not licence_hash or not hcp.licence_hash or hcp.licence_hash == licence_hash)
    ]
    if len(candidates) == 1:
        return Match(MATCHED, hcp=candidates[0], hco=hco)
    suggestions = [s for s in match_hcp(_query(values, hco), limit=5) if s.outcome != online.NONE]
    scores = {s.hcp_id: (s.probability, _evidence(s)) for s in suggestions}
    if candidates:
        return Match(
            REVIEW, hco=hco, candidates=tuple(sorted(h.pk for h in candidates)), scores=scores
        )
    if suggestions and suggestions[0].outcome == online.AUTO:
        best = HCP.objects.select_related("primary_hco").get(pk=suggestions[0].hcp_id)
        return Match(MATCHED, hcp=best, hco=hco, scores=scores)
    if suggestions:
        return Match(REVIEW, hco=hco, candidates=tuple(sorted(scores)), scores=scores)
    return Match(NEW, hco=hco)


def _query(values: dict[str, Any], hco: HCO) -> HCPQuery:
    """The row as the online matcher reads it, placed at its institution."""
    return HCPQuery(
        name=values["name"],
        hco_id=hco.pk,
        department=values.get("department") or "",
        title=values.get("title") or "",
        gender=values.get("gender") or "",
        mobile=values.get("mobile") or "",
        licence_no=values.get("licence_no") or "",
    )


def _evidence(suggestion: Suggestion) -> dict[str, Any]:
    return dict(suggestion.explanation)


def match_record(
    *, entity_type: str, source: str, source_key: str, values: dict[str, Any], index: HCOIndex
) -> Match:
    """Decide whether a standardised row is a known HCP/HCO, a new one, or one for review.

    This is the one place the importer asks "who is this?". Raises ``ApplicationError``
    naming the field when an HCP row cannot be placed at any institution.
    """
    identity = _identity(source, source_key)
    if identity is not None:
        if identity.hco_id is not None and entity_type == HCO_TYPE:
            return Match(MATCHED, hco=_survivor(identity.hco))
        if identity.hcp_id is not None and entity_type != HCO_TYPE:
            hcp = _survivor(identity.hcp)
            return Match(MATCHED, hcp=hcp, hco=hcp.primary_hco)
    if entity_type == HCO_TYPE:
        return _match_hco(values, index)
    return _match_hcp(values, index)

"""Online matching: one HCP record against the whole master, answered in milliseconds.

Batch linkage (Splink, ``matching.linkage``) pairs whole tables by blocking rules; a rep's
"is it one of these?" form, the API and the tracking module's identity resolution have one
record and need an answer at once. So the two stages are split:

* candidates come from the database's indexes, by the keys the batch blocking rules use: the
  same name in pinyin (either word order) in the city, the same mobile or licence blind index,
  the same initials at a hospital the free-text hospital name resolves to (``hco_lookup``);
* the candidates are scored by the trained Splink model's own SQL — the comparison-vector and
  prediction statements Splink generates from the saved settings, run by an in-process DuckDB
  on the few candidate rows with our character UDFs — so a pair scores exactly as it does in a
  batch run of that model. Records are prepared by ``matching.prepare``, as in a batch run.

Mobile and licence numbers are compared by their blind indexes (``core.pi``): the master keeps
no clear values, and equal numbers have equal indexes.

The model is the newest active ``MatchingModel`` of the entity type, else the one shipped in
``matching/data/`` (trained on the demo generator's noisy multi-source records). λ, the chance
that two random records match, is set to one over the master's size, since a new record is at
most one of the master's doctors. Thresholds per entity type come from
``settings.MDM_MATCH_THRESHOLDS``.
"""

from __future__ import annotations

import itertools
import json
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
from django.conf import settings
from django.db.models import Count
from django.utils.translation import gettext as _
from splink.internals.predict import predict_from_comparison_vectors_sqls_using_settings
from splink.internals.settings_creator import SettingsCreator

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.hco_lookup import HcoRow, HospitalIndex
from omnihcp.masterdata.matching.comparisons import register_functions
from omnihcp.masterdata.matching.config import LinkageConfig, load_config
from omnihcp.masterdata.matching.model import HEADER
from omnihcp.masterdata.matching.prepare import UNIQUE_ID, prepare_row
from omnihcp.masterdata.models import HCO, HCP, Gender, RecordStatus
from omnihcp.masterdata.standardise import person_name, phone_digits
from omnihcp.masterdata.textkeys import initials_key, pinyin_key
from omnihcp.masterdata.validation import normalise_licence

AUTO = "auto"
REVIEW = "review"
NONE = "none"

DATA = Path(__file__).parent / "data"
HCP_CONFIG = DATA / "hcp_master.toml"
# Enough for the commonest names of a city; more would be scored in vain.
MAX_CANDIDATES = 400
# Initials in any order are at most 4! = 24 spellings; longer (Latin) names use the pinyin rules.
MAX_INITIALS = 4
# From this many candidates on, the comparison functions run vectorised (measured crossover).
VECTORISE_FROM = 30
CACHE_SECONDS = 60.0
_GENDER_TEXT = {Gender.MALE: "男", Gender.FEMALE: "女"}
_GENDER_WORDS = {"m": "男", "male": "男", "男": "男", "f": "女", "female": "女", "女": "女"}


@dataclass(frozen=True)
class HCPQuery:
    name: str
    hospital: str = ""
    hco_id: int | None = None
    province: str = ""
    city: str = ""
    department: str = ""
    title: str = ""
    mobile: str = ""
    mobile_hash: str = ""
    licence_no: str = ""
    gender: str = ""


@dataclass(frozen=True)
class Suggestion:
    hcp_id: int
    probability: float
    outcome: str
    reasons: tuple[str, ...]
    explanation: dict[str, Any] = field(default_factory=dict)
    match_weight: float = 0.0


@dataclass(frozen=True)
class Thresholds:
    auto: float
    review: float


def thresholds(entity_type: str = "hcp") -> Thresholds:
    """The auto-merge and review thresholds of an entity type (``MDM_MATCH_THRESHOLDS``)."""
    values = settings.MDM_MATCH_THRESHOLDS[entity_type]
    return Thresholds(auto=float(values["auto"]), review=float(values["review"]))


def outcome_for(probability: float, limits: Thresholds) -> str:
    if probability >= limits.auto:
        return AUTO
    return REVIEW if probability >= limits.review else NONE


# --- the model, compiled once per process -----------------------------------------------------


@cache
def hcp_config() -> LinkageConfig:
    return load_config(HCP_CONFIG)


def _shipped_settings(entity_type: str) -> dict[str, Any]:
    body = json.loads((DATA / f"{entity_type}_model.json").read_text(encoding="utf-8"))
    return dict(body["splink"])


def active_settings(entity_type: str = "hcp") -> tuple[str, dict[str, Any]]:
    """(version label, Splink settings) of the model in use for an entity type."""
    from omnihcp.masterdata.models_matching import MatchingModel

    row = (
        MatchingModel.objects.filter(entity_type=entity_type, active=True)
        .order_by("-version")
        .first()
    )
    if row is not None:
        return f"v{row.version}", dict(row.splink_settings)
    return "shipped", _shipped_settings(entity_type)


@dataclass
class _Compiled:
    label: str
    sql: str
    tf_columns: tuple[str, ...]
    columns: tuple[str, ...]  # the prepared columns the SQL reads
    levels: dict[str, dict[int, str]]  # comparison → gamma → label


def _compile(label: str, splink_settings: dict[str, Any], prior: float) -> _Compiled:
    body = {**splink_settings, "link_type": "dedupe_only"}
    body["probability_two_random_records_match"] = prior
    body["retain_intermediate_calculation_columns"] = True
    body["retain_matching_columns"] = False
    settings_obj = SettingsCreator.from_path_or_dict(body).get_settings("duckdb")
    blocked = ", ".join(settings_obj._columns_to_select_for_blocking)
    vectors = ", ".join(settings_obj._columns_to_select_for_comparison_vector_values)
    parts, predict = predict_from_comparison_vectors_sqls_using_settings(
        settings_obj, sql_infinity_expression="'infinity'"
    )
    names = [c.output_column_name.strip('"') for c in settings_obj.comparisons]
    gammas = ", ".join(f'v."gamma_{name}"' for name in names)
    # The SQL is Splink's, generated from the model's settings: no user input reaches it.
    sql = (
        f"WITH __splink__df_blocked AS (SELECT {blocked}, 0 AS match_key "  # noqa: S608
        "FROM query_record AS l CROSS JOIN candidate_records AS r), "
        f"__splink__df_comparison_vectors AS (SELECT {vectors} FROM __splink__df_blocked), "
        f"{parts['output_table_name']} AS ({parts['sql']}), "
        f"__splink__df_predict AS ({predict['sql']}) "
        f"SELECT p.*, {gammas} FROM __splink__df_predict AS p "
        "JOIN __splink__df_comparison_vectors AS v ON p.unique_id_r = v.unique_id_r"
    )
    tf_columns = tuple(c.name.strip('"') for c in settings_obj._term_frequency_columns)
    columns: set[str] = set()
    levels: dict[str, dict[int, str]] = {}
    for comparison in settings_obj.comparisons:
        columns |= {
            c.input_name.strip('"') for c in comparison._input_columns_used_by_case_statement
        }
        levels[comparison.output_column_name.strip('"')] = {
            level.comparison_vector_value: level.label_for_charts
            for level in comparison.comparison_levels
        }
    return _Compiled(label, sql, tf_columns, tuple(sorted(columns)), levels)


class Scorer:
    """The compiled model and a DuckDB connection per thread; rebuilt when the model or the
    master's size moves on (checked at most once a minute)."""

    def __init__(self, entity_type: str = "hcp") -> None:
        self.entity_type = entity_type
        self._lock = threading.Lock()
        self._local = threading.local()
        self._compiled: _Compiled | None = None
        self._master: tuple[int, int] = (0, 0)  # HCPs, HCOs
        self._size = 0  # the master's records of this entity type
        self._checked = 0.0
        self._hospitals: HospitalIndex | None = None

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._compiled is not None and now - self._checked < CACHE_SECONDS:
            return
        with self._lock:
            if self._compiled is not None and now - self._checked < CACHE_SECONDS:
                return
            label, body = active_settings(self.entity_type)
            hcps = HCP.objects.filter(status=RecordStatus.ACTIVE).count()
            hcos = HCO.objects.filter(status=RecordStatus.ACTIVE).count()
            # λ: a new record is at most one of the master's records of its type.
            size = hcps if self.entity_type == "hcp" else hcos
            if self._compiled is None or self._compiled.label != label or self._size != size:
                self._compiled = _compile(label, body, prior=1 / max(size, 2))
                self._size = size
            if self._hospitals is None or self._master[1] != hcos:
                self._hospitals = HospitalIndex.from_rows(
                    HcoRow(pk, name, short or "", province, city)
                    for pk, name, short, province, city in HCO.objects.filter(
                        status=RecordStatus.ACTIVE
                    ).values_list("id", "name", "short_name", "province", "city")
                )
            self._master = (hcps, hcos)
            self._checked = now

    def compiled(self) -> _Compiled:
        self._refresh()
        if self._compiled is None:  # reset by another thread between the two lines
            return self.compiled()
        return self._compiled

    def hospitals(self) -> HospitalIndex:
        self._refresh()
        if self._hospitals is None:
            return self.hospitals()
        return self._hospitals

    @property
    def master_size(self) -> int:
        self._refresh()
        return self._master[0]

    def remember(self, connection: duckdb.DuckDBPyConnection, model: tuple[str, int]) -> None:
        prepared = getattr(self._local, "prepared", {})
        prepared[id(connection)] = model
        self._local.prepared = prepared

    def prepared_for(self, connection: duckdb.DuckDBPyConnection) -> tuple[str, int] | None:
        return getattr(self._local, "prepared", {}).get(id(connection))

    def connection(self, *, vectorised: bool) -> duckdb.DuckDBPyConnection:
        """This thread's connection: per-pair functions for a few candidates, vectorised ones
        for many (a common name in a big city)."""
        name = "vectorised" if vectorised else "per_pair"
        connection = getattr(self._local, name, None)
        if connection is None:
            connection = duckdb.connect(":memory:")
            register_functions(connection, vectorised=vectorised)
            setattr(self._local, name, connection)
        return connection

    def reset(self) -> None:
        """Forget the cached model and master figures (tests, a newly activated model)."""
        with self._lock:
            self._compiled = None
            self._hospitals = None
            self._checked = 0.0


SCORER = Scorer()


# --- records as the model reads them -----------------------------------------------------------


def _gender(text: str) -> str:
    return _GENDER_WORDS.get((text or "").strip().lower(), "")


def _licence(text: str) -> str:
    try:
        return normalise_licence(text) if text else ""
    except ApplicationError:  # not a licence number: no evidence either way
        return ""


def _prepared(row: dict[str, str], *, mobile_hash: str, licence_hash: str) -> dict[str, Any]:
    config = hcp_config()
    prepared: dict[str, Any] = prepare_row(row, config.left, date_order=config.date_order)
    # The master holds blind indexes only: both sides are compared by them.
    prepared["phone"] = mobile_hash or None
    prepared["licence"] = licence_hash or None
    return {key: (value if value != "" else None) for key, value in prepared.items()}


def _query_row(query: HCPQuery, hospital: str, city: str) -> dict[str, Any]:
    mobile_hash = query.mobile_hash or pi.blind_index(phone_digits(query.mobile))
    licence = _licence(query.licence_no)
    row = {
        "record_id": "query",
        "name": query.name,
        "hospital": hospital,
        "city": city,
        "mobile": "",
        "department": query.department,
        "title": query.title,
        "licence_no": "",
        "gender": _gender(query.gender),
    }
    return _prepared(row, mobile_hash=mobile_hash, licence_hash=pi.blind_index(licence))


def _candidate_rows(ids: Iterable[int]) -> list[dict[str, Any]]:
    fields = (
        "id",
        "name",
        "gender",
        "title",
        "mobile_hash",
        "licence_hash",
        "primary_hco__name",
        "primary_hco__city",
        "department__name",
    )
    rows = []
    for values in HCP.objects.filter(pk__in=list(ids)).values_list(*fields):
        pk, name, gender, title, mobile_hash, licence_hash, hospital, city, department = values
        row = {
            "record_id": str(pk),
            "name": name,
            "hospital": hospital or "",
            "city": city or "",
            "mobile": "",
            "department": department or "",
            "title": title or "",
            "licence_no": "",
            "gender": _GENDER_TEXT.get(gender, ""),
        }
        rows.append(_prepared(row, mobile_hash=mobile_hash, licence_hash=licence_hash))
    return rows


# --- candidates from the database ----------------------------------------------------------


@dataclass(frozen=True)
class _Place:
    hco_ids: tuple[int, ...]
    hospital: str
    city: str
    province: str


def _place(query: HCPQuery) -> _Place:
    if query.hco_id is not None:
        hco = HCO.objects.filter(pk=query.hco_id).values_list("name", "city", "province").first()
        if hco is not None:
            return _Place((query.hco_id,), hco[0], hco[1], hco[2])
    if not query.hospital:
        return _Place((), "", query.city, query.province)
    found = SCORER.hospitals().lookup(
        query.hospital, city=query.city or None, province=query.province or None, limit=3
    )
    ids = tuple(candidate.hco_id for candidate in found)
    city, province = query.city, query.province
    if ids and not city:
        city, province = HCO.objects.filter(pk=ids[0]).values_list("city", "province").get()
    return _Place(ids, query.hospital, city, province)


def _candidate_ids(query: HCPQuery, place: _Place) -> list[int]:
    active = HCP.objects.filter(status=RecordStatus.ACTIVE)
    found: dict[int, None] = {}

    def take(queryset: Any) -> None:
        for pk in queryset.values_list("id", flat=True)[:MAX_CANDIDATES]:
            found.setdefault(pk, None)

    mobile_hash = query.mobile_hash or pi.blind_index(phone_digits(query.mobile))
    if mobile_hash:
        take(active.filter(mobile_hash=mobile_hash))
    licence_hash = pi.blind_index(_licence(query.licence_no))
    if licence_hash:
        take(active.filter(licence_hash=licence_hash))
    name = person_name(query.name)
    spellings = {pinyin_key(name)}
    words = query.name.split()
    if len(words) == 2:  # "Wei Zhang" is 张伟 written given name first
        spellings.add(pinyin_key(f"{words[1]} {words[0]}"))
    spellings.discard("")
    if spellings:
        same_name = active.filter(name_pinyin__in=sorted(spellings))
        if place.city:
            same_name = same_name.filter(primary_hco__city=place.city)
        elif place.province:
            same_name = same_name.filter(primary_hco__province=place.province)
        take(same_name)
    # The batch rule pairs the same initials in any order (prepare's name_init is sorted):
    # 李兰梅 and 李明兰 meet there, so they meet here too.
    initials = initials_key(name)
    if place.hco_ids and 0 < len(initials) <= MAX_INITIALS:
        orders = sorted({"".join(p) for p in itertools.permutations(initials)})
        take(active.filter(primary_hco_id__in=place.hco_ids, name_initials__in=orders))
    return list(found)[:MAX_CANDIDATES]


def _term_frequencies(names: set[str], total: int) -> dict[str, float]:
    counts = (
        HCP.objects.filter(status=RecordStatus.ACTIVE, name__in=sorted(names))
        .values("name")
        .annotate(n=Count("id"))
    )
    return {row["name"]: row["n"] / max(total, 1) for row in counts}


# --- scoring --------------------------------------------------------------------------------


def _phrases(comparison: str) -> tuple[str, str, str]:
    """(same, similar, different) in the reader's language, for one comparison."""
    phrases = {
        "name": (_("same name"), _("similar name"), _("different name")),
        "organisation": (_("same hospital"), _("similar hospital name"), _("other hospital")),
        "city": (_("same city"), _("same city"), _("other city")),
        "phone": (_("same mobile phone"), _("similar mobile phone"), _("other mobile phone")),
        "licence": (_("same licence number"), _("similar licence number"), _("other licence")),
        "department": (_("same department"), _("similar department"), _("other department")),
        "title": (_("same title"), _("same title"), _("other title")),
        "exact_0": (_("same gender"), _("same gender"), _("other gender")),
        "gender": (_("same gender"), _("same gender"), _("other gender")),
        # The HCO model's (``online_hco`` names its generic comparisons).
        "address": (_("same address"), _("similar address"), _("other address")),
        "uscc": (_("same USCC"), _("similar USCC"), _("other USCC")),
        "level": (_("same hospital level"), _("same hospital level"), _("other hospital level")),
        "hco_type": (_("same type"), _("same type"), _("other type")),
    }
    return phrases.get(comparison, (comparison, comparison, comparison))


def _reason(comparison: str, gamma: int, top: int, weight: float) -> str | None:
    if gamma < 0 or abs(weight) < 1:
        return None
    same, similar, different = _phrases(comparison)
    if weight < 0:
        return different
    return same if gamma == top else similar


def reasons_from(comparisons: dict[str, Any]) -> list[str]:
    """What drove a score, in the reader's language, strongest evidence first."""
    ranked: list[tuple[float, str]] = []
    for comparison, found in comparisons.items():
        weight = float(found.get("weight", 0))
        reason = _reason(comparison, int(found.get("gamma", -1)), int(found.get("top", 0)), weight)
        if reason:
            ranked.append((-abs(weight), reason))
    return [reason for _, reason in sorted(ranked)]


def _statement(
    connection: duckdb.DuckDBPyConnection, compiled: _Compiled, scorer: Scorer
) -> list[str]:
    """The two input tables and the prepared scoring statement of this model, made once per
    connection: DuckDB then plans the long Splink SQL once, not on every request."""
    columns = [UNIQUE_ID, *compiled.columns, *(f"tf_{c}" for c in compiled.tf_columns)]
    if scorer.prepared_for(connection) != (compiled.label, id(compiled)):
        types = ", ".join(
            f'"{c}" DOUBLE' if c.startswith("tf_") else f'"{c}" VARCHAR' for c in columns
        )
        for table in ("query_record", "candidate_records"):
            connection.execute(f"CREATE OR REPLACE TABLE {table} ({types})")
        connection.execute(f"PREPARE omnihcp_score AS {compiled.sql}")
        scorer.remember(connection, (compiled.label, id(compiled)))
    return columns


def score(
    query_row: dict[str, Any], candidates: list[dict[str, Any]], *, scorer: Scorer = SCORER
) -> list[dict[str, Any]]:
    """Splink's predictions for the query record against each candidate row (prepared)."""
    compiled = scorer.compiled()
    connection = scorer.connection(vectorised=len(candidates) > VECTORISE_FROM)
    columns = _statement(connection, compiled, scorer)
    marks = ", ".join("?" for _ in columns)
    connection.execute("DELETE FROM query_record")
    connection.execute("DELETE FROM candidate_records")
    connection.execute(
        f"INSERT INTO query_record VALUES ({marks})",  # noqa: S608
        [query_row.get(c) for c in columns],
    )
    # One statement for all candidates: DuckDB's executemany runs an insert per row.
    values = ", ".join(f"({marks})" for _ in candidates)
    connection.execute(
        f"INSERT INTO candidate_records VALUES {values}",  # noqa: S608
        [row.get(c) for row in candidates for c in columns],
    )
    result = connection.execute("EXECUTE omnihcp_score")
    names = [d[0] for d in result.description]
    return [dict(zip(names, values, strict=True)) for values in result.fetchall()]


def explain(row: dict[str, Any], compiled: _Compiled) -> dict[str, Any]:
    """A prediction's evidence: per comparison its level, gamma and weight in bits."""
    explanation: dict[str, Any] = {}
    for comparison, levels in compiled.levels.items():
        gamma = int(row[f"gamma_{comparison}"])
        bf = float(row[f"bf_{comparison}"])
        tf = row.get(f"bf_tf_adj_{comparison}")
        if tf is not None:
            bf *= float(tf)
        weight = math.log2(bf) if bf > 0 else -math.inf
        explanation[comparison] = {
            "level": levels.get(gamma, ""),
            "gamma": gamma,
            "top": max(levels),
            "weight": round(weight, 2),
        }
    return {"model": compiled.label, "comparisons": explanation}


@dataclass(frozen=True)
class Scored:
    """One candidate's prediction, read for people: id, probability, decision, evidence."""

    record_id: int
    probability: float
    outcome: str
    reasons: tuple[str, ...]
    explanation: dict[str, Any]
    match_weight: float


def ranked(predictions: list[dict[str, Any]], limit: int, scorer: Scorer) -> list[Scored]:
    """The best ``limit`` predictions, strongest first, with the entity type's decisions."""
    compiled = scorer.compiled()
    limits = thresholds(scorer.entity_type)
    best = sorted(predictions, key=lambda row: (-row["match_weight"], int(row["unique_id_r"])))
    out = []
    for row in best[:limit]:
        explanation = explain(row, compiled)
        probability = float(row["match_probability"])
        out.append(
            Scored(
                record_id=int(row["unique_id_r"]),
                probability=probability,
                outcome=outcome_for(probability, limits),
                reasons=tuple(reasons_from(explanation["comparisons"])),
                explanation=explanation,
                match_weight=float(row["match_weight"]),
            )
        )
    return out


def _suggestions(predictions: list[dict[str, Any]], limit: int) -> list[Suggestion]:
    return [
        Suggestion(
            hcp_id=s.record_id,
            probability=s.probability,
            outcome=s.outcome,
            reasons=s.reasons,
            explanation=s.explanation,
            match_weight=s.match_weight,
        )
        for s in ranked(predictions, limit, SCORER)
    ]


def match_hcp(query: HCPQuery, *, limit: int = 5) -> list[Suggestion]:
    """The master's HCPs most likely to be the doctor described, best first ([] if none)."""
    if not person_name(query.name):
        return []
    place = _place(query)
    ids = _candidate_ids(query, place)
    if not ids:
        return []
    candidates = _candidate_rows(ids)
    hospital = place.hospital
    if not hospital and place.hco_ids:
        hospital = HCO.objects.filter(pk=place.hco_ids[0]).values_list("name", flat=True).get()
    query_row = _query_row(query, hospital, place.city)
    tf_columns = SCORER.compiled().tf_columns
    if tf_columns:
        names = {str(r.get(c)) for r in [*candidates, query_row] for c in tf_columns if r.get(c)}
        frequencies = _term_frequencies(names, SCORER.master_size)
        for record in [*candidates, query_row]:
            for column in tf_columns:
                record[f"tf_{column}"] = frequencies.get(record.get(column) or "", None)
    query_row[UNIQUE_ID] = "0"
    return _suggestions(score(query_row, candidates), limit)


def model_header(path: Path) -> dict[str, Any]:
    """The header of a saved model file (version, config digest)."""
    return dict(json.loads(path.read_text(encoding="utf-8"))[HEADER])

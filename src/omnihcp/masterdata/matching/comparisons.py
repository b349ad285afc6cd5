"""The Splink comparisons for the roles a config maps (Splink 4, DuckDB SQL), each level with
a prior m probability.

DuckDB's own ``levenshtein`` and ``jaro_winkler_similarity`` count UTF-8 bytes, so one changed
Chinese character reads as three edits; text that may be Chinese is therefore compared with two
functions we register on the connection (``omnihcp_char_edits``, ``omnihcp_char_similarity``,
rapidfuzz on characters). A saved model names them, so running it on Spark needs the same two
UDFs. Columns that are ASCII by construction (pinyin, ISO dates, digits) use DuckDB's built-ins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa  # type: ignore[import-untyped]
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from duckdb.func import ARROW
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator

CHAR_EDITS = "omnihcp_char_edits"
CHAR_SIMILARITY = "omnihcp_char_similarity"
NAME_COLUMNS = ("name_std", "name_py", "name_alt", "name_init", "given_key", "family_key")


def char_edits(left: str, right: str) -> int:
    return int(DamerauLevenshtein.distance(left, right))


def char_similarity(left: str, right: str) -> float:
    return float(JaroWinkler.similarity(left, right))


def _vectorised(scorer: Any, result_type: pa.DataType) -> Any:
    """A DuckDB Arrow function scoring a whole vector of pairs in one rapidfuzz call
    (``process.cpdist``): a Python call per pair cost a millisecond or more per candidate.
    DuckDB passes no nulls (its default null handling answers null itself)."""

    def score(left: pa.Array, right: pa.Array) -> pa.Array:
        values = process.cpdist(left.to_pylist(), right.to_pylist(), scorer=scorer, workers=1)
        return pa.array(values.tolist(), type=result_type)

    return score


def register_functions(connection: duckdb.DuckDBPyConnection, *, vectorised: bool = True) -> None:
    """Character-level edit distance and Jaro-Winkler similarity, for Chinese and Latin alike.

    Vectorised (Arrow) for tables of pairs; per pair for a handful, where Arrow's conversions
    cost more than they save (the online matcher's usual few candidates)."""
    text, integer, double = (
        duckdb.sqltypes.VARCHAR,
        duckdb.sqltypes.BIGINT,
        duckdb.sqltypes.DOUBLE,
    )
    if not vectorised:
        connection.create_function(
            CHAR_EDITS, char_edits, [text, text], integer, side_effects=False
        )
        connection.create_function(
            CHAR_SIMILARITY, char_similarity, [text, text], double, side_effects=False
        )
        return
    connection.create_function(
        CHAR_EDITS,
        _vectorised(DamerauLevenshtein.distance, pa.int64()),
        [text, text],
        integer,
        type=ARROW,
        side_effects=False,
    )
    connection.create_function(
        CHAR_SIMILARITY,
        _vectorised(JaroWinkler.similarity, pa.float64()),
        [text, text],
        double,
        type=ARROW,
        side_effects=False,
    )


def unregister_functions(connection: duckdb.DuckDBPyConnection) -> None:
    # DuckDB's Python binding reports the functions as leaked at exit unless they are removed.
    connection.remove_function(CHAR_EDITS)
    connection.remove_function(CHAR_SIMILARITY)


def _edits(column: str, at_most: int, *, min_length: int = 0) -> ComparisonLevelCreator:
    sql = f"{CHAR_EDITS}({column}_l, {column}_r) <= {at_most}"
    if min_length:
        sql += f" AND length({column}_l) >= {min_length}"
    return cll.CustomLevel(sql, label_for_charts=f"{column}: {at_most} character edit(s)")


def _similar(column: str, at_least: float) -> ComparisonLevelCreator:
    return cll.CustomLevel(
        f"{CHAR_SIMILARITY}({column}_l, {column}_r) >= {at_least}",
        label_for_charts=f"{column}: Jaro-Winkler >= {at_least}",
    )


def _level(sql: str, label: str) -> ComparisonLevelCreator:
    return cll.CustomLevel(sql, label_for_charts=label)


@dataclass(frozen=True)
class RoleComparison:
    creator: ComparisonCreator
    columns: frozenset[str]  # the prepared columns it reads
    levels: int  # not counting the level for nulls
    # How many leading levels go from more to less specific, so that none may weigh more than
    # the one before it (all of them, except where a level is placed early on purpose).
    nested: int


def _custom(
    name: str,
    levels: list[tuple[ComparisonLevelCreator, float]],
    *,
    null: str | ComparisonLevelCreator,
    columns: Iterable[str] = (),
    nested: int | None = None,
) -> RoleComparison:
    """A comparison from (level, prior m probability) pairs, after the level for nulls.

    The priors are what a steward would guess for the share of true matches at each level; EM
    refines them when the data can identify them, and they stand when it cannot.
    """
    null_level = cll.NullLevel(null) if isinstance(null, str) else null
    comparison = cl.CustomComparison(
        comparison_levels=[null_level, *(level for level, _ in levels)],
        output_column_name=name,
    )
    comparison.configure(m_probabilities=[m for _, m in levels])
    return RoleComparison(
        comparison,
        frozenset(columns or [name]),
        len(levels),
        len(levels) if nested is None else nested,
    )


def _exact(column: str, m: float = 0.95) -> RoleComparison:
    return _custom(
        column, [(cll.ExactMatchLevel(column), m), (cll.ElseLevel(), 1 - m)], null=column
    )


def _name_similarity(at_least: float) -> ComparisonLevelCreator:
    """Jaro-Winkler on the pinyin / folded name, in either word order (ASCII: DuckDB's own)."""
    pairs = (("name_py", "name_py"), ("name_py", "name_alt"), ("name_alt", "name_py"))
    scores = ", ".join(f"jaro_winkler_similarity({a}_l, {b}_r)" for a, b in pairs)
    return cll.CustomLevel(
        f"greatest({scores}) >= {at_least}", label_for_charts=f"name: Jaro-Winkler >= {at_least}"
    )


def name_comparison() -> RoleComparison:
    levels = [
        # Common names (张伟, John Smith) say less than rare ones: term-frequency adjusted.
        (cll.ExactMatchLevel("name_std", term_frequency_adjustments=True), 0.7),
        (cll.ExactMatchLevel("name_py"), 0.06),  # same pinyin: 張偉 / Zhang Wei, or a homophone
        (
            cll.CustomLevel(
                "name_py_l = name_alt_r OR name_alt_l = name_py_r",
                label_for_charts="name in the other order",
            ),
            0.05,
        ),
        # One character apart, but only in names of three or more characters: 张伟 / 张玮
        # are different people more often than not.
        (_edits("name_std", 1, min_length=3), 0.05),
        (
            cll.CustomLevel(
                "jaro_winkler_similarity(given_key_l, given_key_r) >= 0.88 "
                "AND jaro_winkler_similarity(family_key_l, family_key_r) >= 0.88",
                label_for_charts="given and family names close",
            ),
            0.04,
        ),
        # Relatives share a family name (and an address): this level keeps them apart from
        # the fuzzy levels below, which a shared surname would otherwise reach.
        (
            cll.CustomLevel("family_key_l = family_key_r", label_for_charts="family name only"),
            0.005,
        ),
        (_name_similarity(0.92), 0.04),
        (_name_similarity(0.85), 0.02),
        (cll.ExactMatchLevel("name_init"), 0.01),
        (cll.ElseLevel(), 0.025),
    ]
    # "family name only" sits early to catch relatives, so only the levels above it are nested.
    return _custom("name", levels, null="name_py", columns=NAME_COLUMNS, nested=5)


def date_comparison() -> RoleComparison:
    swapped = (
        "substr(date_l, 1, 4) = substr(date_r, 1, 4) "
        "AND substr(date_l, 6, 2) = substr(date_r, 9, 2) "
        "AND substr(date_l, 9, 2) = substr(date_r, 6, 2)"
    )
    levels = [
        (cll.ExactMatchLevel("date"), 0.85),
        # 1980-03-05 / 1980-05-03: a file that wrote the month first.
        (cll.CustomLevel(swapped, label_for_charts="day and month swapped"), 0.03),
        (cll.DamerauLevenshteinLevel("date", 1), 0.08),
        (cll.ElseLevel(), 0.04),
    ]
    return _custom("date", levels, null="date")


def organisation_comparison(*, in_city: bool = False) -> RoleComparison:
    """How alike two institutions' names are. ``in_city``: for a file of institutions, the
    city compared with the name in one comparison — "第一人民医院" is near-certain in the same
    city and means nothing across two, which two independent comparisons cannot say."""
    contains = (
        "((length(org_key_l) >= 4 AND contains(org_key_r, org_key_l)) "
        "OR (length(org_key_r) >= 4 AND contains(org_key_l, org_key_r)))"
    )
    # Neighbouring institutions share most of their name (柯桥区康桥 / 柯桥区新村
    # 社区卫生服务中心, 第一 / 第三人民医院): names only count as close when their numerals agree
    # and what follows their places (``org_core``) is one typo apart, two in a long name that
    # starts alike, or one holds the other and a little more (济男一医院 / 一医院,
    # 二医院总院 / 二医院).
    edits = f"{CHAR_EDITS}(org_core_l, org_core_r)"
    compatible = (
        "(org_core_l IS NULL OR org_core_r IS NULL OR org_core_l = org_core_r "
        "OR (coalesce(org_num_l, '') = coalesce(org_num_r, '') AND ("
        f"({edits} <= 1 AND length(org_core_l) >= 3) "
        f"OR ({edits} <= 2 AND length(org_core_l) >= 8 "
        "AND substr(org_core_l, 1, 2) = substr(org_core_r, 1, 2)) "
        "OR (abs(length(org_core_l) - length(org_core_r)) <= 2 AND length(org_core_l) >= 3 "
        "AND length(org_core_r) >= 3 AND (contains(org_core_l, org_core_r) "
        "OR contains(org_core_r, org_core_l))))))"
    )
    similarity = f"{CHAR_SIMILARITY}(org_key_l, org_key_r)"
    name_levels: list[tuple[str, str, float]] = [
        ("org_name_l = org_name_r", "exact match on org_name", 0.6),  # campus included
        # One campus written two ways ("欣城分院" / "新城分院") beats the main hospital.
        (
            f"org_key_l = org_key_r AND {CHAR_SIMILARITY}(org_campus_l, org_campus_r) >= 0.6",
            "same institution, campus close",
            0.05,
        ),
        ("org_key_l = org_key_r", "exact match on org_key", 0.15),
        # The same institution with its places written differently or misspelt (海曙区 / 海曙曲).
        ("org_core_l = org_core_r", "same institution, places aside", 0.05),
        # "第一人民医院" written without its city, "royal infirmary" without "edinburgh".
        (f"{contains} AND {compatible}", "one name contains the other", 0.05),
        (f"{similarity} >= 0.92 AND {compatible}", "Jaro-Winkler >= 0.92", 0.06),
        (f"{similarity} >= 0.8 AND {compatible}", "Jaro-Winkler >= 0.8", 0.04),
    ]
    columns = ["org_name", "org_key", "org_campus", "org_core", "org_num"]
    levels: list[tuple[ComparisonLevelCreator, float]]
    if in_city:
        same_city = "city_l = city_r"
        levels = [(_level(f"{sql} AND {same_city}", label), m) for sql, label, m in name_levels]
        # The whole name, but the city unknown or another: a chain's or a university's
        # hospital, or a file that moved it — some evidence, far less.
        levels.insert(len(levels) - 1, (_level("org_name_l = org_name_r", "same name"), 0.02))
        levels = [(level, m * 0.9) for level, m in levels]
        columns.append("city")
        levels.append((cll.ElseLevel(), 1 - sum(m for _, m in levels)))
        # Not nested: the levels mix the name and the city, so a rarer one may weigh more.
        return _custom("organisation", levels, null="org_key", columns=columns, nested=0)
    levels = [(_level(sql, label), m) for sql, label, m in name_levels]
    levels.append((cll.ElseLevel(), 0.03))
    return _custom("organisation", levels, null="org_key", columns=columns)


def _fuzzy(column: str, thresholds: tuple[float, ...] = (0.9, 0.75)) -> RoleComparison:
    priors = (0.15, 0.08)[: len(thresholds)]
    levels: list[tuple[ComparisonLevelCreator, float]] = [(cll.ExactMatchLevel(column), 0.7)]
    levels += [(_similar(column, t), m) for t, m in zip(thresholds, priors, strict=True)]
    levels.append((cll.ElseLevel(), 1 - 0.7 - sum(priors)))
    return _custom(column, levels, null=column)


def address_with_postcode() -> RoleComparison:
    """Address and postcode as one comparison: a household shares both, so counted as two
    independent agreements they would outweigh a different name and birth date."""
    similar = f"{CHAR_SIMILARITY}(address_l, address_r)"
    levels = [
        (_level("address_l = address_r AND postcode_l = postcode_r", "both exact"), 0.65),
        (cll.ExactMatchLevel("address"), 0.1),
        (_level(f"postcode_l = postcode_r AND {similar} >= 0.9", "postcode, address close"), 0.1),
        (_level(f"{similar} >= 0.9", "address close"), 0.05),
        (cll.ExactMatchLevel("postcode"), 0.04),
        (_level(f"{similar} >= 0.75", "address similar"), 0.03),
        (cll.ElseLevel(), 0.03),
    ]
    both_null = cll.CustomLevel(
        "(address_l IS NULL OR address_r IS NULL) AND (postcode_l IS NULL OR postcode_r IS NULL)"
    ).configure(is_null_level=True)
    return _custom("address", levels, null=both_null, columns=("address", "postcode"))


def _one_edit(column: str) -> RoleComparison:
    levels = [
        (cll.ExactMatchLevel(column), 0.9),
        (cll.DamerauLevenshteinLevel(column, 1), 0.05),
        (cll.ElseLevel(), 0.05),
    ]
    return _custom(column, levels, null=column)


def comparisons_for(columns: set[str]) -> dict[str, RoleComparison]:
    """One comparison per mapped role, by output name, given the prepared columns."""
    out: dict[str, RoleComparison] = {}
    if "name_py" in columns:
        out["name"] = name_comparison()
    if "date" in columns:
        out["date"] = date_comparison()
    # A file of institutions compares the name within the city; a file of people compares the
    # city on its own, as people move between institutions of one city.
    in_city = "city" in columns and "org_key" in columns and "name_py" not in columns
    if "org_key" in columns:
        out["organisation"] = organisation_comparison(in_city=in_city)
    if "city" in columns and not in_city:
        out["city"] = _exact("city")
    if {"address", "postcode"} <= columns:
        out["address"] = address_with_postcode()
    elif "address" in columns:
        out["address"] = _fuzzy("address")
    compared = out["address"].columns if "address" in out else frozenset()
    for column in ("postcode", "phone", "licence"):
        if column in columns and column not in compared:
            out[column] = _one_edit(column)
    if "department" in columns:
        out["department"] = _fuzzy("department", (0.85,))
    if "title" in columns:
        out["title"] = _exact("title", 0.8)  # titles change with promotions
    if "gender" in columns:
        out["gender"] = _exact("gender", 0.98)
    for column in sorted(columns):
        if column.startswith("exact_"):
            out[column] = _exact(column)
        elif column.startswith("fuzzy_"):
            out[column] = _fuzzy(column)
    return out

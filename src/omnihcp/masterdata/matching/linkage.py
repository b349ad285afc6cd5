"""Deduplication and linkage of any person or organisation file with Splink on DuckDB (or Spark).

The stages are Splink's: standardised records (``prepare``) are paired by several blocking
rules, compared level by level (``comparisons``), scored by a Fellegi-Sunter model and, for a
dedupe, clustered by connected components above a threshold. Training is deterministic: the
share of matches from near-certain rules, u by random sampling with a fixed seed, m by
expectation maximisation on blocking rules (``training``). A trained model can be saved and
reused (``model``); a model trained on a dedupe also serves a link of the same roles, as m and u
mean the same in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal, TypeAlias

import pandas as pd  # type: ignore[import-untyped]  # pandas ships no type information
from django.utils.translation import gettext as _
from splink import Linker, SettingsCreator
from splink.blocking_analysis import count_comparisons_from_blocking_rule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.splink_dataframe import SplinkDataFrame

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.matching.blocking import blocking_rules_for
from omnihcp.masterdata.matching.comparisons import comparisons_for
from omnihcp.masterdata.matching.config import LinkageConfig, Roles, check_columns
from omnihcp.masterdata.matching.engines import EngineSession, open_session
from omnihcp.masterdata.matching.model import LinkageModel
from omnihcp.masterdata.matching.prepare import UNIQUE_ID, prepare_columns
from omnihcp.masterdata.matching.training import train

PAIR_COLUMNS = ["left_id", "right_id", "match_probability"]
LABEL = "truth_label"  # a labelled training file's true entity, compared by no rule
CLUSTER_COLUMNS = ["record_id", "cluster_id"]

# A pandas frame or rows as dicts (``files.read_table``); pandas has no types, hence Any.
Records: TypeAlias = Any | Sequence[Mapping[str, object]]
LinkType = Literal["dedupe_only", "link_only"]


@dataclass(frozen=True)
class DedupeResult:
    clusters: pd.DataFrame  # record_id, cluster_id: every record, singletons included
    pairs: pd.DataFrame  # left_id, right_id, match_probability
    model: LinkageModel


@dataclass(frozen=True)
class LinkResult:
    pairs: pd.DataFrame  # left_id, right_id, match_probability; best first per left_id
    model: LinkageModel


def _rows(records: Records) -> tuple[list[str], Iterable[Mapping[str, object]]]:
    if isinstance(records, pd.DataFrame):
        frame = records.astype(object).where(records.notna(), None)
        return [str(c) for c in frame.columns], frame.to_dict("records")
    columns = getattr(records, "columns", None)
    if columns is not None:  # files.CsvRows: streamed from disk, never all in memory
        return list(columns), records
    rows: list[Mapping[str, object]] = list(records)
    return (list(rows[0]) if rows else []), rows


def _prepare(records: Records, roles: Roles, config: LinkageConfig, label: str) -> pd.DataFrame:
    columns, rows = _rows(records)
    check_columns(roles, columns, label=label)
    prepared = prepare_columns(rows, roles, date_order=config.date_order, label=label)
    count = len(prepared.get(UNIQUE_ID, ()))
    if count < 2:
        raise ApplicationError(
            _("Too few records to match in %(file)s (%(count)d).")
            % {"file": label, "count": count},
            field="file",
            code="linkage_input",
        )
    return pd.DataFrame(prepared, dtype=object)


def _settings(columns: set[str], link_type: LinkType, prior: float) -> SettingsCreator:
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name=UNIQUE_ID,
        comparisons=[c.creator for c in comparisons_for(columns).values()],
        blocking_rules_to_generate_predictions=[*blocking_rules_for(columns)],
        probability_two_random_records_match=prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        em_convergence=0.001,
        max_iterations=25,
    )


def _linker(
    session: EngineSession,
    tables: list[str],
    link_type: LinkType,
    config: LinkageConfig,
    model: LinkageModel | None,
    prior: float,
    pairs: int,
    label: str | None = None,
    true_pairs: int = 0,
) -> tuple[Linker, LinkageModel]:
    db_api = session.db_api
    aliases = ["left", "right"] if link_type == "link_only" else None
    if model is not None and model.config_digest != config.digest():
        raise ApplicationError(
            _("The model was trained with a different linkage config (other roles or columns)."),
            field="model",
            code="linkage_model",
        )
    if model is None:
        trainer = Linker(
            tables,
            session.settings(_settings(session.columns, link_type, prior)),
            db_api,
            set_up_basic_logging=False,
            input_table_aliases=aliases,
        )
        model = LinkageModel(
            config_digest=config.digest(),
            splink_settings=session.portable(
                train(
                    trainer,
                    session.columns,
                    prior=prior,
                    pairs=pairs,
                    count_pairs=partial(_count_pairs, tables, link_type, db_api),
                    label=label,
                    true_pairs=true_pairs,
                )
            ),
        )
    # Prediction always runs from the model's settings, so a saved model reloaded scores
    # exactly as the run that trained it.
    settings: Any = session.settings({**model.splink_settings, "link_type": link_type})
    linker = Linker(
        tables, settings, db_api, set_up_basic_logging=False, input_table_aliases=aliases
    )
    return linker, model


def _count_pairs(
    tables: list[str], link_type: LinkType, db_api: Any, rule: BlockingRuleCreator
) -> int:
    counts = count_comparisons_from_blocking_rule(
        table_or_tables=tables,
        blocking_rule=rule,
        link_type=link_type,
        db_api=db_api,
        unique_id_column_name=UNIQUE_ID,
        compute_post_filter_count=False,
    )
    return int(counts["number_of_comparisons_generated_pre_filter_conditions"])


def _frame(table: SplinkDataFrame) -> pd.DataFrame:
    return table.as_pandas_dataframe()  # type: ignore[no-untyped-call]  # untyped in Splink


def _pairs(predictions: pd.DataFrame, floor: float, *, swap: bool) -> pd.DataFrame:
    if predictions.empty:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    frame = predictions[predictions["match_probability"] >= floor]
    left, right = frame["unique_id_l"].astype(str), frame["unique_id_r"].astype(str)
    if swap:
        # Splink orders a pair by source table name; put the left file's record first always.
        flipped = frame["source_dataset_l"] != "left"
        left, right = left.where(~flipped, right), right.where(~flipped, left)
    pairs = pd.DataFrame(
        {
            "left_id": left.to_numpy(),
            "right_id": right.to_numpy(),
            "match_probability": frame["match_probability"].astype(float).to_numpy(),
            "match_weight": frame["match_weight"].astype(float).to_numpy(),
        }
    )
    # By weight, not probability: near 1 probabilities round alike, weights still differ.
    pairs = pairs.sort_values(
        ["left_id", "match_weight", "right_id"], ascending=[True, False, True]
    )
    return pairs[PAIR_COLUMNS].reset_index(drop=True)


def dedupe(
    records: Records,
    config: LinkageConfig,
    *,
    model: LinkageModel | None = None,
    source: str | None = None,
    engine: str = "duckdb",
) -> DedupeResult:
    """Clusters of records that are the same person or organisation, and the scored pairs.

    ``source`` names the records in error messages (a file name); ``model`` skips training;
    ``engine`` is where Splink runs (``engines``).
    """
    frame = _prepare(records, config.left, config, source or _("the file"))
    session = open_session(engine)
    try:
        count = session.add_table("records", frame)
        del frame  # DuckDB holds the records now
        linker, trained = _linker(
            session,
            ["records"],
            "dedupe_only",
            config,
            model,
            prior=1 / count,
            pairs=count * (count - 1) // 2,
        )
        floor = min(config.pair_floor, config.cluster_threshold)
        predictions = linker.inference.predict(threshold_match_probability=floor)
        clusters = _frame(
            linker.clustering.cluster_pairwise_predictions_at_threshold(
                predictions, threshold_match_probability=config.cluster_threshold
            )
        )
        pairs = _pairs(_frame(predictions), config.pair_floor, swap=False)
    finally:
        session.close()
    clusters = pd.DataFrame(
        {
            "record_id": clusters[UNIQUE_ID].astype(str).to_numpy(),
            "cluster_id": clusters["cluster_id"].astype(str).to_numpy(),
        }
    )
    clusters = clusters.sort_values(["cluster_id", "record_id"]).reset_index(drop=True)
    return DedupeResult(clusters=clusters, pairs=pairs, model=trained)


def link(
    left: Records,
    right: Records,
    config: LinkageConfig,
    *,
    model: LinkageModel | None = None,
    sources: tuple[str, str] | None = None,
    engine: str = "duckdb",
) -> LinkResult:
    """Every candidate pair of a left and a right record scoring at least the pair floor."""
    left_label, right_label = sources or (_("the left file"), _("the right file"))
    left_frame = _prepare(left, config.left, config, left_label)
    right_frame = _prepare(right, config.right, config, right_label)
    session = open_session(engine)
    try:
        left_count = session.add_table("left_records", left_frame)
        right_count = session.add_table("right_records", right_frame)
        linker, trained = _linker(
            session,
            ["left_records", "right_records"],
            "link_only",
            config,
            model,
            prior=1 / right_count,
            pairs=left_count * right_count,
        )
        predictions = linker.inference.predict(threshold_match_probability=config.pair_floor)
        pairs = _pairs(_frame(predictions), config.pair_floor, swap=True)
    finally:
        session.close()
    return LinkResult(pairs=pairs, model=trained)


def train_model(
    records: Records,
    config: LinkageConfig,
    *,
    source: str | None = None,
    engine: str = "duckdb",
    label: str | None = None,
) -> tuple[LinkageModel, int]:
    """A model trained on a dedupe of ``records`` without scoring every pair, and the number
    of records it learnt from. ``label`` names a column holding each record's true entity
    (a labelled training file): m is then counted from the labelled pairs, not estimated."""
    frame = _prepare(records, config.left, config, source or _("the file"))
    true_pairs = 0
    if label:
        labels = _labels(records, label, source or _("the file"))
        frame[LABEL] = labels
        sizes = pd.Series(labels).value_counts()
        true_pairs = int((sizes * (sizes - 1) // 2).sum())
    session = open_session(engine)
    try:
        count = session.add_table("records", frame)
        session.columns.discard(LABEL)
        del frame
        _linker_unused, trained = _linker(
            session,
            ["records"],
            "dedupe_only",
            config,
            None,
            prior=1 / count,
            pairs=count * (count - 1) // 2,
            label=LABEL if label else None,
            true_pairs=true_pairs,
        )
    finally:
        session.close()
    return trained, count


def _labels(records: Records, column: str, label: str) -> list[str]:
    columns, rows = _rows(records)
    if column not in columns:
        raise ApplicationError(
            _("Column “%(column)s” (the label) is not in %(file)s.")
            % {"column": column, "file": label},
            field="label",
            code="linkage_input",
        )
    read = getattr(rows, "column_values", None)
    values: list[str] = (
        read([column])[column] if read is not None else [str(r.get(column) or "") for r in rows]
    )
    return [value or f"unlabelled-{i}" for i, value in enumerate(values)]

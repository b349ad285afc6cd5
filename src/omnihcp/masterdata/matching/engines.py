"""Where Splink runs: DuckDB in this process (the default), or Spark for files too big for one
machine (``--engine spark``; pyspark comes with the ``spark`` extra).

An engine session holds the prepared tables, the functions the comparisons call and Splink's
database API. One model serves both engines: a saved model's SQL is DuckDB's; the Spark
session translates it (sqlglot) when it hands settings to Splink, with DuckDB's functions that
Spark lacks registered on Spark as DuckDB computes them (``_spark_functions``; Splink's jar
supplies ``damerau_levenshtein``, used only on ASCII codes and dates with at most one edit,
where the two agree), and translates a model trained on Spark back, so that the file it saves
reads as one trained on DuckDB. So a model scores every pair alike on both engines. Training
on Spark gives the same parameters up to rounding while every pair is sampled for u (files
of up to about 900 records, ``training.U_MAX_PAIRS``); above that Spark draws its own random
sample, and u, and so the probabilities, differ slightly from a DuckDB training's.

Spark runs in local mode (``local[2]``, small memory, few shuffle partitions), started once per
process on first use; ``OMNIHCP_SPARK_MASTER`` points it at a cluster instead, with
``OMNIHCP_SPARK_CHECKPOINT_DIR`` a folder on storage its machines share.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd  # type: ignore[import-untyped]  # pandas ships no type information
import sqlglot
from django.utils.translation import gettext as _
from splink import DuckDBAPI, SettingsCreator
from sqlglot import exp

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.matching.comparisons import (
    CHAR_EDITS,
    CHAR_SIMILARITY,
    register_functions,
    unregister_functions,
)
from omnihcp.masterdata.matching.prepare import UNIQUE_ID

ENGINES = ("duckdb", "spark")
# DuckDB's memory cap; above it joins spill to disk (OMNIHCP_LINKAGE_MEMORY, e.g. "6GB").
DUCKDB_MEMORY = os.environ.get("OMNIHCP_LINKAGE_MEMORY", "2GB")
MODEL_DIALECT = "duckdb"  # the dialect of every saved model's SQL
SPARK_CONFIG = {
    "spark.driver.memory": "1g",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "false",  # Splink's SQL is written for Spark's default mode
}
JARO_WINKLER = "jaro_winkler_similarity"  # DuckDB's, registered on Spark under its own name
# Functions sqlglot would rename for Spark (to names no Spark function has): kept as they are.
_SPARK_FUNCTIONS = {exp.JarowinklerSimilarity: JARO_WINKLER}

Settings = SettingsCreator | dict[str, Any]


class EngineSession:
    """The DuckDB session: one in-memory connection with our functions and the tables."""

    name = "duckdb"

    def __init__(self) -> None:
        # DuckDB may take most of the machine's memory by default; capped, it spills big joins
        # to a scratch folder of its own instead (deleted with the session).
        self.scratch = tempfile.TemporaryDirectory(prefix="omnihcp-linkage-")
        self.connection = duckdb.connect(
            ":memory:",
            config={"memory_limit": DUCKDB_MEMORY, "temp_directory": self.scratch.name},
        )
        register_functions(self.connection)
        self.db_api: Any = DuckDBAPI(connection=self.connection)
        self.columns: set[str] = set()

    def add_table(self, name: str, frame: pd.DataFrame) -> int:
        # Explicit VARCHAR columns: a column that is null in every row would otherwise arrive
        # with DuckDB's NULL type and break the string functions of the comparisons.
        # Sorted by id, so that the u sample (seeded) does not depend on the file's row order.
        self.connection.register("incoming", frame)
        casts = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' for c in frame.columns)
        self.connection.execute(
            f"CREATE TABLE {name} AS SELECT {casts} FROM incoming ORDER BY {UNIQUE_ID}"  # noqa: S608
        )
        self.connection.unregister("incoming")
        self.columns = set(frame.columns) - {UNIQUE_ID}
        return len(frame)

    def settings(self, settings: Settings) -> Settings:
        """The settings as this engine's Splink takes them (a model's own dialect here)."""
        return settings

    def portable(self, trained: dict[str, Any]) -> dict[str, Any]:
        """A model trained in this session, its SQL in the dialect saved models use."""
        return trained

    def close(self) -> None:
        unregister_functions(self.connection)
        self.connection.close()
        self.scratch.cleanup()


def _spark_sql(sql: str) -> str:
    tree = sqlglot.parse_one(sql, read=MODEL_DIALECT)
    for kind, name in _SPARK_FUNCTIONS.items():
        for node in list(tree.find_all(kind)):
            node.replace(exp.Anonymous(this=name, expressions=[node.this, node.expression]))
    return tree.sql(dialect="spark")


def _import_spark() -> Any:
    try:
        importlib.import_module("pyspark")  # first: a missing pyspark fails here, whole
        return importlib.import_module("pyspark.sql")
    except ImportError as exc:
        raise ApplicationError(
            _(
                "The Spark engine needs pyspark, which is not installed: install OmniHCP with "
                "its “spark” extra (pip install 'omnihcp[spark]'), or use --engine duckdb."
            ),
            field="engine",
            code="linkage_engine",
        ) from exc


_spark_lock = threading.Lock()
_spark: Any = None
_scratch: tempfile.TemporaryDirectory[str] | None = None


def spark_session() -> Any:
    """The process's SparkSession, started on first use with Splink's jar of string functions.

    A session created earlier with the jar (e.g. by a cluster's launcher) is reused as it is.
    """
    global _spark, _scratch  # one SparkSession per process, as Spark wants
    sql = _import_spark()
    with _spark_lock:
        if _spark is None:
            from splink.backends.spark import similarity_jar_location

            # The Python workers that run our functions use this interpreter and its packages.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = sql.SparkSession.builder.master(
                os.environ.get("OMNIHCP_SPARK_MASTER", "local[2]")
            ).appName("omnihcp-linkage")
            for key, value in {**SPARK_CONFIG, "spark.jars": similarity_jar_location()}.items():
                builder = builder.config(key, value)
            _spark = builder.getOrCreate()
            _spark.sparkContext.setLogLevel("ERROR")
            if _spark.sparkContext.getCheckpointDir() is None:
                # Splink writes its intermediate tables here as Parquet: held in memory, the
                # plans of the clustering's iterations would grow until the driver runs out.
                # A cluster needs a folder all its machines share (OMNIHCP_SPARK_CHECKPOINT_DIR).
                folder = os.environ.get("OMNIHCP_SPARK_CHECKPOINT_DIR")
                if not folder:
                    _scratch = tempfile.TemporaryDirectory(prefix="omnihcp-spark-")
                    folder = _scratch.name
                _spark.sparkContext.setCheckpointDir(folder)
        return _spark


def spark_stop() -> None:
    """Stop the process's SparkSession (tests; a command's process simply exits)."""
    global _spark, _scratch
    with _spark_lock:
        if _spark is not None:
            _spark.stop()
            _spark = None
        if _scratch is not None:
            _scratch.cleanup()
            _scratch = None


def _text_or_none(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return str(value)


def _spark_functions() -> dict[str, tuple[Callable[[str | None, str | None], object], str]]:
    """The functions the model's SQL calls that Spark lacks, as DuckDB computes them.

    Ours (``comparisons``), and DuckDB's ``jaro_winkler_similarity``, which is rapidfuzz's on
    UTF-8 bytes: the Jaro-Winkler of Splink's jar differs from it on one pair in a few hundred,
    enough to move a pair to another level. Null for a null: Spark calls a Python function on
    every row, before the CASE that skips nulls. Made here, as closures calling rapidfuzz, so
    that Spark ships them whole and its Python workers need not import OmniHCP, Splink and
    DuckDB first.
    """
    from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

    def char_edits(left: str | None, right: str | None) -> object:
        if left is None or right is None:
            return None
        return int(DamerauLevenshtein.distance(left, right))

    def char_similarity(left: str | None, right: str | None) -> object:
        if left is None or right is None:
            return None
        return float(JaroWinkler.similarity(left, right))

    def byte_similarity(left: str | None, right: str | None) -> object:
        if left is None or right is None:
            return None
        return float(JaroWinkler.similarity(left.encode(), right.encode()))

    return {
        CHAR_EDITS: (char_edits, "LongType"),
        CHAR_SIMILARITY: (char_similarity, "DoubleType"),
        JARO_WINKLER: (byte_similarity, "DoubleType"),
    }


class SparkEngineSession(EngineSession):
    """A Spark session of its own (its tables, functions and settings) on the shared context."""

    name = "spark"

    def __init__(self) -> None:
        self.spark = spark_session().newSession()  # fails first, and clearly, without pyspark
        from splink.backends.spark import SparkAPI

        types = importlib.import_module("pyspark.sql.types")
        self.types = types
        for name, (function, result) in _spark_functions().items():
            self.spark.udf.register(name, function, getattr(types, result)())
        partitions = int(self.spark.conf.get("spark.sql.shuffle.partitions"))
        self.db_api = SparkAPI(  # type: ignore[no-untyped-call]  # untyped in Splink
            spark_session=self.spark,
            break_lineage_method="parquet",
            num_partitions_on_repartition=max(partitions, 1),
            register_udfs_automatically=True,
        )
        self.columns = set()
        # Spark SQL → the DuckDB SQL it was translated from, to save a trained model in DuckDB's.
        self._original: dict[str, str] = {}

    def add_table(self, name: str, frame: pd.DataFrame) -> int:
        # Sorted by id, like DuckDB's, for the same u sample wherever Spark's sampling allows.
        frame = frame.sort_values(UNIQUE_ID, kind="stable")
        columns = [str(c) for c in frame.columns]
        schema = self.types.StructType(
            [self.types.StructField(c, self.types.StringType(), True) for c in columns]
        )
        rows = [tuple(_text_or_none(v) for v in row) for row in frame.itertuples(index=False)]
        # Two partitions at most: a small file in many pieces only slows Spark down.
        self.spark.createDataFrame(rows, schema).coalesce(2).createOrReplaceTempView(name)
        self.columns = set(columns) - {UNIQUE_ID}
        return len(frame)

    def _translate(self, sql: str) -> str:
        if sql.strip().upper() == "ELSE":
            return sql
        translated = _spark_sql(sql)
        self._original[translated] = sql
        return translated

    def _untranslate(self, sql: str) -> str:
        if sql.strip().upper() == "ELSE":
            return sql
        # As written before translation; SQL Splink wrote itself, translated back.
        return (
            self._original.get(sql) or sqlglot.transpile(sql, read="spark", write=MODEL_DIALECT)[0]
        )

    def settings(self, settings: Settings) -> Settings:
        body = (
            settings.create_settings_dict(MODEL_DIALECT)
            if isinstance(settings, SettingsCreator)
            else copy.deepcopy(settings)
        )
        dialect = body.get("sql_dialect", MODEL_DIALECT)
        if dialect != MODEL_DIALECT:
            raise ApplicationError(
                _("The model's SQL is in the %(dialect)s dialect; retrain it with this OmniHCP.")
                % {"dialect": dialect},
                field="model",
                code="linkage_model",
            )
        for comparison in body.get("comparisons", []):
            for level in comparison["comparison_levels"]:
                level["sql_condition"] = self._translate(level["sql_condition"])
        body["blocking_rules_to_generate_predictions"] = [
            {
                "blocking_rule": self._translate(
                    rule["blocking_rule"] if isinstance(rule, dict) else rule
                ),
                "sql_dialect": "spark",
            }
            for rule in body.get("blocking_rules_to_generate_predictions", [])
        ]
        body["sql_dialect"] = "spark"
        return body

    def portable(self, trained: dict[str, Any]) -> dict[str, Any]:
        model = copy.deepcopy(trained)
        levels = itertools.chain.from_iterable(
            c["comparison_levels"] for c in model.get("comparisons", [])
        )
        for level in levels:
            level["sql_condition"] = self._untranslate(level["sql_condition"])
        model["blocking_rules_to_generate_predictions"] = [
            {
                "blocking_rule": self._untranslate(rule["blocking_rule"]),
                "sql_dialect": MODEL_DIALECT,
            }
            for rule in model.get("blocking_rules_to_generate_predictions", [])
        ]
        model["sql_dialect"] = MODEL_DIALECT
        return model

    def close(self) -> None:
        # Splink's intermediate tables: a view each (this session's own) over Parquet files.
        folder = self.spark.sparkContext.getCheckpointDir()
        catalog = self.spark.catalog
        for table in catalog.listTables():
            if table.isTemporary:
                catalog.dropTempView(table.name)
                if folder and folder.startswith("file:"):
                    shutil.rmtree(Path(folder.removeprefix("file:")) / table.name, True)


def open_session(engine: str) -> EngineSession:
    if engine == "duckdb":
        return EngineSession()
    if engine == "spark":
        return SparkEngineSession()
    raise ApplicationError(
        _("Unknown engine “%(engine)s”: use one of %(engines)s.")
        % {"engine": engine, "engines": ", ".join(ENGINES)},
        field="engine",
        code="linkage_engine",
    )

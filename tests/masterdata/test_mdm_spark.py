"""``--engine spark``: the linkage model of ``omnihcp mdm dedupe`` / ``mdm link`` on Splink's
Spark backend, in local mode, on files of about two hundred records with known duplicates.

One model serves both engines: a model trained on DuckDB scores the same pairs with the same
probabilities on Spark, and one trained on Spark is saved in the same form. pyspark comes with
the ``spark`` extra, which ``make install`` installs: a missing pyspark fails these tests."""

from __future__ import annotations

import json
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.matching import dedupe, engines, link
from tests.masterdata.test_mdm_linkage import (
    DOCTORS_TOML,
    LINK_TOML,
    PEOPLE_CONFIG,
    _read_csv,
    _toml_config,
    _write_csv,
    doctors_file,
    free_text_hospitals,
    hco_master,
    pairwise_quality,
    people_file,
)

TOLERANCE = 1e-6


@pytest.fixture(scope="module")
def spark():
    """One local Spark for the module: starting it takes seconds."""
    session = engines.spark_session()
    yield session
    engines.spark_stop()


def _assert_same_pairs(duckdb_pairs, spark_pairs):
    assert list(spark_pairs["left_id"]) == list(duckdb_pairs["left_id"])
    assert list(spark_pairs["right_id"]) == list(duckdb_pairs["right_id"])
    difference = (spark_pairs["match_probability"] - duckdb_pairs["match_probability"]).abs()
    assert difference.max() < TOLERANCE, difference.max()


def _assert_same_model(on_spark, on_duckdb):
    """The same SQL, saved in DuckDB's dialect, and the same parameters."""
    assert on_spark["sql_dialect"] == "duckdb"
    assert (
        on_spark["blocking_rules_to_generate_predictions"]
        == on_duckdb["blocking_rules_to_generate_predictions"]
    )
    assert on_spark["probability_two_random_records_match"] == pytest.approx(
        on_duckdb["probability_two_random_records_match"], abs=1e-9
    )
    for spark_comparison, duckdb_comparison in zip(
        on_spark["comparisons"], on_duckdb["comparisons"], strict=True
    ):
        for spark_level, duckdb_level in zip(
            spark_comparison["comparison_levels"],
            duckdb_comparison["comparison_levels"],
            strict=True,
        ):
            assert spark_level["sql_condition"] == duckdb_level["sql_condition"]
            for key in ("m_probability", "u_probability"):
                if key in duckdb_level:
                    assert spark_level[key] == pytest.approx(duckdb_level[key], abs=1e-9)


def _saved(path):
    return json.loads(path.read_text(encoding="utf-8"))["splink"]


def test_a_duckdb_model_dedupes_the_same_on_spark(spark):
    rows, truth = people_file(people=150, seed=5)
    on_duckdb = dedupe(rows, PEOPLE_CONFIG)

    on_spark = dedupe(rows, PEOPLE_CONFIG, model=on_duckdb.model, engine="spark")

    assert len(on_duckdb.pairs) > 30
    _assert_same_pairs(on_duckdb.pairs, on_spark.pairs)
    assert on_spark.clusters.to_dict("records") == on_duckdb.clusters.to_dict("records")
    clusters = zip(on_spark.clusters["record_id"], on_spark.clusters["cluster_id"], strict=True)
    precision, recall = pairwise_quality(clusters, truth)
    assert precision >= 0.9
    assert recall >= 0.9


def test_free_text_hospitals_link_the_same_on_spark(spark):
    # Organisation names: the "contains" level, blocking on a name's last four characters and
    # the character similarity of Chinese text all run as Spark SQL here.
    master = hco_master()
    left = free_text_hospitals(master)
    config = _toml_config(LINK_TOML)
    on_duckdb = link(left, master, config)

    on_spark = link(left, master, config, model=on_duckdb.model, engine="spark")

    assert len(on_duckdb.pairs) > len(left)
    _assert_same_pairs(on_duckdb.pairs, on_spark.pairs)
    best = on_spark.pairs.drop_duplicates("left_id").set_index("left_id")["right_id"].to_dict()
    correct = sum(best.get(row["customer_no"]) == row["expected"] for row in left)
    assert correct / len(left) >= 0.9


def test_the_command_trains_on_spark_and_saves_the_model_duckdb_trains(spark, tmp_path):
    # Chinese names and hospitals: our character functions run as Python functions on Spark.
    rows, truth = doctors_file(doctors=150, seed=3)
    _write_csv(tmp_path / "doctors.csv", rows, "gbk")
    (tmp_path / "doctors.toml").write_text(DOCTORS_TOML, encoding="utf-8")
    common = [str(tmp_path / "doctors.csv"), "--config", str(tmp_path / "doctors.toml")]
    spark_model, duckdb_model = tmp_path / "spark.json", tmp_path / "duckdb.json"

    with translation.override("zh-hans"):
        call_command(
            "mdm", "dedupe", *common, "--engine", "spark", "--out", str(tmp_path / "spark"),
            "--save-model", str(spark_model),
        )  # fmt: skip
    call_command(
        "mdm", "dedupe", *common, "--out", str(tmp_path / "duckdb"),
        "--save-model", str(duckdb_model),
    )  # fmt: skip
    call_command(
        "mdm", "dedupe", *common, "--out", str(tmp_path / "reused"), "--model", str(spark_model)
    )

    clusters = _read_csv(tmp_path / "spark" / "clusters.csv")
    pairs = _read_csv(tmp_path / "spark" / "pairs.csv")
    assert clusters[0] == ["record_id", "cluster_id"]
    assert pairs[0] == ["left_id", "right_id", "match_probability"]
    assert len(pairs) > 30
    assert sorted(r for r, _ in clusters[1:]) == sorted(truth)
    precision, recall = pairwise_quality([(r, c) for r, c in clusters[1:]], truth)
    assert precision >= 0.9
    assert recall >= 0.9
    # The model trained on Spark, loaded on DuckDB: the pairs and clusters Spark wrote.
    assert _read_csv(tmp_path / "reused" / "pairs.csv") == pairs
    assert _read_csv(tmp_path / "reused" / "clusters.csv") == clusters
    # Every pair is sampled for u in a file this small; a bigger file's sample is Spark's own.
    _assert_same_model(_saved(spark_model), _saved(duckdb_model))


def test_without_pyspark_the_spark_engine_says_to_install_the_extra(tmp_path, monkeypatch):
    rows, _truth = people_file(people=20)
    _write_csv(tmp_path / "people.csv", rows, "utf-8")
    (tmp_path / "people.toml").write_text(
        'record_id = "person_id"\ngiven_name = "given_name"\nfamily_name = "surname"\n',
        encoding="utf-8",
    )
    monkeypatch.setitem(sys.modules, "pyspark", None)  # what `import pyspark` finds: nothing

    with translation.override("en"), pytest.raises(CommandError, match="“spark” extra"):
        call_command(
            "mdm", "dedupe", str(tmp_path / "people.csv"), "--config",
            str(tmp_path / "people.toml"), "--engine", "spark", "--out", str(tmp_path / "out"),
        )  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_an_unknown_engine_is_refused_by_name():
    rows, _truth = people_file(people=20)

    with translation.override("en"), pytest.raises(ApplicationError, match="hadoop") as error:
        dedupe(rows, PEOPLE_CONFIG, engine="hadoop")
    assert error.value.field == "engine"

"""Online matching of one HCP record against the master: what a rep's "is it one of these?"
list, the API and identity resolution get, and that it scores as the batch Splink model does."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import opencc
import pandas as pd  # type: ignore[import-untyped]
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from splink import DuckDBAPI, Linker

from omnihcp.core import pi
from omnihcp.demo import noisy
from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata.matching import online
from omnihcp.masterdata.matching.comparisons import register_functions, unregister_functions
from omnihcp.masterdata.matching.online import AUTO, NONE, REVIEW, HCPQuery, match_hcp
from omnihcp.masterdata.models import HCP, MatchingModel, RecordStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_scorer() -> Iterator[None]:
    online.SCORER.reset()
    with translation.override("en"):
        yield
    online.SCORER.reset()


def doctors(count: int = 20) -> list[HCP]:
    return list(
        HCP.objects.filter(status=RecordStatus.ACTIVE, department__isnull=False)
        .select_related("primary_hco", "department")
        .order_by("id")[:count]
    )


def query_for(hcp: HCP, **changes: Any) -> HCPQuery:
    values: dict[str, Any] = {
        "name": hcp.name,
        "hospital": hcp.primary_hco.name,
        "city": hcp.primary_hco.city,
        "department": hcp.department.name if hcp.department else "",
        "title": hcp.get_title_display(),
        "gender": hcp.gender,
    }
    values.update(changes)
    return HCPQuery(**values)


def test_a_doctor_typed_again_is_found_first_and_auto_matched() -> None:
    for hcp in doctors(10):
        best = match_hcp(query_for(hcp))[0]
        assert best.hcp_id == hcp.pk
        assert best.outcome == AUTO
        assert "same name" in best.reasons
        assert "same hospital" in best.reasons


def test_traditional_characters_and_a_short_hospital_name_still_find_the_doctor() -> None:
    hcp = next(h for h in doctors(300) if h.primary_hco.short_name)
    traditional = opencc.OpenCC("s2t").convert(hcp.name)
    suggestions = match_hcp(query_for(hcp, name=traditional, hospital=hcp.primary_hco.short_name))
    assert suggestions
    assert suggestions[0].hcp_id == hcp.pk
    assert suggestions[0].outcome in {AUTO, REVIEW}


def test_the_same_mobile_phone_finds_a_doctor_whose_name_was_mistyped() -> None:
    hcp = HCP.objects.exclude(mobile_hash="").select_related("primary_hco").first()
    assert hcp is not None
    mobile = pi.decrypt(hcp.mobile_encrypted)
    query = HCPQuery(
        name=hcp.name[0] + "某某", mobile=f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    )
    suggestions = match_hcp(query)
    assert [s.hcp_id for s in suggestions][:1] == [hcp.pk]
    assert "same mobile phone" in suggestions[0].reasons
    # A platform that sends only the hash gets the same answer.
    hashed = match_hcp(HCPQuery(name=query.name, mobile_hash=hcp.mobile_hash))
    assert hashed[0].hcp_id == hcp.pk
    assert hashed[0].probability == pytest.approx(suggestions[0].probability)


def test_a_doctor_unknown_to_the_master_gets_no_confident_match() -> None:
    hcp = doctors(1)[0]
    suggestions = match_hcp(query_for(hcp, name="司马相如", department="", title=""))
    assert all(s.outcome == NONE for s in suggestions)
    assert match_hcp(HCPQuery(name="  ")) == []


def test_thresholds_are_set_per_entity_type_in_settings() -> None:
    hcp = doctors(1)[0]
    query = query_for(hcp, department="", title="", gender="")
    probability = match_hcp(query)[0].probability
    strict = {"hcp": {"auto": 1.1, "review": probability / 2}, "hco": {"auto": 1, "review": 1}}
    with override_settings(MDM_MATCH_THRESHOLDS=strict):
        assert match_hcp(query)[0].outcome == REVIEW
    lax = {"hcp": {"auto": 1.1, "review": 1.05}, "hco": {"auto": 1, "review": 1}}
    with override_settings(MDM_MATCH_THRESHOLDS=lax):
        assert match_hcp(query)[0].outcome == NONE


def test_each_candidate_scores_exactly_as_splink_scores_the_pair() -> None:
    """The online scores are the trained model's: Splink's own compare_two_records on the same
    prepared records (term frequencies included) gives the same probabilities."""
    hcp = doctors(40)[-1]
    query = query_for(hcp, department="", title="主任")
    suggestions = match_hcp(query, limit=50)
    assert len(suggestions) >= 1
    place = online._place(query)
    query_row = online._query_row(query, place.hospital, place.city)
    rows = online._candidate_rows([s.hcp_id for s in suggestions])
    frequencies = online._term_frequencies(
        {r["name_std"] for r in [*rows, query_row] if r["name_std"]}, online.SCORER.master_size
    )
    for record in [*rows, query_row]:
        record["tf_name_std"] = frequencies.get(record["name_std"] or "")
    query_row["unique_id"] = "0"
    _label, body = online.active_settings("hcp")
    body = {**body, "probability_two_random_records_match": 1 / online.SCORER.master_size}
    connection = duckdb.connect()
    register_functions(connection)
    try:
        linker = Linker(
            pd.DataFrame([query_row], dtype=object),
            body,
            DuckDBAPI(connection=connection),
            set_up_basic_logging=False,
        )
        by_id = {s.hcp_id: s.probability for s in suggestions}
        for row in rows:
            scored = linker.inference.compare_two_records(
                pd.DataFrame([query_row], dtype=object), pd.DataFrame([row], dtype=object)
            )
            expected = float(scored.as_pandas_dataframe()["match_probability"].iloc[0])
            assert by_id[int(row["unique_id"])] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    finally:
        unregister_functions(connection)
        connection.close()


def test_training_stores_a_new_active_model_version_that_matching_then_uses(
    tmp_path: Path,
) -> None:
    noisy.write_csv(tmp_path, hcp_count=3000, hospital_count=1, hco_count=600, seed=7)
    records = tmp_path / "hcp_records.csv"
    out = io.StringIO()
    with translation.override("en"):
        call_command("mdm", "train", str(records), stdout=out)
        call_command("mdm", "train", str(records), stdout=out)
    assert "version 2 trained on 3000 records" in out.getvalue()
    versions = list(MatchingModel.objects.filter(entity_type="hcp").order_by("version"))
    assert [(m.version, m.active) for m in versions] == [(1, False), (2, True)]
    assert versions[1].created_by is None
    assert AuditEvent.objects.filter(action="matching_model.create").count() == 2
    online.SCORER.reset()
    hcp = doctors(1)[0]
    best = match_hcp(query_for(hcp))[0]
    assert best.explanation["model"] == "v2"
    assert best.hcp_id == hcp.pk

"""HCO rows scored by the trained Splink HCO model: a misspelt or differently written
institution is matched or sent to the steward with its probability; a neighbour, another
number or another campus is not merged into it."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import translation

from omnihcp.masterdata.importing.services import import_file, import_source_create
from omnihcp.masterdata.matching.online import AUTO, NONE, REVIEW, thresholds
from omnihcp.masterdata.matching.online_hco import SCORER, HCOQuery, match_hco
from omnihcp.masterdata.models import HCO, ImportBatch, MatchCandidate, RecordStatus, SourceRecord
from omnihcp.masterdata.models_matching import MatchingModel

pytestmark = pytest.mark.django_db

HEADER = ["编号", "机构名称", "类型", "等级", "省份", "城市", "统一社会信用代码", "床位数"]


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_model() -> Any:
    """The scorer caches the active model: forget it around each test (a test's model is
    rolled back with its transaction)."""
    SCORER.reset()
    yield
    SCORER.reset()


def _hospital(name_part: str) -> HCO:
    return (
        HCO.objects.filter(city="杭州市", status=RecordStatus.ACTIVE, name__contains=name_part)
        .order_by("pk")
        .first()
    )


def test_a_hospital_name_with_a_typo_meets_its_hco_with_a_probability_and_reasons():
    hco = _hospital("第二人民医院")
    assert hco is not None

    found = match_hco(HCOQuery(name=hco.name.replace("医院", "医员"), city="杭州市"))

    assert found[0].hco_id == hco.pk
    assert found[0].outcome in {AUTO, REVIEW}  # never a new institution
    assert found[0].reasons == ("similar hospital name",)
    # the city's other numbered hospitals are no match
    assert all(s.outcome == NONE for s in found[1:])


def test_another_number_in_the_same_city_is_a_different_hospital():
    first = _hospital("第二人民医院")
    assert first is not None

    found = match_hco(HCOQuery(name=first.name.replace("第二", "第十七"), city="杭州市"))

    assert all(s.hco_id != first.pk or s.outcome == NONE for s in found)


def test_an_hco_file_sends_close_names_to_the_steward_with_the_models_probability(
    cast_user: Callable[[str], Any],
) -> None:
    hco = _hospital("第二人民医院")
    assert hco is not None
    rows = [
        HEADER,
        ["T-1", hco.name.replace("医院", "医员"), "医院", "", "浙江省", "杭州市", "", ""],
        ["T-2", "杭州市第七十七人民医院", "医院", "", "浙江省", "杭州市", "", ""],
        ["T-3", hco.name, "医院", "", "浙江省", "杭州市", "", ""],
    ]
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    source = import_source_create(actor=None, code="typo", name="typo", entity_type="hco")

    batch = import_file(
        actor=cast_user("steward"),
        source=source,
        file_name="hcos.csv",
        content=out.getvalue().encode(),
    )

    assert batch.status == ImportBatch.Status.DONE
    status = dict(SourceRecord.objects.filter(batch=batch).values_list("source_key", "status"))
    assert status["T-2"] == "new"  # no such hospital: a new HCO
    assert status["T-3"] == "matched"
    typo = SourceRecord.objects.get(batch=batch, source_key="T-1")
    if typo.status == "review":
        candidate = MatchCandidate.objects.get(source_record=typo, right_hco=hco)
        assert candidate.probability is not None
        assert candidate.probability >= thresholds("hco").review
        assert candidate.explanation["model"]["comparisons"]["organisation"]["weight"] > 0
    else:
        assert (typo.status, typo.hco_id) == ("matched", hco.pk)


def test_a_branch_of_a_chain_is_never_merged_into_another_branch_without_a_steward():
    found = match_hco(HCOQuery(name="老百姓大药房（宁波中山路店）", city="宁波市"))

    assert all(s.outcome != AUTO for s in found)


def test_the_hco_model_is_trained_from_a_labelled_file_and_becomes_the_active_one(tmp_path):
    cities = ("杭州", "宁波", "温州", "绍兴", "嘉兴", "湖州")
    kinds = [f"第{n}人民医院" for n in "一二三四五六"] + ["中医院", "妇幼保健院", "儿童医院"]
    lines = ["record_id,name,city,truth"]
    for number, (city, kind) in enumerate((c, k) for c in cities for k in kinds):
        written = (f"{city}市{kind}", kind, f"{city}{kind}".replace("医院", "医员"))
        lines += [f"R{number}-{i},{name},{city}市,{number}" for i, name in enumerate(written)]
    path = tmp_path / "labelled.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()

    call_command("mdm", "train", str(path), "--entity", "hco", "--label", "truth", stdout=out)

    model = MatchingModel.objects.get(entity_type="hco", active=True)
    assert model.records == len(lines) - 1
    assert "HCO" in out.getvalue()
    SCORER.reset()
    found = match_hco(HCOQuery(name="杭州市第二人民医员", city="杭州市"))
    assert found
    assert found[0].explanation["model"] == f"v{model.version}"

"""HCO rows scored by the trained Splink HCO model: an abbreviated or misspelt institution is
matched or sent to the steward with its probability; a neighbour, another number, another
campus or another USCC is not merged into it; a hospital nobody knows becomes a new HCO."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import astuple
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from omnihcp.demo.noisy import hco_master
from omnihcp.demo.noisy_hco import COLUMNS, hco_records, master_record
from omnihcp.masterdata.importing.match import MATCHED, HCOIndex, match_record
from omnihcp.masterdata.importing.report import report_lines
from omnihcp.masterdata.importing.services import import_file, import_source_create
from omnihcp.masterdata.matching.online import AUTO, NONE, REVIEW, thresholds
from omnihcp.masterdata.matching.online_hco import SCORER, HCOQuery, match_hco
from omnihcp.masterdata.models import HCO, ImportBatch, MatchCandidate, RecordStatus, SourceRecord
from omnihcp.masterdata.models_matching import MatchingModel
from omnihcp.masterdata.services import hco_create

pytestmark = pytest.mark.django_db

HEADER = ["编号", "机构名称", "类型", "等级", "省份", "城市", "统一社会信用代码", "床位数"]
BEIJING = {"province": "北京市", "city": "北京市", "hco_type": "hospital"}


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


def _peking_third() -> HCO:
    return hco_create(
        actor=None,
        data={
            "name": "北京大学第三医院",
            "level": "3A",
            "district": "海淀区",
            "address": "北京市海淀区花园北路49号",
            **BEIJING,
        },
    )


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def test_an_abbreviation_is_its_hospital_automatically_with_the_models_probability():
    hospital = _peking_third()

    found = match_hco(HCOQuery(name="北医三院", **BEIJING))

    assert found[0].hco_id == hospital.pk
    assert found[0].outcome == AUTO
    assert found[0].probability >= thresholds("hco").auto
    assert found[0].reasons == ("same hospital", "same type")
    assert found[0].explanation["comparisons"]["hco_type"]["weight"] > 0


def test_another_campus_is_never_merged_automatically_however_alike_the_names():
    hospital = _peking_third()

    found = match_hco(HCOQuery(name="北京大学第三医院延庆院区", **BEIJING))

    assert (found[0].hco_id, found[0].outcome, found[0].other_campus) == (
        hospital.pk,
        REVIEW,
        True,
    )
    assert found[0].probability >= thresholds("hco").auto  # the model alone would merge it


def test_a_renamed_hospital_is_found_by_its_uscc_and_scored():
    hospital = HCO.objects.filter(city="北京市", uscc__isnull=False, hco_type="hospital").first()
    assert hospital is not None

    found = match_hco(HCOQuery(name="北京星光康复医院", uscc=hospital.uscc or "", **BEIJING))

    assert found[0].hco_id == hospital.pk
    assert "same USCC" in found[0].reasons
    assert found[0].explanation["comparisons"]["uscc"]["weight"] > 10


def test_the_same_name_as_a_pharmacy_elsewhere_in_town_goes_to_the_steward_not_merged():
    hospital = _peking_third()
    values = {
        "name": "北京大学第三医院",
        "province": "北京市",
        "city": "北京市",
        "hco_type": "pharmacy",
        "address": "北京市朝阳区建国路1号",
    }

    found = match_record(
        entity_type="hco", source="x", source_key="P-1", values=values, index=HCOIndex()
    )

    assert (found.outcome, found.candidates) == (REVIEW, (hospital.pk,))
    assert found.scores[hospital.pk][0] < thresholds("hco").review


def test_the_exact_name_rule_keeps_the_models_probability_with_its_decision():
    hospital = _peking_third()
    values = {"name": "北京大学第三医院", "address": "海淀区花园北路49号", **BEIJING}

    found = match_record(
        entity_type="hco", source="x", source_key="E-1", values=values, index=HCOIndex()
    )

    assert (found.outcome, found.hco) == (MATCHED, hospital)
    assert found.scores[hospital.pk][0] >= thresholds("hco").auto


def test_an_hco_file_with_an_alias_a_campus_a_typo_and_an_unknown_hospital(
    cast_user: Callable[[str], Any], client_as: Callable[..., Client]
) -> None:
    # given: 北京大学第三医院 in the master; a CRM file names it four ways
    hospital = _peking_third()
    rows = [
        ["编号", "机构名称", "类型", "等级", "省份", "城市", "地址"],
        ["C-1", "北医三院", "医院", "三级甲等", "北京市", "北京市", ""],
        ["C-2", "北京大学第三医院（延庆院区）", "医院", "", "北京市", "北京市", "延庆区妫水北街"],
        ["C-3", "北京大学弟三医院", "医院", "", "北京市", "北京市", "海淀区花园北路49号"],
        ["C-4", "北京星光康复医院", "医院", "二级甲等", "北京市", "北京市", "丰台区星光路8号"],
    ]
    source = import_source_create(actor=None, code="crm-hco", name="CRM", entity_type="hco")

    # when
    batch = import_file(
        actor=cast_user("steward"), source=source, file_name="hcos.csv", content=_csv(rows)
    )

    # then: the report counts the row outcomes
    assert "new 1, matched 2, to review 1" in report_lines(batch)[1]
    status = {r.source_key: (r.status, r.hco_id) for r in SourceRecord.objects.filter(batch=batch)}
    assert status["C-1"] == ("matched", hospital.pk)  # the abbreviation
    assert status["C-3"] == ("matched", hospital.pk)  # the typo, with the same address
    assert status["C-2"] == ("review", None)  # another campus: the steward decides
    assert status["C-4"][0] == "new"
    assert HCO.objects.get(pk=status["C-4"][1]).name == "北京星光康复医院"
    client = client_as("steward")
    report = client.get(reverse("masterdata:import-detail", args=[batch.pk])).content.decode()
    for count, value in (("new", 1), ("matched", 2), ("review", 1)):
        assert f'<h2 data-count="{count}">{value}</h2>' in report
    # and the steward sees the campus row with the model's probability and its evidence
    candidate = MatchCandidate.objects.get(source_record__source_key="C-2")
    assert candidate.right_hco_id == hospital.pk
    assert candidate.probability is not None
    assert thresholds("hco").review <= candidate.probability
    queue = client.get(reverse("masterdata:review-list"), {"source": "crm-hco"}).content.decode()
    assert f'data-candidate="{candidate.pk}"' in queue
    page = client.get(reverse("masterdata:review-detail", args=[candidate.pk])).content.decode()
    assert f"{candidate.probability:.2f}" in page
    assert "<li data-evidence>similar hospital name</li>" in page
    assert "<li data-evidence>other address</li>" in page


def test_the_hco_model_is_trained_from_noisy_records_and_becomes_the_active_one(tmp_path):
    master = [h for h in hco_master() if h.city in {"杭州市", "宁波市"}]
    lines = [",".join(COLUMNS)]
    records = [master_record(h) for h in master] + list(hco_records(600, hcos=master, seed=3))
    lines += [",".join(str(v) for v in astuple(r)) for r in records]
    path = tmp_path / "labelled.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = io.StringIO()

    call_command("mdm", "train", str(path), "--entity", "hco", "--label", "truth", stdout=out)

    model = MatchingModel.objects.get(entity_type="hco", active=True)
    assert model.records == len(records)
    assert "HCO" in out.getvalue()
    SCORER.reset()
    found = match_hco(HCOQuery(name="杭州市第二人民医员", city="杭州市"))
    assert found
    assert found[0].explanation["model"] == f"v{model.version}"

"""Merging two doctors with survivorship rules, undoing it, and the steward's decisions on
match candidates, service level."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError
from omnihcp.demo import noisy
from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata import services
from omnihcp.masterdata.importing.services import import_file, import_source_create
from omnihcp.masterdata.merging import hcp_merge, hcp_state, hcp_unmerge
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    Affiliation,
    ExternalIdentity,
    FieldLineage,
    ImportSource,
    MatchCandidate,
    MergeEvent,
    RecordStatus,
    SourceRecord,
)
from omnihcp.masterdata.standardise import hospital_name
from omnihcp.masterdata.stewardship import (
    candidate_approve,
    candidate_pair_create,
    candidate_reject,
    candidates_decide,
)

pytestmark = pytest.mark.django_db

HCP_HEADER = ["医生编号", "姓名", "性别", "职称", "科室", "医院", "城市", "手机", "执业证书编码"]


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def steward(cast_user: Callable[[str], Any]) -> Any:
    return cast_user("steward")


def hangzhou_doctors(scope_of: Callable[[str], Any]) -> tuple[HCP, HCP]:
    """Two active doctors of the Hangzhou rep at different hospitals."""
    from omnihcp.masterdata import selectors

    doctors = list(selectors.hcp_list(scope=scope_of("rep_hangzhou"))[:40])
    first = doctors[0]
    second = next(h for h in doctors if h.primary_hco_id != first.primary_hco_id)
    return first, second


def delivered(hcp: HCP, code: str, priority: int) -> SourceRecord:
    """``hcp`` came from source ``code`` of the given survivorship priority."""
    source, _created = ImportSource.objects.get_or_create(
        code=code, defaults={"name": code, "entity_type": "hcp"}
    )
    ImportSource.objects.filter(pk=source.pk).update(priority=priority)
    return SourceRecord.objects.create(
        source=code,
        source_key=f"{code}-{hcp.pk}",
        entity_type="hcp",
        payload={},
        status=SourceRecord.Status.MATCHED,
        hcp=hcp,
    )


def set_pi(hcp: HCP, *, mobile: str, licence: str) -> HCP:
    return services.hcp_update(actor=None, hcp=hcp, data={"mobile": mobile, "licence_no": licence})


def test_survivorship_takes_steward_choice_then_source_priority_then_completeness(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    # given: the survivor came from a low-priority CRM, the merged doctor from a trusted platform
    survivor, merged = hangzhou_doctors(scope_of)
    services.hcp_update(
        actor=None,
        hcp=survivor,
        data={"name": "王小明", "specialty": "", "gender": "M"},
    )
    services.hcp_update(
        actor=None,
        hcp=merged,
        data={"name": "王晓明", "specialty": "心力衰竭", "gender": "F"},
    )
    set_pi(survivor, mobile="13800000001", licence="")
    set_pi(merged, mobile="", licence="110108000000001")
    merged.refresh_from_db()
    licence_ciphertext = merged.licence_encrypted
    delivered(survivor, "crm-low", 1)
    platform = delivered(merged, "platform-high", 9)
    # when: the steward keeps the survivor's gender whatever the rules say
    event = hcp_merge(
        actor=steward, survivor=survivor, merged=merged, overrides={"gender": "survivor"}
    )
    # then
    survivor.refresh_from_db()
    assert (survivor.name, survivor.specialty, survivor.gender) == ("王晓明", "心力衰竭", "M")
    assert survivor.primary_hco_id == merged.primary_hco_id  # both filled: priority
    assert survivor.mobile_masked == "138****0001"  # only the survivor had one
    # The licence moved as its ciphertext: never decrypted and encrypted again.
    assert survivor.licence_encrypted == licence_ciphertext
    assert survivor.licence_hash == pi.blind_index("110108000000001")
    lineage = {
        row.field: (row.source, row.rule, row.source_record_id)
        for row in FieldLineage.objects.filter(hcp=survivor, merge_event=event)
    }
    assert lineage["name"] == ("platform-high", "source_priority", platform.pk)
    assert lineage["specialty"][:2] == ("platform-high", "completeness")
    assert lineage["mobile"][:2] == ("crm-low", "completeness")
    assert lineage["licence_no"][:2] == ("platform-high", "completeness")
    assert lineage["gender"][:2] == ("crm-low", "steward")
    assert lineage["primary_hco"][:2] == ("platform-high", "source_priority")
    shown = set(FieldLineage.objects.values_list("value", flat=True))
    assert "13800000001" not in shown
    assert "138****0001" in shown
    assert event.choices["name"] == {
        "from": "merged",
        "rule": "source_priority",
        "source": "platform-high",
    }


def test_without_source_priorities_the_most_recent_value_survives(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    survivor, merged = hangzhou_doctors(scope_of)
    services.hcp_update(actor=None, hcp=survivor, data={"specialty": "甲状腺结节"})
    services.hcp_update(actor=None, hcp=merged, data={"specialty": "肺结节"})  # changed later
    event = hcp_merge(actor=steward, survivor=survivor, merged=merged)
    survivor.refresh_from_db()
    assert survivor.specialty == "肺结节"
    assert event.choices["specialty"] == {"from": "merged", "rule": "recency", "source": ""}
    rule = FieldLineage.objects.get(hcp=survivor, field="specialty").rule
    assert rule == FieldLineage.Rule.RECENCY


def test_merge_moves_identities_affiliations_and_source_records_and_redirects_the_merged_id(
    steward: Any, scope_of: Callable[[str], Any], client_as: Callable[..., Client]
) -> None:
    # given
    survivor, merged = hangzhou_doctors(scope_of)
    record = delivered(merged, "platform", 0)
    identities = set(ExternalIdentity.objects.filter(hcp=merged).values_list("id", flat=True))
    assert identities
    places_before = set(
        Affiliation.objects.filter(hcp__in=[survivor, merged]).values_list("hco_id", flat=True)
    )
    # when
    hcp_merge(
        actor=steward, survivor=survivor, merged=merged, overrides={"primary_hco": "survivor"}
    )
    # then
    merged.refresh_from_db()
    assert (merged.status, merged.merged_into_id) == (RecordStatus.MERGED, survivor.pk)
    assert set(ExternalIdentity.objects.filter(hcp=survivor).values_list("id", flat=True)) >= (
        identities
    )
    assert not ExternalIdentity.objects.filter(hcp=merged).exists()
    record.refresh_from_db()
    assert record.hcp_id == survivor.pk
    places = dict(Affiliation.objects.filter(hcp=survivor).values_list("hco_id", "is_primary"))
    assert set(places) == places_before
    assert [hco for hco, primary in places.items() if primary] == [survivor.primary_hco_id]
    assert not Affiliation.objects.filter(hcp=merged).exists()
    # and the merged id leads to the survivor on the page and in the API
    client = client_as("steward")
    page = client.get(f"/md/hcps/{merged.pk}/")
    assert page.status_code == 200
    assert survivor.code in page.content.decode()
    assert merged.code not in page.content.decode().split('data-section="merge-history"')[0]
    api = client.get(f"/api/md/hcps/{merged.pk}")
    assert (api.status_code, api.json()["id"]) == (200, survivor.pk)
    # and the merged doctor no longer turns up in lists
    assert not HCP.objects.filter(pk=merged.pk, status=RecordStatus.ACTIVE).exists()


def test_unmerge_restores_both_records_exactly_and_both_are_audited(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    # given: two doctors with PI, sources and affiliations, merged with the merged side winning
    survivor, merged = hangzhou_doctors(scope_of)
    set_pi(merged, mobile="13900000002", licence="110108000000002")
    delivered(survivor, "crm", 1)
    delivered(merged, "platform", 5)
    before = {survivor.pk: hcp_state(survivor), merged.pk: hcp_state(merged)}
    audit_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    event = hcp_merge(actor=steward, survivor=survivor, merged=merged)
    assert hcp_state(survivor) != before[survivor.pk]
    # when
    hcp_unmerge(actor=steward, merge_event=event)
    # then: fields (updated_at too), affiliations, identities and source records as they were
    assert {survivor.pk: hcp_state(survivor), merged.pk: hcp_state(merged)} == before
    event.refresh_from_db()
    assert event.undone_at is not None
    assert not FieldLineage.objects.filter(merge_event=event).exists()
    actions = list(
        AuditEvent.objects.filter(seq__gt=audit_seq)
        .order_by("seq")
        .values_list("action", "object_id", "actor")
    )
    assert actions == [
        ("hcp.merge", str(survivor.pk), "steward"),
        ("hcp.unmerge", str(survivor.pk), "steward"),
    ]
    with pytest.raises(ApplicationError, match="already been undone"):
        hcp_unmerge(actor=steward, merge_event=event)


def test_refused_merges_name_the_problem_and_write_nothing(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    survivor, merged = hangzhou_doctors(scope_of)
    third = HCP.objects.filter(primary_hco=survivor.primary_hco, status="active").exclude(
        pk=survivor.pk
    )[0]
    hcp_merge(actor=steward, survivor=survivor, merged=third)
    snapshot = (hcp_state(survivor), hcp_state(merged), hcp_state(third))
    counts = (MergeEvent.objects.count(), AuditEvent.objects.count(), FieldLineage.objects.count())
    attempts: list[tuple[dict[str, Any], str, str]] = [
        ({"survivor": merged, "merged": merged}, "merged into itself", "merged"),
        ({"survivor": merged, "merged": third}, f"{third.code} has already been merged", "merged"),
        ({"survivor": third, "merged": merged}, "already been merged", "survivor"),
        (
            {"survivor": merged, "merged": survivor, "overrides": {"birthday": "merged"}},
            "birthday is not a field",
            "birthday",
        ),
        (
            {"survivor": merged, "merged": survivor, "overrides": {"name": "both"}},
            'Choose "survivor" or "merged" for name',
            "name",
        ),
    ]
    for kwargs, message, field in attempts:
        with pytest.raises(ApplicationError, match=message) as refused:
            hcp_merge(actor=steward, **kwargs)
        assert refused.value.field == field
    assert (hcp_state(survivor), hcp_state(merged), hcp_state(third)) == snapshot
    assert (
        MergeEvent.objects.count(),
        AuditEvent.objects.count(),
        FieldLineage.objects.count(),
    ) == counts


def test_a_later_merge_must_be_undone_before_an_earlier_one(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    survivor, merged = hangzhou_doctors(scope_of)
    third = HCP.objects.filter(primary_hco=survivor.primary_hco, status="active").exclude(
        pk=survivor.pk
    )[0]
    first = hcp_merge(actor=steward, survivor=survivor, merged=merged)
    later = hcp_merge(actor=steward, survivor=survivor, merged=third)
    with pytest.raises(ApplicationError, match=f"later merge of {third.code}"):
        hcp_unmerge(actor=steward, merge_event=first)
    hcp_unmerge(actor=steward, merge_event=later)
    hcp_unmerge(actor=steward, merge_event=first)
    assert HCP.objects.filter(pk__in=[merged.pk, third.pk], status="active").count() == 2


# ------------------------------------------------------------------- the steward's decisions
def same_name_twin(hco: HCO) -> HCP:
    """A second doctor with the name of one at ``hco``, so an import of that name needs review."""
    doctors = HCP.objects.filter(primary_hco=hco, status="active").order_by("pk")
    original = next(h for h in doctors if doctors.filter(name=h.name).count() == 1)
    services.hcp_create(
        actor=None, data={"name": original.name, "title": "resident", "primary_hco": hco}
    )
    return original


def review_import(steward: Any, hco: HCO, name: str, key: str = "R-1") -> SourceRecord:
    out = io.StringIO()
    csv.writer(out).writerows(
        [HCP_HEADER, [key, name, "男", "主任医师", "", hco.name, hco.city, "13700000003", ""]]
    )
    source = ImportSource.objects.filter(code="platform-r").first() or import_source_create(
        actor=steward, code="platform-r", name="platform", entity_type="hcp"
    )
    batch = import_file(
        actor=steward, source=source, file_name="r.csv", content=out.getvalue().encode()
    )
    assert batch.review == 1, (batch.error, batch.rejected_rows, batch.new, batch.matched)
    return SourceRecord.objects.get(batch=batch, source_key=key)


def unique_hospital_with_doctors() -> HCO:
    """A Hangzhou hospital whose standardised name no other HCO there has, with doctors."""
    hcos = list(HCO.objects.filter(city="杭州市", status=RecordStatus.ACTIVE, hco_type="hospital"))
    keys: dict[tuple[str, str], int] = {}
    for hco in hcos:
        name = hospital_name(hco.name)
        keys[(name.key, name.campus)] = keys.get((name.key, name.campus), 0) + 1
    for hco in hcos:
        name = hospital_name(hco.name)
        if keys[(name.key, name.campus)] == 1 and HCP.objects.filter(primary_hco=hco).count() > 2:
            return hco
    raise AssertionError("no Hangzhou hospital with a unique name")


def test_an_import_row_in_review_becomes_candidates_and_approving_one_links_the_row(
    steward: Any,
) -> None:
    hco = unique_hospital_with_doctors()
    original = same_name_twin(hco)
    record = review_import(steward, hco, original.name)
    candidates = list(MatchCandidate.objects.filter(source_record=record).order_by("pk"))
    assert len(candidates) == 2
    assert {c.right_hcp.name for c in candidates if c.right_hcp} == {original.name}
    # Both twins share name and hospital: the model scores them, and the rule is kept.
    assert all(c.probability is not None and 0 < c.probability <= 1 for c in candidates)
    assert candidates[0].explanation["rule"] == "same_name_same_hco"
    assert "name" in candidates[0].explanation["model"]["comparisons"]
    chosen = next(c for c in candidates if c.right_hcp_id == original.pk)
    # when
    candidate_approve(actor=steward, candidate=chosen, reason="same licence on the phone")
    # then
    record.refresh_from_db()
    assert (record.status, record.hcp_id) == (SourceRecord.Status.MATCHED, original.pk)
    assert ExternalIdentity.objects.get(source="platform-r", external_id="R-1").hcp_id == (
        original.pk
    )
    statuses = dict(MatchCandidate.objects.filter(source_record=record).values_list("pk", "status"))
    assert sorted(statuses.values()) == ["approved", "rejected"]
    assert AuditEvent.objects.filter(action="match_candidate.approved").exists()


def test_rejecting_every_candidate_of_an_import_row_creates_a_new_doctor(steward: Any) -> None:
    hco = unique_hospital_with_doctors()
    original = same_name_twin(hco)
    record = review_import(steward, hco, original.name, key="R-2")
    ids = list(MatchCandidate.objects.filter(source_record=record).values_list("pk", flat=True))
    result = candidates_decide(actor=steward, candidate_ids=ids, decision="reject", reason="no")
    assert (sorted(result.done), result.failed) == (sorted(ids), {})
    record.refresh_from_db()
    assert record.status == SourceRecord.Status.NEW
    assert record.hcp is not None
    assert (record.hcp.name, record.hcp.primary_hco_id, record.hcp.mobile_masked) == (
        original.name,
        hco.pk,
        "137****0003",
    )
    assert ExternalIdentity.objects.get(source="platform-r", external_id="R-2").hcp_id == (
        record.hcp.pk
    )


def test_approving_a_pair_merges_and_a_refused_merge_leaves_the_candidate_open(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    left, right = hangzhou_doctors(scope_of)
    pair = candidate_pair_create(
        actor=None, left=left, right=right, probability=0.97, explanation={"name": "exact"}
    )
    hcp_merge(actor=steward, survivor=left, merged=right)  # someone merged them already
    result = candidates_decide(actor=steward, candidate_ids=[pair.pk, 999_999], decision="approve")
    assert result.done == []
    assert "already been merged" in result.failed[pair.pk]
    assert result.failed[999_999] == "No such candidate."
    pair.refresh_from_db()
    assert pair.status == MatchCandidate.Status.OPEN
    # a fresh pair is merged on approval, the right record surviving as the steward chose
    third = HCP.objects.filter(primary_hco=left.primary_hco, status="active").exclude(pk=left.pk)[0]
    fresh = candidate_pair_create(
        actor=None, left=left, right=third, probability=0.8, explanation={}
    )
    candidate_approve(actor=steward, candidate=fresh, survivor="right")
    left.refresh_from_db()
    assert left.merged_into_id == third.pk
    with pytest.raises(ApplicationError, match="already been decided"):
        candidate_reject(actor=steward, candidate=fresh)


def test_institution_rows_in_review_are_linked_or_created_as_the_steward_decides(
    steward: Any,
) -> None:
    # given: two institutions of one name, and a file naming it twice (two source keys)
    twins = [
        services.hco_create(
            actor=None,
            data={
                "name": "杭州市双名医院",
                "hco_type": "hospital",
                "province": "浙江省",
                "city": "杭州市",
            },
        )
        for _ in range(2)
    ]
    out = io.StringIO()
    csv.writer(out).writerows(
        [
            ["编号", "机构名称", "类型", "省份", "城市", "地址"],
            ["H-1", "杭州市双名医院", "医院", "浙江省", "杭州市", "一号路"],
            ["H-2", "杭州市双名医院", "医院", "浙江省", "杭州市", "二号路"],
        ]
    )
    source = import_source_create(actor=steward, code="his-r", name="his", entity_type="hco")
    batch = import_file(
        actor=steward, source=source, file_name="h.csv", content=out.getvalue().encode()
    )
    assert batch.review == 2, batch.rejected_rows
    first, second = (SourceRecord.objects.get(batch=batch, source_key=k) for k in ("H-1", "H-2"))
    # when: the first row is the second twin; neither twin is the second row
    chosen = MatchCandidate.objects.get(source_record=first, right_hco=twins[1])
    candidate_approve(actor=steward, candidate=chosen)
    ids = MatchCandidate.objects.filter(source_record=second).values_list("pk", flat=True)
    result = candidates_decide(actor=steward, candidate_ids=list(ids), decision="reject")
    # then
    assert result.failed == {}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.hco_id) == ("matched", twins[1].pk)
    assert second.status == "new"
    assert second.hco is not None
    assert second.hco.pk not in {twins[0].pk, twins[1].pk}
    assert (second.hco.name, second.hco.address) == ("杭州市双名医院", "二号路")
    identities = dict(
        ExternalIdentity.objects.filter(source="his-r").values_list("external_id", "hco_id")
    )
    assert identities == {"H-1": twins[1].pk, "H-2": second.hco.pk}


def test_a_doctor_whose_hospital_name_fits_two_institutions_is_created_where_approved(
    steward: Any,
) -> None:
    twins = [
        services.hco_create(
            actor=None,
            data={
                "name": "杭州市双名医院",
                "hco_type": "hospital",
                "province": "浙江省",
                "city": "杭州市",
            },
        )
        for _ in range(2)
    ]
    out = io.StringIO()
    csv.writer(out).writerows(
        [HCP_HEADER, ["D-9", "钱新医", "女", "主治医师", "", "杭州市双名医院", "杭州", "", ""]]
    )
    source = import_source_create(actor=steward, code="crm-r", name="crm", entity_type="hcp")
    batch = import_file(
        actor=steward, source=source, file_name="d.csv", content=out.getvalue().encode()
    )
    record = SourceRecord.objects.get(batch=batch, source_key="D-9")
    candidates = MatchCandidate.objects.filter(source_record=record)
    assert {c.right_hco_id for c in candidates} == {twins[0].pk, twins[1].pk}
    assert {c.right_hcp_id for c in candidates} == {None}
    assert candidates[0].explanation == {"rule": "hospital_name_shared", "hospital": "same"}
    candidate_approve(actor=steward, candidate=candidates.get(right_hco=twins[0]))
    record.refresh_from_db()
    assert record.status == "new"
    assert record.hcp is not None
    assert (record.hcp.name, record.hcp.primary_hco_id, record.hcp.gender) == (
        "钱新医",
        twins[0].pk,
        "F",
    )


def test_an_import_row_with_a_mistyped_name_is_the_doctor_the_model_recognises(
    steward: Any,
) -> None:
    """A homophone typo (张伟 → 张玮) escapes the same-name rule; the trained model, seeing
    the same hospital, mobile phone and title, knows the doctor."""
    hco = unique_hospital_with_doctors()
    doctors = HCP.objects.filter(primary_hco=hco, status=RecordStatus.ACTIVE).exclude(
        mobile_hash=""
    )
    doctor, written = next(
        (d, typo) for d in doctors if (typo := noisy._typo(random.Random(1), d.name)) != d.name
    )
    mobile = pi.decrypt(doctor.mobile_encrypted)
    out = io.StringIO()
    csv.writer(out).writerows(
        [
            HCP_HEADER,
            [
                "T-1",
                written,
                "",
                doctor.get_title_display(),
                "",
                hco.name,
                hco.city,
                f"+86 {mobile}",
                "",
            ],
        ]
    )
    source = import_source_create(
        actor=steward, code="platform-t", name="platform", entity_type="hcp"
    )
    batch = import_file(
        actor=steward, source=source, file_name="t.csv", content=out.getvalue().encode()
    )
    assert (batch.matched, batch.new) == (1, 0), (batch.review, batch.rejected_rows)
    record = SourceRecord.objects.get(batch=batch, source_key="T-1")
    assert record.hcp_id == doctor.pk

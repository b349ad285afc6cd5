"""Merging two institutions with survivorship rules, everything that points at them following
the survivor, undoing it exactly; the steward's pages for it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db.models import Q
from django.test import Client
from django.urls import reverse
from django.utils import translation

from omnihcp.core.errors import ApplicationError
from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata import selectors, services
from omnihcp.masterdata.merging_hco import hco_merge, hco_state, hco_unmerge
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    Affiliation,
    ExternalIdentity,
    FieldLineage,
    HCODepartment,
    ImportSource,
    MatchCandidate,
    MergeEvent,
    RecordStatus,
    SourceRecord,
)
from omnihcp.masterdata.stewardship import candidate_approve
from omnihcp.org.models import TerritoryHCO

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def steward(cast_user: Callable[[str], Any]) -> Any:
    return cast_user("steward")


def hangzhou_hospitals(scope_of: Callable[[str], Any]) -> tuple[HCO, HCO]:
    """Two active hospitals the Hangzhou rep covers, each with doctors; the first has no USCC."""
    hcos = [
        hco
        for hco in selectors.hco_list(scope=scope_of("rep_hangzhou"))[:60]
        if hco.hco_type == "hospital" and HCP.objects.filter(primary_hco=hco).count() >= 3
    ]
    first, second = hcos[0], hcos[1]
    HCO.objects.filter(pk=first.pk).update(uscc=None)
    first.refresh_from_db()
    return first, second


def delivered(hco: HCO, code: str, priority: int) -> SourceRecord:
    """``hco`` came from source ``code`` of the given survivorship priority."""
    source, _created = ImportSource.objects.get_or_create(
        code=code, defaults={"name": code, "entity_type": "hco"}
    )
    ImportSource.objects.filter(pk=source.pk).update(priority=priority)
    return SourceRecord.objects.create(
        source=code,
        source_key=f"{code}-{hco.pk}",
        entity_type="hco",
        payload={},
        status=SourceRecord.Status.MATCHED,
        hco=hco,
    )


def world(*hcos: HCO) -> dict[str, Any]:
    """Everything a merge of ``hcos`` may touch, as plain values."""
    ids = [hco.pk for hco in hcos]
    doctors = HCP.objects.filter(Q(primary_hco_id__in=ids) | Q(affiliations__hco_id__in=ids))
    return {
        "hcos": [hco_state(hco) for hco in hcos],
        "hcps": sorted(
            doctors.distinct().values_list("id", "primary_hco_id", "department_id", "updated_at")
        ),
        "affiliations": sorted(
            Affiliation.objects.filter(hcp__in=doctors.values("id")).values_list(
                "id", "hcp_id", "hco_id", "department_id", "role", "is_primary"
            )
        ),
        "departments": sorted(
            HCODepartment.objects.filter(hco_id__in=ids).values_list("id", "hco_id", "name")
        ),
        "campuses": sorted(HCO.objects.filter(parent_id__in=ids).values_list("id", "parent_id")),
        "identities": sorted(
            ExternalIdentity.objects.filter(hco_id__in=ids).values_list("id", "hco_id")
        ),
        "records": sorted(SourceRecord.objects.filter(hco_id__in=ids).values_list("id", "hco_id")),
        "territories": sorted(
            TerritoryHCO.objects.filter(hco_id__in=ids).values_list("id", "hco_id", "territory_id")
        ),
    }


def test_survivorship_takes_steward_choice_then_completeness_then_priority_then_recency(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    # given: the survivor came from a low-priority CRM, the merged one from a trusted registry
    survivor, merged = hangzhou_hospitals(scope_of)
    merged_uscc = merged.uscc
    services.hco_update(
        actor=None, hco=survivor, data={"short_name": "", "beds": 500, "address": "解放路1号"}
    )
    services.hco_update(
        actor=None, hco=merged, data={"short_name": "浙一", "beds": 800, "address": "庆春路79号"}
    )
    delivered(survivor, "crm-low", 1)
    registry = delivered(merged, "registry-high", 9)
    # when: the steward keeps the survivor's address whatever the rules say
    event = hco_merge(
        actor=steward, survivor=survivor, merged=merged, overrides={"address": "survivor"}
    )
    # then
    survivor.refresh_from_db()
    assert (survivor.name, survivor.short_name, survivor.beds) == (merged.name, "浙一", 800)
    assert survivor.address == "解放路1号"
    assert survivor.uscc == merged_uscc  # only the merged one had a USCC
    assert survivor.name_pinyin == merged.name_pinyin  # the search keys moved with the name
    lineage = {
        row.field: (row.source, row.rule, row.source_record_id, row.value)
        for row in FieldLineage.objects.filter(hco=survivor, merge_event=event)
    }
    assert lineage["name"] == ("registry-high", "source_priority", registry.pk, merged.name)
    assert lineage["beds"][:2] == ("registry-high", "source_priority")
    assert lineage["short_name"][:2] == ("registry-high", "completeness")
    assert lineage["uscc"][:2] == ("registry-high", "completeness")
    assert lineage["address"][:2] == ("crm-low", "steward")
    assert lineage["hco_type"][1] == "same"
    assert event.choices["short_name"] == {
        "from": "merged",
        "rule": "completeness",
        "source": "registry-high",
    }
    merged.refresh_from_db()
    assert (merged.status, merged.merged_into_id, merged.uscc) == ("merged", survivor.pk, None)


def test_without_source_priorities_the_more_recent_value_survives(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    survivor, merged = hangzhou_hospitals(scope_of)
    services.hco_update(actor=None, hco=survivor, data={"short_name": "老院区"})
    services.hco_update(actor=None, hco=merged, data={"short_name": "新院区"})  # changed later
    event = hco_merge(actor=steward, survivor=survivor, merged=merged)
    survivor.refresh_from_db()
    assert survivor.short_name == "新院区"
    assert event.choices["short_name"] == {"from": "merged", "rule": "recency", "source": ""}


def test_merge_moves_everything_to_the_survivor_and_unmerge_puts_it_back_exactly(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    # given: both have a 疑难病会诊中心; a doctor of the merged one also works at the survivor; the
    # merged one has a campus, an external id, a source record and territory periods
    survivor, merged = hangzhou_hospitals(scope_of)
    kept = services.hco_department_create(
        actor=None, hco=survivor, name="疑难病会诊中心", standard=None
    )
    folded = services.hco_department_create(
        actor=None, hco=merged, name="疑难病会诊中心", standard=None
    )
    moved = services.hco_department_create(actor=None, hco=merged, name="罕见病门诊", standard=None)
    doctors = list(HCP.objects.filter(primary_hco=merged).order_by("pk")[:3])
    services.hcp_update(actor=None, hcp=doctors[0], data={"department": folded})
    services.hcp_update(actor=None, hcp=doctors[1], data={"department": moved})
    Affiliation.objects.create(hcp=doctors[2], hco=survivor, role="会诊")
    campus = services.hco_create(
        actor=None,
        data={
            "name": "测试医院分院",
            "hco_type": "hospital",
            "province": merged.province,
            "city": merged.city,
            "parent": merged,
        },
    )
    identity = ExternalIdentity.objects.create(source="crm", external_id="H-1", hco=merged)
    record = delivered(merged, "registry", 0)
    periods = set(TerritoryHCO.objects.filter(hco=merged).values_list("pk", flat=True))
    assert periods
    doctor_ids = set(HCP.objects.filter(primary_hco=merged).values_list("pk", flat=True))
    before = world(survivor, merged, campus)
    # when
    event = hco_merge(actor=steward, survivor=survivor, merged=merged)
    # then: everything points at the survivor
    assert not HCP.objects.filter(primary_hco=merged).exists()
    assert doctor_ids <= set(HCP.objects.filter(primary_hco=survivor).values_list("pk", flat=True))
    doctors[0].refresh_from_db()
    doctors[1].refresh_from_db()
    assert doctors[0].department_id == kept.pk  # same-named departments became one
    assert not HCODepartment.objects.filter(pk=folded.pk).exists()
    assert (doctors[1].department_id, doctors[1].department.hco_id) == (moved.pk, survivor.pk)
    assert not Affiliation.objects.filter(hco=merged).exists()
    places = list(Affiliation.objects.filter(hcp=doctors[2]).values_list("hco_id", "is_primary"))
    assert places == [(survivor.pk, True)]  # one affiliation, no duplicate
    assert Affiliation.objects.get(hcp=doctors[0], hco=survivor).department_id == kept.pk
    campus.refresh_from_db()
    identity.refresh_from_db()
    record.refresh_from_db()
    assert (campus.parent_id, identity.hco_id, record.hco_id) == (survivor.pk,) * 3
    assert set(TerritoryHCO.objects.filter(hco=survivor).values_list("pk", flat=True)) >= periods
    assert not TerritoryHCO.objects.filter(hco=merged).exists()
    # when: undone
    hco_unmerge(actor=steward, merge_event=event)
    # then: every row as it was, ids, departments and timestamps included
    assert world(survivor, merged, campus) == before
    assert not FieldLineage.objects.filter(merge_event=event).exists()


def test_refused_merges_name_the_problem_and_write_nothing(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    survivor, merged = hangzhou_hospitals(scope_of)
    third = HCO.objects.filter(status="active").exclude(pk__in=[survivor.pk, merged.pk])[0]
    with_uscc = HCO.objects.filter(uscc__isnull=False, status="active").exclude(
        pk__in=[merged.pk, third.pk]
    )[0]
    HCO.objects.filter(pk=third.pk).update(uscc=None)
    hco_merge(actor=steward, survivor=survivor, merged=third)
    snapshot = world(survivor, merged, third)
    counts = (MergeEvent.objects.count(), AuditEvent.objects.count(), FieldLineage.objects.count())
    attempts: list[tuple[dict[str, Any], str, str]] = [
        ({"survivor": merged, "merged": merged}, "merged into itself", "merged"),
        (
            {"survivor": third, "merged": merged},
            f"{third.code} has already been merged",
            "survivor",
        ),
        ({"survivor": merged, "merged": third}, "already been merged", "merged"),
        ({"survivor": merged, "merged": with_uscc}, "different USCCs", "uscc"),
        (
            {"survivor": merged, "merged": survivor, "overrides": {"gender": "merged"}},
            "gender is not a field",
            "gender",
        ),
    ]
    for kwargs, message, field in attempts:
        with pytest.raises(ApplicationError, match=message) as refused:
            hco_merge(actor=steward, **kwargs)
        assert refused.value.field == field
    assert world(survivor, merged, third) == snapshot
    assert (
        MergeEvent.objects.count(),
        AuditEvent.objects.count(),
        FieldLineage.objects.count(),
    ) == counts


def test_merge_and_unmerge_are_audited_and_an_undone_merge_cannot_be_undone_again(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    survivor, merged = hangzhou_hospitals(scope_of)
    seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    event = hco_merge(actor=steward, survivor=survivor, merged=merged)
    hco_unmerge(actor=steward, merge_event=event)
    actions = list(
        AuditEvent.objects.filter(seq__gt=seq)
        .order_by("seq")
        .values_list("action", "object_id", "actor")
    )
    assert actions == [
        ("territory.hcos_repoint", str(survivor.pk), "steward"),
        ("hco.merge", str(survivor.pk), "steward"),
        ("territory.hcos_repoint", str(merged.pk), "steward"),
        ("hco.unmerge", str(survivor.pk), "steward"),
    ]
    with pytest.raises(ApplicationError, match="already been undone"):
        hco_unmerge(actor=steward, merge_event=event)


def test_a_later_merge_must_be_undone_before_an_earlier_one(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    survivor, merged = hangzhou_hospitals(scope_of)
    third = HCO.objects.filter(status="active", uscc__isnull=True).exclude(pk=survivor.pk)[0]
    first = hco_merge(actor=steward, survivor=survivor, merged=merged)
    later = hco_merge(actor=steward, survivor=survivor, merged=third)
    with pytest.raises(ApplicationError, match=f"later merge of {third.code}"):
        hco_unmerge(actor=steward, merge_event=first)
    hco_unmerge(actor=steward, merge_event=later)
    hco_unmerge(actor=steward, merge_event=first)
    assert HCO.objects.filter(pk__in=[merged.pk, third.pk], status="active").count() == 2


def test_approving_a_pair_of_institutions_merges_them_the_right_one_surviving(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    left, right = hangzhou_hospitals(scope_of)
    pair = MatchCandidate.objects.create(
        entity_type="hco", left_hco=left, right_hco=right, probability=0.95
    )
    candidate_approve(actor=steward, candidate=pair, survivor="right", reason="same hospital")
    left.refresh_from_db()
    pair.refresh_from_db()
    assert (left.merged_into_id, left.status) == (right.pk, RecordStatus.MERGED)
    assert pair.status == MatchCandidate.Status.APPROVED
    assert MergeEvent.objects.get(candidate=pair).survivor_hco_id == right.pk


# ------------------------------------------------------------------------------------ pages
def test_a_merged_institution_leads_to_the_survivor_on_the_page_and_in_the_api(
    steward: Any, scope_of: Callable[[str], Any], client_as: Callable[..., Client]
) -> None:
    survivor, merged = hangzhou_hospitals(scope_of)
    hco_merge(actor=steward, survivor=survivor, merged=merged)
    rep = client_as("rep_hangzhou")
    page = rep.get(reverse("masterdata:hco-detail", args=[merged.pk]))
    assert (page.status_code, page["Location"]) == (
        302,
        reverse("masterdata:hco-detail", args=[survivor.pk]),
    )
    api = rep.get(f"/api/md/hcos/{merged.pk}")
    assert (api.status_code, api.json()["id"]) == (200, survivor.pk)
    assert rep.get(f"/api/md/hcos/{merged.pk}/departments").status_code == 200
    # the merged one no longer turns up in lists
    listed = rep.get("/api/md/hcos", {"page_size": 100}).json()["items"]
    assert merged.pk not in {item["id"] for item in listed}


def test_steward_sees_merge_history_and_unmerges_from_the_institution_page(
    steward: Any, scope_of: Callable[[str], Any], client_as: Callable[..., Client]
) -> None:
    survivor, merged = hangzhou_hospitals(scope_of)
    delivered(merged, "registry-high", 9)
    hco_merge(actor=steward, survivor=survivor, merged=merged)
    client = client_as("steward")
    page = client.get(reverse("masterdata:hco-detail", args=[survivor.pk])).content.decode()
    assert 'data-section="merge-history"' in page
    assert merged.code in page
    assert 'data-lineage="name" data-rule="source_priority"' in page
    unmerge = re.search(r'href="([^"]+/unmerge/)"', page)
    assert unmerge is not None
    confirm = client.get(unmerge.group(1)).content.decode()
    assert "Yes, undo the merge" in confirm
    assert merged.name in confirm
    response = client.post(unmerge.group(1))
    assert response.status_code == 302
    merged.refresh_from_db()
    assert (merged.status, merged.merged_into_id) == ("active", None)
    after = client.get(response["Location"]).content.decode()
    assert "The merge was undone." in after
    assert "data-undone" in after
    # posting again changes nothing and says why
    again = client.post(unmerge.group(1))
    assert again.status_code == 400
    assert "already been undone" in again.content.decode()
    # a rep sees the institution, but no merge history, and may not unmerge
    rep = client_as("rep_hangzhou")
    rep_page = rep.get(reverse("masterdata:hco-detail", args=[survivor.pk])).content.decode()
    assert 'data-section="merge-history"' not in rep_page
    assert rep.post(unmerge.group(1)).status_code == 403


def test_the_merge_history_speaks_chinese(
    steward: Any, scope_of: Callable[[str], Any], client_as: Callable[..., Client]
) -> None:
    survivor, merged = hangzhou_hospitals(scope_of)
    event = hco_merge(actor=steward, survivor=survivor, merged=merged)
    client = client_as("steward", language="zh-hans")
    page = client.get(reverse("masterdata:hco-detail", args=[survivor.pk])).content.decode()
    assert 'lang="zh-Hans"' in page
    for label in ("合并历史", "撤销合并", "各字段值的来源"):
        assert label in page
    assert "Merge history" not in page
    confirm = client.get(reverse("masterdata:hco-unmerge", args=[event.pk])).content.decode()
    assert "是，撤销合并" in confirm


def test_steward_merges_two_institutions_from_the_review_page(
    scope_of: Callable[[str], Any], client_as: Callable[..., Client]
) -> None:
    left, right = hangzhou_hospitals(scope_of)
    pair = MatchCandidate.objects.create(entity_type="hco", left_hco=left, right_hco=right)
    client = client_as("steward")
    url = reverse("masterdata:review-detail", args=[pair.pk])
    page = client.get(url).content.decode()
    assert left.name in page
    assert right.name in page
    response = client.post(url, {"decision": "approve", "survivor": "left"})
    assert response.status_code == 302
    right.refresh_from_db()
    assert (right.status, right.merged_into_id) == ("merged", left.pk)


def test_the_stewards_open_questions_about_a_merged_institution_follow_it_and_come_back(
    steward: Any, scope_of: Callable[[str], Any]
) -> None:
    # given: an imported row the steward has yet to place, one candidate being the merged HCO
    survivor, merged = hangzhou_hospitals(scope_of)
    record = delivered(merged, "distributor", 5)
    question = MatchCandidate.objects.create(
        entity_type="hco", source_record=record, right_hco=merged, probability=0.4
    )
    pair = MatchCandidate.objects.create(entity_type="hco", left_hco=survivor, right_hco=merged)
    # when
    event = hco_merge(actor=steward, survivor=survivor, merged=merged)
    # then: the question is now about the survivor; the pair of the two is left as it was
    question.refresh_from_db()
    pair.refresh_from_db()
    assert question.right_hco_id == survivor.pk
    assert (pair.left_hco_id, pair.right_hco_id) == (survivor.pk, merged.pk)
    # when: undone, the question is about the merged HCO again
    hco_unmerge(actor=steward, merge_event=event)
    question.refresh_from_db()
    assert question.right_hco_id == merged.pk

"""The data steward's review queue: candidates side by side, decisions one by one and in bulk,
and the merge history on a doctor's page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata import selectors, services
from omnihcp.masterdata.importing.services import import_file, import_source_create
from omnihcp.masterdata.merging import hcp_merge
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    ExternalIdentity,
    MatchCandidate,
    RecordStatus,
    SourceRecord,
    Title,
)
from omnihcp.masterdata.standardise import hospital_name
from omnihcp.masterdata.stewardship import candidate_pair_create

pytestmark = pytest.mark.django_db

HCP_HEADER = ["医生编号", "姓名", "性别", "职称", "科室", "医院", "城市", "手机", "执业证书编码"]


def hospital_with_a_twin() -> tuple[HCO, HCP]:
    """A Hangzhou hospital with a uniquely named doctor, and a second doctor of that name."""
    hcos = list(HCO.objects.filter(city="杭州市", status=RecordStatus.ACTIVE, hco_type="hospital"))
    keys: dict[tuple[str, str], int] = {}
    for hco in hcos:
        name = hospital_name(hco.name)
        keys[(name.key, name.campus)] = keys.get((name.key, name.campus), 0) + 1
    for hco in hcos:
        name = hospital_name(hco.name)
        doctors = HCP.objects.filter(primary_hco=hco, status="active").order_by("pk")
        if keys[(name.key, name.campus)] != 1 or doctors.count() < 3:
            continue
        original = next(h for h in doctors if doctors.filter(name=h.name).count() == 1)
        services.hcp_create(
            actor=None, data={"name": original.name, "title": "resident", "primary_hco": hco}
        )
        return hco, original
    raise AssertionError("no Hangzhou hospital with a unique name")


def import_review_row(steward: Any) -> tuple[SourceRecord, HCP]:
    """An import whose one row may be either of two doctors of the same name."""
    hco, original = hospital_with_a_twin()
    # A title other than the one on file, so the page has a difference to show.
    title_text = "主任医师" if original.title != Title.CHIEF_PHYSICIAN else "住院医师"
    out = io.StringIO()
    csv.writer(out).writerows(
        [HCP_HEADER, ["W-1", original.name, "", title_text, "", hco.name, "杭州", "", ""]]
    )
    source = import_source_create(actor=steward, code="web-crm", name="CRM", entity_type="hcp")
    batch = import_file(
        actor=steward, source=source, file_name="d.csv", content=out.getvalue().encode()
    )
    assert batch.review == 1, (batch.error, batch.rejected_rows)
    return SourceRecord.objects.get(batch=batch), original


def field_row(page: str, field: str) -> str:
    found = re.search(rf'<div class="cmp-row" data-field="{field}"[^>]*>', page)
    assert found is not None, f"no row for {field}"
    return found.group(0)


def test_steward_sees_an_import_row_side_by_side_with_differences_and_approves_it(
    cast_user: Callable[[str], Any], client_as: Callable[..., Client]
) -> None:
    # given
    record, original = import_review_row(cast_user("steward"))
    candidate = MatchCandidate.objects.get(source_record=record, right_hcp=original)
    client = client_as("steward")
    # when: the queue lists the row, and its page shows both records
    queue = client.get(reverse("masterdata:review-list"), {"source": "web-crm"}).content.decode()
    assert f'data-candidate="{candidate.pk}"' in queue
    assert queue.count("data-candidate=") == 2
    page = client.get(reverse("masterdata:review-detail", args=[candidate.pk])).content.decode()
    # then: the title differs and is marked in words, the name does not
    assert "data-differs" in field_row(page, "title")
    assert "data-differs" not in field_row(page, "name")
    assert "data-differs" not in field_row(page, "licence_no")  # the row has none: no conflict
    assert "≠ differs" in page
    # The rule found the pair and the model scored it, with the evidence in words.
    assert "No score: a matching rule found it" not in page
    assert f"{candidate.probability:.2f}" in page
    assert "<li data-evidence>same name</li>" in page
    assert "Same name at the same institution" in page
    assert original.code in page
    # when: the steward approves it
    response = client.post(
        reverse("masterdata:review-detail", args=[candidate.pk]),
        {"decision": "approve", "reason": "same doctor, title out of date"},
    )
    # then: the row is linked to the doctor, and the decision is in the audit log
    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.status, record.hcp_id) == ("matched", original.pk)
    assert ExternalIdentity.objects.get(source="web-crm", external_id="W-1").hcp_id == original.pk
    event = AuditEvent.objects.get(action="match_candidate.approved", object_id=str(candidate.pk))
    assert (event.actor, event.after) == (
        "steward",
        {"status": "approved", "reason": "same doctor, title out of date"},
    )
    follow = client.get(response["Location"]).content.decode()
    assert "Decision saved." in follow
    assert f'data-candidate="{candidate.pk}"' not in follow


def test_steward_defers_pairs_in_bulk_and_filters_by_score_band(
    client_as: Callable[..., Client], scope_of: Callable[[str], Any]
) -> None:
    doctors = list(selectors.hcp_list(scope=scope_of("rep_hangzhou"))[:4])
    likely = candidate_pair_create(
        actor=None,
        left=doctors[0],
        right=doctors[1],
        probability=0.96,
        explanation={"name": "exact", "hospital": "same", "mobile": "missing"},
    )
    doubtful = candidate_pair_create(
        actor=None, left=doctors[2], right=doctors[3], probability=0.55, explanation={}
    )
    client = client_as("steward")
    high = client.get(reverse("masterdata:review-list"), {"band": "high"}).content.decode()
    assert f'data-candidate="{likely.pk}"' in high
    assert f'data-candidate="{doubtful.pk}"' not in high
    detail = client.get(reverse("masterdata:review-detail", args=[likely.pk])).content.decode()
    assert "data-probability>0.96<" in detail
    assert re.search(r'data-comparison="mobile">Mobile phone: <strong>missing on one side', detail)
    # when
    response = client.post(
        reverse("masterdata:review-bulk"),
        {"ids": [likely.pk, doubtful.pk], "decision": "defer", "reason": "ask the rep"},
    )
    # then
    assert response.status_code == 302
    assert "2 candidates decided." in client.get(response["Location"]).content.decode()
    statuses = set(
        MatchCandidate.objects.filter(pk__in=[likely.pk, doubtful.pk]).values_list(
            "status", "reason"
        )
    )
    assert statuses == {("deferred", "ask the rep")}
    open_queue = client.get(reverse("masterdata:review-list")).content.decode()
    assert f'data-candidate="{likely.pk}"' not in open_queue
    deferred = client.get(reverse("masterdata:review-list"), {"status": "deferred"})
    assert f'data-candidate="{doubtful.pk}"' in deferred.content.decode()


def test_merge_history_on_the_doctor_page_and_unmerge(
    client_as: Callable[..., Client], scope_of: Callable[[str], Any]
) -> None:
    doctors = list(selectors.hcp_list(scope=scope_of("rep_hangzhou"))[:2])
    pair = candidate_pair_create(
        actor=None, left=doctors[0], right=doctors[1], probability=0.99, explanation={}
    )
    client = client_as("steward")
    client.post(
        reverse("masterdata:review-detail", args=[pair.pk]),
        {"decision": "approve", "survivor": "left", "keep-name": "right"},
    )
    survivor, merged = doctors
    survivor.refresh_from_db()
    assert survivor.name == merged.name  # the steward kept the right record's name
    page = client.get(reverse("masterdata:hcp-detail", args=[survivor.pk])).content.decode()
    assert 'data-section="merge-history"' in page
    assert merged.code in page
    assert 'data-lineage="name" data-rule="steward"' in page
    unmerge = re.search(r'href="([^"]+/unmerge/)"', page)
    assert unmerge is not None
    confirm = client.get(unmerge.group(1)).content.decode()
    assert "Yes, undo the merge" in confirm
    response = client.post(unmerge.group(1))
    assert response.status_code == 302
    merged.refresh_from_db()
    assert (merged.status, merged.merged_into_id) == ("active", None)
    after = client.get(response["Location"]).content.decode()
    assert "The merge was undone." in after
    assert "data-undone" in after
    # a rep sees the doctor, but no merge history
    rep_page = client_as("rep_hangzhou").get(reverse("masterdata:hcp-detail", args=[survivor.pk]))
    assert 'data-section="merge-history"' not in rep_page.content.decode()


def test_rep_gets_403_on_every_review_page(
    client_as: Callable[..., Client], scope_of: Callable[[str], Any]
) -> None:
    doctors = list(selectors.hcp_list(scope=scope_of("rep_hangzhou"))[:2])
    pair = candidate_pair_create(
        actor=None, left=doctors[0], right=doctors[1], probability=None, explanation={}
    )
    rep = client_as("rep_hangzhou")
    assert rep.get(reverse("masterdata:review-list")).status_code == 403
    assert rep.get(reverse("masterdata:review-detail", args=[pair.pk])).status_code == 403
    response = rep.post(
        reverse("masterdata:review-bulk"), {"ids": [pair.pk], "decision": "approve"}
    )
    assert response.status_code == 403
    response = rep.post(
        reverse("masterdata:review-detail", args=[pair.pk]), {"decision": "approve"}
    )
    assert response.status_code == 403
    pair.refresh_from_db()
    assert pair.status == "open"
    assert 'data-nav="review"' not in rep.get("/").content.decode()
    event = hcp_merge(actor=None, survivor=doctors[0], merged=doctors[1])
    assert rep.post(reverse("masterdata:hcp-unmerge", args=[event.pk])).status_code == 403
    event.refresh_from_db()
    assert event.undone_at is None


def test_the_review_page_speaks_chinese(
    client_as: Callable[..., Client], scope_of: Callable[[str], Any]
) -> None:
    doctors = list(selectors.hcp_list(scope=scope_of("rep_hangzhou"))[:2])
    pair = candidate_pair_create(
        actor=None, left=doctors[0], right=doctors[1], probability=0.8, explanation={}
    )
    client = client_as("steward", language="zh-hans")
    page = client.get(reverse("masterdata:review-detail", args=[pair.pk])).content.decode()
    assert 'lang="zh-Hans"' in page
    for label in ("性别", "职称", "科室", "手机号", "医师执业证书编码"):
        assert label in page
    assert "Gender" not in page
    queue = client.get(reverse("masterdata:review-list")).content.decode()
    assert "状态" in queue
    assert 'data-nav="review"' in queue


def test_the_queue_page_costs_the_same_queries_for_5_or_15_candidates(
    client_as: Callable[..., Client], scope_of: Callable[[str], Any]
) -> None:
    doctors = list(selectors.hcp_list(scope=scope_of("rep_hangzhou"))[:31])
    client = client_as("steward")

    def queries_for_queue() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("masterdata:review-list")).status_code == 200
        return len(captured)

    for left, right in zip(doctors[0:5], doctors[5:10], strict=True):
        candidate_pair_create(actor=None, left=left, right=right, probability=0.9, explanation={})
    few = queries_for_queue()
    for left, right in zip(doctors[10:20], doctors[20:30], strict=True):
        candidate_pair_create(actor=None, left=left, right=right, probability=0.9, explanation={})
    assert queries_for_queue() == few

"""Next best content: the business rules hold before any score, the hybrid learns from what
similar doctors read (a real ``implicit`` model trained on the test database), a doctor who
opted out of personalisation gets the common list, every suggestion is recorded with its
reason, and a suggestion the doctor then opens is marked opened."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.utils import timezone

from omnihcp.engagement import services as content_services
from omnihcp.engagement.delivery import EVENTS
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.masterdata import selectors as md
from omnihcp.profiles import recommend
from omnihcp.profiles.models import Suggestion
from omnihcp.tracking.services import activity_record
from tests.engagement.support import approved_content, consent

pytestmark = pytest.mark.django_db

_ids = itertools.count()


@pytest.fixture(autouse=True)
def model_dir(settings: Any, tmp_path: Any) -> Any:
    settings.OMNIHCP_MODEL_DIR = tmp_path / "models"
    return settings.OMNIHCP_MODEL_DIR


@pytest.fixture
def library(cast_user) -> list[Any]:
    """Six approved items: three about hypertension, three about diabetes."""
    author, reviewer = cast_user("marketing"), cast_user("medical")
    titles = ["高血压指南", "高血压病例", "高血压用药", "糖尿病指南", "糖尿病病例", "糖尿病饮食"]
    return [approved_content(author, reviewer, title=t, body=f"{t}。") for t in titles]


def engaged(hcp: Any, item: Any, *, deep: bool = False, days_ago: int = 1) -> None:
    """The doctor opened (and read to the end) the item: a delivery and tracked events."""
    at = timezone.now() - dt.timedelta(days=days_ago)
    Delivery.objects.create(
        item=item,
        version=item.approved_version,
        hcp=hcp,
        channel="link",
        sent_ok=True,
        created_at=at,
        expires_at=at + dt.timedelta(days=30),
        opened_at=at,
        read_through=deep,
    )
    events = [EVENTS["open"], *([EVENTS["read"]] if deep else [])]
    activity_record(
        module="engagement",
        events=[
            {
                "message_id": f"test-{next(_ids)}",
                "hcp_id": hcp.pk,
                "event": name,
                "occurred_at": at,
                "content_ref": item.code,
            }
            for name in events
        ],
    )


def doctors(scope_of, n: int) -> list[Any]:
    return list(md.hcp_list(scope=scope_of("rep_hangzhou"))[:n])


def test_without_consent_to_marketing_nothing_is_suggested(hangzhou_hcp, library) -> None:
    advice = recommend.next_best_content(hcp=hangzhou_hcp)

    assert advice.suggestions == []
    assert advice.blocked == "No consent to marketing on any channel."


def test_the_frequency_cap_blocks_suggestions(hangzhou_hcp, library) -> None:
    consent(hangzhou_hcp, purposes=("marketing", "profiling"))
    for item in library[:2]:
        Delivery.objects.create(
            item=item,
            version=item.approved_version,
            hcp=hangzhou_hcp,
            channel="sms",
            sent_ok=True,
            expires_at=timezone.now() + dt.timedelta(days=30),
        )

    advice = recommend.next_best_content(hcp=hangzhou_hcp)

    assert advice.suggestions == []
    assert advice.blocked.startswith("Frequency cap reached: nothing more before ")


def test_read_withdrawn_and_unapproved_content_is_never_suggested(
    hangzhou_hcp, library, cast_user
) -> None:
    consent(hangzhou_hcp, purposes=("marketing", "profiling"))
    engaged(hangzhou_hcp, library[0], days_ago=40)
    content_services.content_withdraw(
        actor=cast_user("medical"), item=library[1], comment="新版说明书"
    )
    draft = content_services.ContentDraft(
        title="未审批草稿", kind="article", therapy_area_id=library[0].therapy_area_id, body="x"
    )
    content_services.content_create(actor=cast_user("marketing"), draft=draft)

    advice = recommend.next_best_content(hcp=hangzhou_hcp, limit=10)

    titles = {s.item.title for s in advice.suggestions}
    assert titles == {"高血压用药", "糖尿病指南", "糖尿病病例", "糖尿病饮食"}


def test_the_hybrid_suggests_what_similar_doctors_read_and_says_so(
    scope_of, library, hangzhou_hcp
) -> None:
    hypertension, diabetes = library[:3], library[3:]
    others = [d for d in doctors(scope_of, 41) if d.pk != hangzhou_hcp.pk][:40]
    for i, doctor in enumerate(others):
        group = hypertension if i % 2 == 0 else diabetes
        for item in group:
            engaged(doctor, item, deep=True, days_ago=20)
    consent(hangzhou_hcp, purposes=("marketing", "profiling"))
    engaged(hangzhou_hcp, diabetes[0], deep=True, days_ago=40)
    engaged(hangzhou_hcp, diabetes[1], deep=True, days_ago=40)

    trained = recommend.nbc_train()
    advice = recommend.next_best_content(hcp=hangzhou_hcp)

    assert trained.doctors == 41
    assert trained.items == 6
    assert advice.personalised
    first = advice.suggestions[0]
    assert first.item.title == "糖尿病饮食"
    assert first.method == "collaborative"
    assert first.why().startswith("Doctors who read 《糖尿病")
    stored = Suggestion.objects.get(hcp=hangzhou_hcp, rank=1)
    assert stored.item == first.item
    assert stored.evidence["why"] == "similar"


def test_a_new_doctor_is_served_by_their_interests(hangzhou_hcp, library) -> None:
    from omnihcp.profiles.interests import interests_write

    consent(hangzhou_hcp, purposes=("marketing", "profiling"))
    engaged(hangzhou_hcp, library[3], deep=True, days_ago=40)
    interests_write(hcp_ids=[hangzhou_hcp.pk])

    advice = recommend.next_best_content(hcp=hangzhou_hcp)

    first = advice.suggestions[0]
    assert "糖尿病" in first.item.title
    assert first.method == "content"
    assert first.why() == "Matches their interests: 指南、糖尿病."  # every summary says 指南


def test_an_opted_out_doctor_gets_the_common_list_and_is_told_why(
    scope_of, hangzhou_hcp, library
) -> None:
    for doctor in doctors(scope_of, 8)[1:]:
        engaged(doctor, library[4])
    consent(hangzhou_hcp, purposes=("marketing",))  # not profiling: no personalisation
    engaged(hangzhou_hcp, library[3], deep=True, days_ago=40)
    recommend.nbc_train()

    advice = recommend.next_best_content(hcp=hangzhou_hcp)

    assert not advice.personalised
    first = advice.suggestions[0]
    assert first.item == library[4]
    assert first.method == "popular"
    assert "Not personalised: the doctor opted out of personalisation." in first.why()
    assert Suggestion.objects.filter(hcp=hangzhou_hcp, personalised=False).count() == 3


def test_a_suggestion_the_doctor_then_opens_is_marked_opened(hangzhou_hcp, library) -> None:
    consent(hangzhou_hcp, purposes=("marketing", "profiling"))
    advice = recommend.next_best_content(hcp=hangzhou_hcp, limit=1)
    suggested = advice.suggestions[0].item

    assert recommend.suggestions_follow_opens() == 0
    engaged(hangzhou_hcp, suggested, days_ago=0)
    assert recommend.suggestions_follow_opens() == 1

    row = Suggestion.objects.get(hcp=hangzhou_hcp, item=suggested)
    assert row.opened_at is not None


def test_the_360_page_shows_the_next_best_content_with_reasons(
    client_as, hangzhou_hcp, library
) -> None:
    consent(hangzhou_hcp, purposes=("marketing",))

    page = client_as("rep_hangzhou").get(f"/profiles/hcps/{hangzhou_hcp.pk}/").content.decode()

    assert page.count("data-suggestion=") == 3
    assert "Not personalised: this doctor has not consented to profiling." in page
    assert f"/engagement/hcps/{hangzhou_hcp.pk}/share/?item=" in page


def test_the_evaluation_beats_popularity_on_clustered_reading(scope_of, library) -> None:
    hypertension, diabetes = library[:3], library[3:]
    for i, doctor in enumerate(doctors(scope_of, 60)):
        group = hypertension if i % 3 else diabetes  # hypertension is the popular topic
        for n, item in enumerate(group):
            engaged(doctor, item, days_ago=60 - 20 * n)

    result = recommend.nbc_evaluate(test_share=0.34)

    assert result.test_doctors > 0
    assert result.ndcg["hybrid"] > result.ndcg["popularity"]

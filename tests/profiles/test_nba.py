"""Next best action: a rep's list ranks hot signals over call-plan gaps, explains each row,
brings only sendable content, takes the rep's feedback — which changes what comes next — and
the feedback report counts acceptance and dismissal per rep and per type."""

from __future__ import annotations

from typing import Any

import pytest

from omnihcp.masterdata import selectors as md
from omnihcp.org.models import Employee, Product
from omnihcp.profiles import nba, recommend
from omnihcp.profiles.models import HCPTier, Suggestion, TierMatrix
from tests.engagement.support import approved_content, consent
from tests.profiles.test_recommend import engaged

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def model_dir(settings: Any, tmp_path: Any) -> None:
    settings.OMNIHCP_MODEL_DIR = tmp_path / "models"


@pytest.fixture
def rep(cast_user) -> Employee:
    return Employee.objects.get(user=cast_user("rep_hangzhou"))


@pytest.fixture
def territory(scope_of) -> list[Any]:
    """Three doctors of the Hangzhou rep: tier A, tier B, and one with a hot read."""
    doctors = list(md.hcp_list(scope=scope_of("rep_hangzhou"))[:3])
    product = Product.objects.order_by("code").first()
    TierMatrix.objects.create(
        product=product,
        high_rule='title = "chief_physician"',
        cells={},
        frequencies={"A": 4, "B": 2, "C": 1},
    )
    for doctor, tier in zip(doctors[:2], "AB", strict=True):
        HCPTier.objects.create(
            hcp=doctor, product=product, potential="high", support="low", tier=tier
        )
    return doctors


@pytest.fixture
def article(cast_user) -> Any:
    return approved_content(cast_user("marketing"), cast_user("medical"), title="高血压新指南")


def test_a_hot_read_comes_first_and_every_row_explains_itself(rep, territory, article) -> None:
    tier_a, tier_b, reader = territory
    consent(reader, purposes=("marketing", "profiling"))
    engaged(reader, article, deep=True, days_ago=2)

    rows = nba.rep_actions(employee=rep)

    assert [r.hcp_id for r in rows[:3]] == [reader.pk, tier_a.pk, tier_b.pk]
    assert rows[0].action_type == "hot_read"
    assert rows[0].why() == "Read 《高血压新指南》 to the end 2 days ago."
    assert rows[0].channel == "wecom"
    assert rows[1].action_type == "call_gap"
    assert rows[1].why().startswith("Tier A for ")
    assert ": 4 calls a month, 0 so far." in rows[1].why()
    assert "Tier A and never contacted." in rows[1].why()
    assert rows[1].channel == "visit"


def test_a_doctor_who_opted_out_of_profiling_is_not_watched(rep, territory, article) -> None:
    _tier_a, _tier_b, reader = territory
    consent(reader, purposes=("marketing",))
    engaged(reader, article, deep=True, days_ago=2)

    rows = nba.rep_actions(employee=rep)

    assert reader.pk not in {r.hcp_id for r in rows}


def test_the_row_brings_sendable_content_only_with_consent(rep, territory, article) -> None:
    tier_a, tier_b, _reader = territory
    consent(tier_a, purposes=("marketing",))

    rows = {r.hcp_id: r for r in nba.rep_actions(employee=rep)}

    assert rows[tier_a.pk].item == article
    assert rows[tier_b.pk].item is None  # no consent to marketing: nothing to send


def test_feedback_changes_what_comes_next(rep, territory, article) -> None:
    tier_a, tier_b, _reader = territory
    consent(tier_a, purposes=("marketing",))
    rows = {r.hcp_id: r for r in nba.rep_actions(employee=rep)}

    nba.action_feedback(employee=rep, suggestion_id=rows[tier_b.pk].pk, outcome="not_now")
    nba.action_feedback(
        employee=rep, suggestion_id=rows[tier_a.pk].pk, outcome="not_relevant", reason="content"
    )

    again = {r.hcp_id for r in nba.rep_actions(employee=rep)}
    assert tier_b.pk not in again
    assert tier_a.pk not in again
    snoozed = Suggestion.objects.get(pk=rows[tier_b.pk].pk)
    assert snoozed.status == "not_now"
    assert snoozed.snoozed_until is not None
    advice = recommend.next_best_content(hcp=tier_a, limit=5)
    assert article not in [s.item for s in advice.suggestions]


def test_not_relevant_needs_a_reason_and_a_second_answer_keeps_the_first(rep, territory) -> None:
    row = nba.rep_actions(employee=rep)[0]

    with pytest.raises(nba.ApplicationError) as refused:
        nba.action_feedback(employee=rep, suggestion_id=row.pk, outcome="not_relevant")
    nba.action_feedback(employee=rep, suggestion_id=row.pk, outcome="done")
    kept = nba.action_feedback(
        employee=rep, suggestion_id=row.pk, outcome="not_relevant", reason="left"
    )

    assert refused.value.field == "reason"
    assert kept.status == "done"


def test_a_rep_answers_on_the_page_and_the_report_counts_it(client_as, rep, territory) -> None:
    page = client_as("rep_hangzhou").get("/profiles/nba/")
    row = Suggestion.objects.filter(rep=rep).order_by("rank").first()

    answered = client_as("rep_hangzhou").post(
        f"/profiles/nba/{row.pk}/feedback/", {"outcome": "done"}, HTTP_HX_REQUEST="true"
    )
    refused = client_as("rep_hangzhou").post(
        f"/profiles/nba/{row.pk + 1}/feedback/",
        {"outcome": "not_relevant"},
        HTTP_HX_REQUEST="true",
    )
    report = client_as("dm_hangzhou").get("/profiles/nba/report/").content.decode()

    assert page.status_code == 200
    assert page.content.decode().count('data-nba="') == 2
    assert "Done — thank you." in answered.content.decode()
    assert refused.status_code == 400
    assert "Say why it is not relevant." in refused.content.decode()
    assert f'data-rate="{rep.name}"' in report
    assert "50%" in report  # one of the two rows done


def test_a_rep_cannot_answer_another_reps_suggestion(client_as, rep, territory) -> None:
    row = nba.rep_actions(employee=rep)[0]

    response = client_as("rep_beijing").post(
        f"/profiles/nba/{row.pk}/feedback/", {"outcome": "done"}
    )

    assert response.status_code == 404
    assert Suggestion.objects.get(pk=row.pk).status == "open"


def test_the_days_list_is_read_back_while_fresh_and_recomputed_when_old(rep, territory) -> None:
    import datetime as dt

    from django.utils import timezone

    from omnihcp.profiles.models import RepActionList

    first = nba.rep_actions_today(employee=rep, limit=5)
    computed = RepActionList.objects.get(rep=rep).computed_at
    again = nba.rep_actions_today(employee=rep, limit=5)

    assert first
    assert [s.pk for s in again] == [s.pk for s in first]
    assert RepActionList.objects.get(rep=rep).computed_at == computed  # read, not computed
    nba.action_feedback(employee=rep, suggestion_id=first[0].pk, outcome="done")
    assert first[0].pk not in [s.pk for s in nba.rep_actions_today(employee=rep, limit=5)]
    RepActionList.objects.filter(rep=rep).update(computed_at=timezone.now() - dt.timedelta(hours=1))
    nba.rep_actions_today(employee=rep, limit=5)
    assert RepActionList.objects.get(rep=rep).computed_at > computed
    assert nba.nba_lists_refresh() >= 2  # every active rep of the demo company

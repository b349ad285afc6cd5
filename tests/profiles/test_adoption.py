"""Adoption stages: set by reps with history, proposed from engagement (accepted or dismissed,
never proposed again), and the funnel per product and region."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from omnihcp.engagement import questionnaire, services
from omnihcp.org.models import Product
from omnihcp.profiles.adoption import adoption_propose, adoption_set
from omnihcp.profiles.models import Adoption, AdoptionEvent
from tests.engagement.support import approved_content, consent, link_of, share

pytestmark = pytest.mark.django_db


@pytest.fixture
def product() -> Product:
    return Product.objects.order_by("code").first()


def test_a_rep_sets_a_stage_and_the_history_keeps_each_move(client_as, hangzhou_hcp, product):
    rep = client_as("rep_hangzhou")
    page = f"/profiles/hcps/{hangzhou_hcp.pk}/tags/"

    for stage in ("aware", "interested", "interested", "trial"):
        rep.post(page, {"action": "stage", "product": product.pk, "stage": stage, "reason": "拜访"})
    html = rep.get(page).content.decode()

    moves = list(AdoptionEvent.objects.order_by("id").values_list("from_stage", "to_stage", "kind"))
    assert moves == [
        ("", "aware", "change"),
        ("aware", "interested", "change"),
        ("interested", "trial", "change"),
    ]
    assert f'data-stage="{product.brand_name}"' in html
    assert Adoption.objects.get().stage == "trial"


def test_a_high_quiz_score_proposes_interested_and_the_rep_accepts(
    client_as, cast_user, hangzhou_hcp, product
):
    quiz = approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="产品测验",
        kind="quiz",
        body="一题。",
        questions=(
            questionnaire.QuestionDraft(kind="single", text="适应症？", options="* 高血压\n胃溃疡"),
        ),
    )
    services.content_edit(
        actor=cast_user("marketing"),
        item=quiz,
        draft=services.ContentDraft(
            title=quiz.title,
            kind="quiz",
            therapy_area_id=product.therapy_area_id,
            body="一题。",
            product_ids=(product.pk,),
        ),
    )  # the product link is classification, on the item
    consent(hangzhou_hcp)
    link = link_of(share(client_as("rep_hangzhou"), hangzhou_hcp, quiz))
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    doctor.post(f"{link}answers/", {"q1": "0"})

    assert adoption_propose(hcp_ids=[hangzhou_hcp.pk]) == 1
    assert adoption_propose(hcp_ids=[hangzhou_hcp.pk]) == 0  # once per stage
    rep = client_as("rep_hangzhou")
    page = rep.get(f"/profiles/hcps/{hangzhou_hcp.pk}/tags/").content.decode()
    proposal = AdoptionEvent.objects.get(kind="proposal")
    assert "Scored 100" in page
    rep.post(
        f"/profiles/hcps/{hangzhou_hcp.pk}/tags/", {"action": "accept", "proposal": proposal.pk}
    )

    assert Adoption.objects.get(hcp=hangzhou_hcp, product=product).stage == "interested"
    assert not AdoptionEvent.objects.filter(open=True).exists()


def test_a_dismissed_proposal_is_not_made_again(cast_user, hangzhou_hcp, product):
    AdoptionEvent.objects.create(
        hcp=hangzhou_hcp, product=product, kind="proposal", to_stage="aware", open=True
    )
    from omnihcp.profiles.adoption import proposal_dismiss, proposal_get

    proposal = proposal_get(hcp=hangzhou_hcp, proposal_id=AdoptionEvent.objects.get().pk)
    proposal_dismiss(actor=cast_user("rep_hangzhou"), proposal=proposal, reason="刚拜访过")

    assert not AdoptionEvent.objects.filter(open=True).exists()
    assert AdoptionEvent.objects.filter(kind="dismissed", reason="刚拜访过").count() == 1


def test_the_funnel_counts_doctors_at_each_stage_or_beyond(client_as, scope_of, product):
    from omnihcp.masterdata.selectors import hcp_list

    doctors = list(hcp_list(scope=scope_of("rep_hangzhou"))[:3])
    for hcp, stage in zip(doctors, ("aware", "trial", "advocate"), strict=True):
        adoption_set(actor=None, hcp=hcp, product=product, stage=stage)

    html = (
        client_as("rep_hangzhou").get(f"/profiles/adoption/?product={product.pk}").content.decode()
    )

    def count(stage: str) -> int:
        return int(re.search(rf'data-step="{stage}">.*?data-count>(\d+)<', html, re.S).group(1))

    total = hcp_list(scope=scope_of("rep_hangzhou")).count()
    assert count("unaware") == total
    assert (count("aware"), count("interested"), count("trial"), count("regular")) == (3, 2, 2, 1)
    assert count("advocate") == 1

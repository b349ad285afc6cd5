"""The HCP 360 page: everything a rep needs before a visit on one screen, within their
territory, in a bounded number of queries."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from omnihcp.engagement import questionnaire
from omnihcp.org.models import Product
from omnihcp.profiles.adoption import adoption_set
from omnihcp.profiles.interests import interests_write
from tests.engagement.support import approved_content, consent, link_of, share

pytestmark = pytest.mark.django_db


def test_the_360_page_gathers_the_doctor(client_as, cast_user, hangzhou_hcp) -> None:
    product = Product.objects.order_by("code").first()
    adoption_set(actor=cast_user("rep_hangzhou"), hcp=hangzhou_hcp, product=product, stage="trial")
    consent(hangzhou_hcp)
    quiz = approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="高血压测验",
        kind="quiz",
        body="高血压一题。",
        questions=(
            questionnaire.QuestionDraft(kind="single", text="目标？", options="* <130/80\n<140/90"),
        ),
    )
    link = link_of(share(client_as("rep_hangzhou"), hangzhou_hcp, quiz))
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    view = re.search(r'data-view="([0-9a-f]+)"', doctor.get(link).content.decode()).group(1)
    doctor.post(f"{link}answers/", {"q1": "0"})
    doctor.post(
        f"{link}events/",
        json.dumps({"type": "read", "view_id": view, "scroll_depth": 1, "dwell_seconds": 30}),
        content_type="application/json",
    )
    interests_write(hcp_ids=[hangzhou_hcp.pk])

    page = client_as("rep_hangzhou").get(f"/profiles/hcps/{hangzhou_hcp.pk}/").content.decode()

    assert f'data-stage="{product.brand_name}"' in page
    assert 'data-interest="高血压"' in page
    assert 'data-read="高血压测验"' in page
    assert "read through" in page
    assert "<strong>100</strong>/100" in page
    assert 'data-consent="marketing-wecom"' in page


def test_the_360_page_is_bounded_and_scoped(
    client_as, hangzhou_hcp, beijing_hcp, django_assert_max_num_queries
) -> None:
    rep = client_as("rep_hangzhou")

    with django_assert_max_num_queries(40):
        response = rep.get(f"/profiles/hcps/{hangzhou_hcp.pk}/")

    assert response.status_code == 200
    assert rep.get(f"/profiles/hcps/{beijing_hcp.pk}/").status_code == 404

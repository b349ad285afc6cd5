"""NLP interest tags: medical terms (and their synonyms) found with jieba in what a doctor read
and wrote, weighted by depth, decayed, scaled to the strongest; none without consent."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from omnihcp.engagement.models import Delivery
from omnihcp.profiles.interests import interests_compute, interests_write, terms_of
from omnihcp.profiles.models import HCPTag
from tests.engagement.support import approved_content, consent, link_of, share

pytestmark = pytest.mark.django_db


def test_terms_and_synonyms_are_found_in_chinese_text() -> None:
    text = "难治性高血压合并心衰的患者，起始联合用药时可考虑沙库巴曲缬沙坦；另：胃口不错。"

    terms = terms_of(text)

    assert "难治性高血压" in terms
    assert "心力衰竭" in terms  # 心衰
    assert "ARNI" in terms  # 沙库巴曲缬沙坦
    assert "联合治疗" in terms  # 联合用药
    assert "高血压" not in terms  # the longer term wins, as jieba segments it


def _read(client_as, cast_user, hcp, title: str, body: str, *, through: bool, key: str) -> None:
    item = approved_content(cast_user("marketing"), cast_user("medical"), title=title, body=body)
    link = link_of(share(client_as("rep_hangzhou"), hcp, item, key=key))
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    view = re.search(r'data-view="([0-9a-f]+)"', doctor.get(link).content.decode()).group(1)
    doctor.post(
        f"{link}events/",
        json.dumps({"type": "read", "view_id": view, "scroll_depth": 1.0 if through else 0.2}),
        content_type="application/json",
    )


def test_depth_and_age_weigh_the_interests(client_as, cast_user, hangzhou_hcp) -> None:
    consent(hangzhou_hcp)
    _read(client_as, cast_user, hangzhou_hcp, "高血压新指南", "家庭血压监测", through=True, key="a")
    _read(client_as, cast_user, hangzhou_hcp, "心衰管理", "心力衰竭", through=False, key="b")
    _read(client_as, cast_user, hangzhou_hcp, "房颤抗凝", "心房颤动", through=True, key="c")
    # the atrial fibrillation read happened 60 days ago: two half-lives
    old = Delivery.objects.get(item__title="房颤抗凝")
    Delivery.objects.filter(pk=old.pk).update(opened_at=timezone.now() - dt.timedelta(days=60))

    weights = interests_compute(hcp_ids=[hangzhou_hcp.pk])[hangzhou_hcp.pk]

    # Every article's summary says 新指南要点, so 指南 is the strongest (2 + 1 + 0.5).
    assert next(iter(weights)) == "指南"
    assert weights["高血压"] == weights["家庭血压监测"]
    assert weights["心力衰竭"] == pytest.approx(weights["高血压"] / 2, abs=0.01)  # opened only
    assert weights["心房颤动"] == pytest.approx(weights["高血压"] / 4, abs=0.01)  # 60 days ago


def test_no_interests_without_consent_to_profiling(client_as, cast_user, hangzhou_hcp) -> None:
    consent(hangzhou_hcp)
    item = approved_content(cast_user("marketing"), cast_user("medical"), title="高血压")
    link = link_of(share(client_as("rep_hangzhou"), hangzhou_hcp, item))
    Client().post(f"{link}consent/", {"answer": "no"})
    Client().get(link)

    assert interests_compute(hcp_ids=[hangzhou_hcp.pk]) == {}


def test_interest_tags_are_written_once_and_shown_with_their_weight(
    client_as, cast_user, hangzhou_hcp
) -> None:
    consent(hangzhou_hcp)
    _read(
        client_as,
        cast_user,
        hangzhou_hcp,
        "冠心病二级预防",
        "他汀与抗血小板",
        through=True,
        key="d",
    )

    first = interests_write(hcp_ids=[hangzhou_hcp.pk])
    again = interests_write(hcp_ids=[hangzhou_hcp.pk])
    page = client_as("rep_hangzhou").get(f"/profiles/hcps/{hangzhou_hcp.pk}/tags/").content.decode()

    assert first == HCPTag.objects.filter(definition__kind="model").count() >= 3
    assert again == 0
    assert 'data-tag="关注：冠心病"' in page
    assert re.search(r"关注：冠心病</strong> <span data-weight>1\.00<", page)

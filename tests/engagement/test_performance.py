"""The content performance page: sends, opens, read-through and dwell by content, channel,
region and rep; video progress and forwards from the page; quiz score distribution and the
most common wrong answers."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from omnihcp.engagement import questionnaire
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.masterdata.selectors import hcp_list
from tests.engagement.support import approved_content, consent, link_of, share

Q = questionnaire.QuestionDraft


@pytest.fixture
def article(cast_user: Any) -> Any:
    return approved_content(cast_user("marketing"), cast_user("medical"), title="心衰新进展")


@pytest.fixture
def quiz(cast_user: Any) -> Any:
    return approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="心衰测验",
        kind="quiz",
        body="两题。",
        questions=(
            Q(kind="single", text="首选药物？", options="* 沙库巴曲缬沙坦\n地高辛\n硝酸甘油"),
            Q(kind="single", text="随访间隔？", options="* 3 个月\n1 年"),
        ),
    )


def _read(link: str, *, depth: float, dwell: float) -> Client:
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    html = doctor.get(link).content.decode()
    view = re.search(r'data-view="([0-9a-f]+)"', html).group(1)
    doctor.post(
        f"{link}events/",
        json.dumps(
            {"type": "read", "view_id": view, "dwell_seconds": dwell, "scroll_depth": depth}
        ),
        content_type="application/json",
    )
    return doctor


def _doctors(scope_of: Any, n: int) -> list[Any]:
    rows = list(hcp_list(scope=scope_of("rep_hangzhou"))[:n])
    for hcp in rows:
        consent(hcp)
    return rows


def test_sends_opens_and_read_through_by_content_and_rep(client_as, scope_of, article, quiz):
    rep = client_as("rep_hangzhou")
    first, second, third = _doctors(scope_of, 3)
    links = [link_of(share(rep, h, article, key=f"a{h.pk}")) for h in (first, second, third)]
    _read(links[0], depth=1.0, dwell=60)
    _read(links[1], depth=0.3, dwell=20)
    link_of(share(rep, first, quiz, key="quiz"))

    page = client_as("marketing").get("/engagement/performance/?by=content")
    html = page.content.decode()

    row = re.search(r'data-row="心衰新进展">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r"data-sends>3<", row)
    assert re.search(r"data-opens>2 <small[^>]*>67%", row)
    assert re.search(r"data-read>1 <small[^>]*>50%", row)
    assert "40.0" in row  # average dwell of the two opens
    assert re.search(r'data-kpi="sends">4<', html)
    by_rep = client_as("marketing").get("/engagement/performance/?by=rep").content.decode()
    assert re.search(r'data-row="rep_hangzhou">.*?data-sends>4<', by_rep, re.S)


def test_video_progress_and_forwards_reach_the_delivery_once(client_as, scope_of, article):
    (doctor_hcp,) = _doctors(scope_of, 1)
    link = link_of(share(client_as("rep_hangzhou"), doctor_hcp, article))
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    view = re.search(r'data-view="([0-9a-f]+)"', doctor.get(link).content.decode()).group(1)

    def beacon(payload: dict[str, Any]) -> int:
        body = json.dumps({"view_id": view, **payload})
        return doctor.post(f"{link}events/", body, content_type="application/json").status_code

    statuses = [
        beacon({"type": "video", "view_id": f"{view}-v", "video_percent": 0.95}),
        beacon({"type": "forward", "view_id": f"{view}-f1"}),
        beacon({"type": "forward", "view_id": f"{view}-f1"}),  # the same beacon again
        beacon({"type": "forward", "view_id": f"{view}-f2"}),
    ]

    delivery = Delivery.objects.get()
    assert statuses == [204, 204, 204, 204]
    assert delivery.forwards == 2
    assert delivery.video_percent == 0.95
    assert delivery.read_through


def test_quiz_scores_and_the_most_common_wrong_answers(client_as, scope_of, quiz):
    rep = client_as("rep_hangzhou")
    answers = [("0", "0"), ("1", "0"), ("1", "1")]  # 100, 50, 0
    for hcp, (q1, q2) in zip(_doctors(scope_of, 3), answers, strict=True):
        link = link_of(share(rep, hcp, quiz, key=f"q{hcp.pk}"))
        doctor = Client()
        doctor.post(f"{link}consent/", {"answer": "yes"})
        doctor.post(f"{link}answers/", {"q1": q1, "q2": q2})

    html = client_as("medical").get(f"/engagement/performance/?item={quiz.pk}").content.decode()

    assert re.search(r'data-bucket="0–20">1<', html)
    assert re.search(r'data-bucket="40–60">1<', html)
    assert re.search(r'data-bucket="80–100">1<', html)
    wrong = re.search(r"data-wrong>(.*?)</ol>", html, re.S).group(1)
    assert wrong.index("地高辛") < wrong.index("1 年")
    assert "× 2" in wrong


def test_a_wrong_date_is_named(client_as):
    page = client_as("marketing").get("/engagement/performance/?since=2026-13-01")

    assert page.status_code == 400
    assert 'data-error="since"' in page.content.decode()


def test_reps_do_not_see_the_performance_page(client_as):
    assert client_as("rep_hangzhou").get("/engagement/performance/").status_code == 403

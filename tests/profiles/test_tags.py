"""Tags: definitions refused with the rule's error, manual tags with who and when and their
history, rule tags recomputed in full and when activity arrives, and the pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from omnihcp.core.errors import ApplicationError
from omnihcp.profiles import services
from omnihcp.profiles.models import HCPTag, HCPTagEvent
from omnihcp.profiles.tasks import tags_follow_activity
from tests.engagement.support import approved_content, consent, link_of, share

pytestmark = pytest.mark.django_db


def _define(cast_user, name: str, kind: str = "manual", rule: str = "") -> object:
    return services.tag_define(
        actor=cast_user("marketing"),
        draft=services.TagDraft(name=name, category="basic", kind=kind, rule=rule),
    )


def test_a_rule_tag_with_a_wrong_rule_is_refused_at_save(client_as) -> None:
    page = client_as("marketing").post(
        "/profiles/tags/new/",
        {
            "name": "心血管活跃",
            "category": "marketing",
            "kind": "rule",
            "rule": "reads(dayz=30) >= 3",
        },
    )

    html = page.content.decode()
    assert page.status_code == 400
    assert 'data-error="rule"' in html
    assert "dayz" in html
    assert "column 7" in html


def test_the_rule_editor_counts_while_typing_and_points_at_the_error(client_as, scope_of) -> None:
    marketing = client_as("marketing")

    good = marketing.post("/profiles/rules/check/", {"rule": 'title = "chief_physician"'})
    bad = marketing.post("/profiles/rules/check/", {"rule": 'title = "a" or citi = "b"'})

    assert int(re.search(r'data-rule-count="(\d+)"', good.content.decode()).group(1)) > 0
    assert 'data-column="16"' in bad.content.decode()
    assert "\n" + " " * 15 + "^</code>" in bad.content.decode()


def test_manual_tags_keep_who_and_when_and_their_history(cast_user, hangzhou_hcp) -> None:
    definition = _define(cast_user, "学术影响力")
    rep = cast_user("rep_hangzhou")

    services.tag_set(actor=rep, hcp=hangzhou_hcp, definition=definition, value="高")
    services.tag_set(actor=rep, hcp=hangzhou_hcp, definition=definition, value="高")  # a retry
    services.tag_set(actor=rep, hcp=hangzhou_hcp, definition=definition, value="中")
    services.tag_clear(actor=rep, hcp=hangzhou_hcp, definition=definition)

    events = list(HCPTagEvent.objects.order_by("id").values_list("action", "value", "actor"))
    assert events == [("set", "高", rep.pk), ("set", "中", rep.pk), ("clear", "", rep.pk)]
    assert not HCPTag.objects.exists()


def test_a_rule_tag_cannot_be_set_by_hand(cast_user, hangzhou_hcp) -> None:
    definition = _define(cast_user, "主任医师", kind="rule", rule='title = "chief_physician"')

    with pytest.raises(ApplicationError, match="set by its rule"):
        services.tag_set(actor=cast_user("rep_hangzhou"), hcp=hangzhou_hcp, definition=definition)


def test_rule_tags_follow_new_activity(cast_user, client_as, hangzhou_hcp) -> None:
    definition = _define(cast_user, "近期读者", kind="rule", rule="reads(days=30) >= 1")
    assert services.tag_recompute(definition=definition).matched == 0
    article = approved_content(cast_user("marketing"), cast_user("medical"))
    consent(hangzhou_hcp)
    link = link_of(share(client_as("rep_hangzhou"), hangzhou_hcp, article))
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    doctor.get(link)

    changed = tags_follow_activity()

    assert changed == 1
    holders = HCPTag.objects.filter(definition=definition).values_list("hcp_id", flat=True)
    assert list(holders) == [hangzhou_hcp.pk]
    assert HCPTagEvent.objects.get(definition=definition).source == "rule"
    assert tags_follow_activity() == 0


def test_the_doctors_tag_page_sets_and_shows_tags(cast_user, client_as, hangzhou_hcp) -> None:
    definition = _define(cast_user, "患者口碑")
    rep = client_as("rep_hangzhou")

    rep.post(f"/profiles/hcps/{hangzhou_hcp.pk}/tags/", {"tag": definition.pk, "value": "好"})
    page = rep.get(f"/profiles/hcps/{hangzhou_hcp.pk}/tags/").content.decode()

    assert 'data-tag="患者口碑"' in page
    assert "患者口碑</strong>: 好" in page


def test_a_rep_outside_the_territory_cannot_open_the_tags(client_as, beijing_hcp) -> None:
    assert (
        client_as("rep_hangzhou").get(f"/profiles/hcps/{beijing_hcp.pk}/tags/").status_code == 404
    )


def test_reps_do_not_define_tags(client_as) -> None:
    assert client_as("rep_hangzhou").get("/profiles/tags/new/").status_code == 403


def test_tags_of_a_merged_doctor_follow_the_survivor(cast_user, scope_of) -> None:
    from omnihcp.masterdata.merging import hcp_merge
    from omnihcp.masterdata.selectors import hcp_list

    survivor, merged = list(hcp_list(scope=scope_of("rep_hangzhou"))[:2])
    definition = _define(cast_user, "同行推荐")
    services.tag_set(actor=cast_user("steward"), hcp=merged, definition=definition, value="强")

    hcp_merge(actor=cast_user("steward"), survivor=survivor, merged=merged)
    moved = tags_follow_activity()

    assert moved == 1
    tag = HCPTag.objects.get()
    assert (tag.hcp_id, tag.value) == (survivor.pk, "强")
    assert HCPTagEvent.objects.filter(hcp=survivor, source="merge").count() == 1


def test_survey_answers_set_the_doctors_marketing_tag(cast_user, client_as, hangzhou_hcp) -> None:
    from omnihcp.engagement.questionnaire import QuestionDraft

    survey = approved_content(
        cast_user("marketing"),
        cast_user("medical"),
        title="学习偏好调研",
        kind="survey",
        questions=(
            QuestionDraft(
                kind="single",
                text="您更喜欢哪种学习方式？",
                options="短视频 => 内容偏好:视频\n长文",
            ),
        ),
    )
    consent(hangzhou_hcp)
    link = link_of(share(client_as("rep_hangzhou"), hangzhou_hcp, survey))
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    doctor.post(f"{link}answers/", {"q1": "0"})

    tags_follow_activity()
    tags_follow_activity()  # the same answer is not applied twice

    tag = HCPTag.objects.get(hcp=hangzhou_hcp, definition__name="内容偏好")
    assert (tag.value, tag.definition.category, tag.definition.kind) == (
        "视频",
        "marketing",
        "manual",
    )
    assert HCPTagEvent.objects.get(hcp=hangzhou_hcp, definition=tag.definition).source == "survey"
    page = client_as("rep_hangzhou").get(f"/profiles/hcps/{hangzhou_hcp.pk}/tags/").content.decode()
    assert "内容偏好</strong>: 视频" in page

"""Consent (PIPL) per HCP × purpose × channel: recorded with evidence, checked, kept whole."""

from __future__ import annotations

import pytest

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement.consent import (
    NOTICE_VERSION,
    consent_allows,
    consent_history,
    consent_record,
    consent_withdraw,
)
from omnihcp.governance.models import AuditEvent


def test_no_answer_on_file_means_no(hangzhou_hcp):
    assert not consent_allows(hcp_id=hangzhou_hcp.pk, purpose="marketing", channel="wecom")


def test_a_yes_allows_that_purpose_and_channel_only(hangzhou_hcp, cast_user):
    consent_record(
        hcp_id=hangzhou_hcp.pk,
        answers=[("marketing", "wecom", True)],
        source="rep",
        actor=cast_user("rep_hangzhou"),
        evidence={"note": "拜访时当面同意"},
    )

    assert consent_allows(hcp_id=hangzhou_hcp.pk, purpose="marketing", channel="wecom")
    assert not consent_allows(hcp_id=hangzhou_hcp.pk, purpose="marketing", channel="sms")
    assert not consent_allows(hcp_id=hangzhou_hcp.pk, purpose="profiling", channel="wecom")


def test_a_withdrawal_stops_sending_and_the_history_keeps_both(hangzhou_hcp):
    consent_record(
        hcp_id=hangzhou_hcp.pk,
        answers=[("marketing", "sms", True), ("profiling", "sms", True)],
        source="hcp_page",
        evidence={"user_agent": "MicroMessenger"},
    )

    consent_withdraw(hcp_id=hangzhou_hcp.pk, channel="sms", source="withdrawal_link")

    assert not consent_allows(hcp_id=hangzhou_hcp.pk, purpose="marketing", channel="sms")
    history = [(e.purpose, e.granted, e.source) for e in consent_history(hcp_id=hangzhou_hcp.pk)]
    assert sorted(history) == sorted(
        [
            ("marketing", True, "hcp_page"),
            ("profiling", True, "hcp_page"),
            ("marketing", False, "withdrawal_link"),
            ("profiling", False, "withdrawal_link"),
        ]
    )
    assert {e.notice_version for e in consent_history(hcp_id=hangzhou_hcp.pk)} == {NOTICE_VERSION}
    assert AuditEvent.objects.filter(action="consent.record").count() == 2


def test_a_rep_must_say_how_the_doctor_agreed(hangzhou_hcp, cast_user):
    with pytest.raises(ApplicationError) as refused:
        consent_record(
            hcp_id=hangzhou_hcp.pk,
            answers=[("marketing", "wecom", True)],
            source="rep",
            actor=cast_user("rep_hangzhou"),
        )

    assert refused.value.field == "note"
    assert not consent_history(hcp_id=hangzhou_hcp.pk).exists()


def test_rep_records_consent_on_the_doctors_consent_page(client_as, hangzhou_hcp):
    page = client_as("rep_hangzhou")

    response = page.post(
        f"/engagement/hcps/{hangzhou_hcp.pk}/consent/",
        {
            "purpose": "marketing",
            "channels": ["wecom", "email"],
            "decision": "grant",
            "note": "2026-11-20 拜访时口头同意",
        },
        follow=True,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-granted="yes"') == 2
    assert "2026-11-20 拜访时口头同意" in html
    assert consent_allows(hcp_id=hangzhou_hcp.pk, purpose="marketing", channel="email")


def test_a_consent_form_without_channel_is_refused_in_chinese(client_as, hangzhou_hcp):
    response = client_as("rep_hangzhou", language="zh-hans").post(
        f"/engagement/hcps/{hangzhou_hcp.pk}/consent/",
        {"purpose": "marketing", "decision": "grant", "note": "当面"},
    )

    assert response.status_code == 400
    assert "请至少选择一个用途和渠道" in response.content.decode()


def test_consent_page_of_another_territory_is_404(client_as, beijing_hcp):
    response = client_as("rep_hangzhou").get(f"/engagement/hcps/{beijing_hcp.pk}/consent/")

    assert response.status_code == 404

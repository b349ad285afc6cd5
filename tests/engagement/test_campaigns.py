"""Campaigns: scheduled from pasted codes or a filter, sent by the minute job through the SMS
gateway (a local server speaking its HTTP), skipping doctors without consent, over the
frequency cap or without a number, silent in quiet hours, never sending twice; the report."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from omnihcp.core import pi
from omnihcp.core.scope import DataScope
from omnihcp.engagement import campaigns
from omnihcp.engagement.models_campaign import Campaign, CampaignRecipient
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.masterdata.selectors import HCPFilter, hcp_list
from tests.engagement.fake_servers import FakeServer, SmsHandler
from tests.engagement.support import approved_content, consent

# Tomorrow, so that a campaign scheduled "now" is due whatever the time of the run.
TOMORROW = timezone.localdate() + dt.timedelta(days=1)
NOON = timezone.make_aware(dt.datetime.combine(TOMORROW, dt.time(12)))
NIGHT = NOON.replace(hour=23)


@pytest.fixture
def item(cast_user: Any) -> Any:
    return approved_content(cast_user("marketing"), cast_user("medical"))


@pytest.fixture
def doctors(scope_of: Any) -> list[Any]:
    """Four Hangzhou doctors: 0 and 1 consent to SMS and have numbers; 2 has no consent; 3
    consents but has no number."""
    rows = list(hcp_list(scope=scope_of("rep_hangzhou"))[:4])
    for number, hcp in enumerate(rows):
        hcp.mobile_encrypted = pi.encrypt(f"1391234567{number}") if number != 3 else ""
        hcp.save(update_fields=["mobile_encrypted"])
        if number != 2:
            consent(hcp, channel="sms")
    return rows


@pytest.fixture
def gateway(monkeypatch: Any) -> Any:
    with FakeServer(SmsHandler) as server:
        monkeypatch.setenv("OMNIHCP_SMS_URL", f"{server.url}/send")
        monkeypatch.setenv("OMNIHCP_SMS_KEY", "sms-key")
        yield server


def _schedule(client: Client, item: Any, **fields: Any) -> Any:
    data = {
        "name": "十二月高血压月刊",
        "item": item.pk,
        "channel": "sms",
        "scheduled_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        **fields,
    }
    return client.post("/engagement/campaigns/new/", data)


def test_unknown_codes_are_named_and_nothing_is_scheduled(client_as, item, doctors):
    response = _schedule(client_as("marketing"), item, codes=f"{doctors[0].code}\nD404404")

    assert response.status_code == 400
    assert "D404404" in response.content.decode()
    assert 'data-error="codes"' in response.content.decode()
    assert not Campaign.objects.exists()


def test_only_marketing_schedules_campaigns(client_as, item, doctors):
    assert _schedule(client_as("rep_hangzhou"), item, codes=doctors[0].code).status_code == 403


def test_a_campaign_sends_to_consenting_doctors_and_reports_the_skipped(
    client_as, item, doctors, gateway
):
    codes = "\n".join(h.code for h in doctors)
    created = _schedule(client_as("marketing"), item, codes=codes)
    campaign = Campaign.objects.get()

    campaigns.campaign_send_due(now=NOON)
    report = client_as("marketing").get(f"/engagement/campaigns/{campaign.pk}/").content.decode()

    assert created.status_code == 302
    assert sorted(body["mobile"] for _path, body in gateway.state.requests) == [
        "13912345670",
        "13912345671",
    ]
    outcomes = {r.hcp_id: (r.outcome, r.reason) for r in CampaignRecipient.objects.all()}
    assert outcomes[doctors[2].pk] == ("skipped", "no_consent")
    assert outcomes[doctors[3].pk] == ("skipped", "no_address")
    assert re.search(r'data-kpi="sent">2<', report)
    assert re.search(r'data-kpi="skipped">2<', report)
    assert 'data-status="done"' in report


def test_quiet_hours_send_nothing_until_they_end(client_as, item, doctors, gateway):
    _schedule(client_as("marketing"), item, codes=doctors[0].code)

    assert campaigns.campaign_send_due(now=NIGHT) == 0
    assert not gateway.state.requests
    assert campaigns.campaign_send_due(now=NOON) == 1
    assert len(gateway.state.requests) == 1


def test_the_frequency_cap_skips_doctors_who_had_enough(
    client_as, item, doctors, gateway, monkeypatch
):
    monkeypatch.setenv("OMNIHCP_FREQUENCY_CAP", "1/7")
    marketing = client_as("marketing")
    _schedule(marketing, item, codes=doctors[0].code, name="第一波")
    campaigns.campaign_send_due(now=NOON)
    _schedule(marketing, item, codes=doctors[0].code, name="第二波")

    campaigns.campaign_send_due(now=NOON)

    second = CampaignRecipient.objects.get(campaign__name="第二波")
    assert (second.outcome, second.reason) == ("skipped", "cap")
    assert len(gateway.state.requests) == 1


def test_a_rerun_after_a_crash_sends_no_one_twice(client_as, item, doctors, gateway):
    _schedule(client_as("marketing"), item, codes=doctors[0].code)
    campaigns.campaign_send_due(now=NOON)
    # As if the job died after sending but before recording the outcome.
    CampaignRecipient.objects.update(outcome="pending", delivery=None)
    Campaign.objects.update(status="sending")

    campaigns.campaign_send_due(now=NOON)

    assert len(gateway.state.requests) == 1
    assert Delivery.objects.count() == 1
    assert CampaignRecipient.objects.get().outcome == "sent"


def test_a_cancelled_campaign_sends_nothing(client_as, item, doctors, gateway):
    marketing = client_as("marketing")
    _schedule(marketing, item, codes=doctors[0].code)
    campaign = Campaign.objects.get()

    marketing.post(f"/engagement/campaigns/{campaign.pk}/cancel/")
    campaigns.campaign_send_due(now=NOON)

    assert Campaign.objects.get().status == "cancelled"
    assert not gateway.state.requests


def test_the_report_counts_opens_and_read_through(client_as, item, doctors, gateway):
    _schedule(client_as("marketing"), item, codes=f"{doctors[0].code} {doctors[1].code}")
    campaigns.campaign_send_due(now=NOON)
    sms = gateway.state.requests[0][1]["content"]
    withdraw, link = re.findall(r"(/c/[^ ]+/)", sms)
    assert withdraw == f"{link}withdraw/"
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    html = doctor.get(link).content.decode()
    view = re.search(r'data-view="([0-9a-f]+)"', html).group(1)
    doctor.post(
        f"{link}events/",
        json.dumps({"type": "read", "view_id": view, "dwell_seconds": 40, "scroll_depth": 1}),
        content_type="application/json",
    )

    report = campaigns.campaign_report(campaign=Campaign.objects.get())

    assert (report.sent, report.opened, report.read_through) == (2, 1, 1)


def test_a_filter_audience_takes_every_matching_doctor(client_as, item, doctors, gateway):
    city = doctors[0].primary_hco.city

    _schedule(client_as("marketing"), item, city=city, title=doctors[0].title)

    campaign = Campaign.objects.get()
    matching = hcp_list(
        scope=DataScope.system(), filters=HCPFilter(city=city, title=doctors[0].title)
    )
    assert set(campaign.recipients.values_list("hcp_id", flat=True)) == {h.pk for h in matching}

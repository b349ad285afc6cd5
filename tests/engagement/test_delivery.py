"""A rep shares approved content; the doctor opens the link, answers the notice, reads; the
reading lands on the doctor's timeline; a withdrawal link and a withdrawn item behave."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from omnihcp.core import pi
from omnihcp.engagement import services
from omnihcp.engagement.consent import consent_allows
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.tracking.models import Activity
from tests.engagement.fake_servers import FakeServer, SmsHandler
from tests.engagement.support import approved_content, consent, link_of, share


@pytest.fixture
def item(cast_user: Any) -> Any:
    return approved_content(cast_user("marketing"), cast_user("medical"))


_consent, _share, _link = consent, share, link_of


def test_sharing_needs_the_doctors_consent(client_as, hangzhou_hcp, item):
    response = _share(client_as("rep_hangzhou"), hangzhou_hcp, item)

    assert response.status_code == 400
    assert 'data-error="channel"' in response.content.decode()
    assert not Delivery.objects.exists()


def test_a_retried_share_sends_once(client_as, hangzhou_hcp, item):
    _consent(hangzhou_hcp)
    rep = client_as("rep_hangzhou")

    first, again = _share(rep, hangzhou_hcp, item), _share(rep, hangzhou_hcp, item)

    assert _link(first) == _link(again)
    assert Delivery.objects.count() == 1
    assert Activity.objects.filter(event="Content Sent", hcp=hangzhou_hcp).count() == 1


def test_doctor_answers_the_notice_then_reads_and_the_reading_is_on_the_timeline(
    client_as, hangzhou_hcp, item
):
    _consent(hangzhou_hcp)
    link = _link(_share(client_as("rep_hangzhou"), hangzhou_hcp, item))
    doctor = Client(
        HTTP_USER_AGENT="Mozilla/5.0 MicroMessenger/8.0", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    notice = doctor.get(link)
    assert "data-notice" in notice.content.decode()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    page = doctor.get(link)
    html = page.content.decode()
    view = re.search(r'data-view="([0-9a-f]+)"', html).group(1)
    beacon = doctor.post(
        f"{link}events/",
        json.dumps({"type": "read", "view_id": view, "dwell_seconds": 95.5, "scroll_depth": 0.9}),
        content_type="application/json",
    )

    assert "高血压长期管理" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert beacon.status_code == 204
    read = Activity.objects.get(event="Content Read", hcp=hangzhou_hcp)
    assert (read.properties["dwell_seconds"], read.properties["scroll_depth"]) == (95.5, 0.9)
    assert read.content_ref == item.code
    assert Activity.objects.filter(event="Content Opened", hcp=hangzhou_hcp).count() == 1
    assert Delivery.objects.get().opened_at is not None
    assert consent_allows(hcp_id=hangzhou_hcp.pk, purpose="profiling", channel="wecom")


def test_reading_is_not_recorded_without_consent_to_profiling(client_as, hangzhou_hcp, item):
    _consent(hangzhou_hcp)
    link = _link(_share(client_as("rep_hangzhou"), hangzhou_hcp, item))
    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "no"})

    page = doctor.get(link)
    beacon = doctor.post(f"{link}events/", json.dumps({"type": "read"}), "application/json")

    assert page.status_code == 200
    assert beacon.status_code == 202
    assert not Activity.objects.filter(event__in=["Content Read", "Content Opened"]).exists()


def test_withdrawn_content_shows_a_polite_page(client_as, cast_user, hangzhou_hcp, item):
    _consent(hangzhou_hcp)
    link = _link(_share(client_as("rep_hangzhou"), hangzhou_hcp, item))

    services.content_withdraw(actor=cast_user("compliance"), item=item, comment="说明书更新")
    response = Client().get(link)

    assert response.status_code == 410
    assert 'data-gone="withdrawn"' in response.content.decode()
    assert "高血压长期管理" not in response.content.decode()


def test_an_altered_link_is_not_found(client_as, hangzhou_hcp, item):
    _consent(hangzhou_hcp)
    link = _link(_share(client_as("rep_hangzhou"), hangzhou_hcp, item))

    response = Client().get(link[:-3] + "abc/")

    assert response.status_code == 404


def test_the_withdrawal_link_stops_further_sends(client_as, hangzhou_hcp, item):
    _consent(hangzhou_hcp)
    rep = client_as("rep_hangzhou")
    link = _link(_share(rep, hangzhou_hcp, item))

    Client().post(f"{link}withdraw/")

    assert not consent_allows(hcp_id=hangzhou_hcp.pk, purpose="marketing", channel="wecom")
    assert _share(rep, hangzhou_hcp, item, key="k2").status_code == 400


def test_an_sms_share_goes_through_the_gateway(client_as, hangzhou_hcp, item, monkeypatch):
    hangzhou_hcp.mobile_encrypted = pi.encrypt("13912345678")
    hangzhou_hcp.save(update_fields=["mobile_encrypted"])
    _consent(hangzhou_hcp, channel="sms")
    with FakeServer(SmsHandler) as gateway:
        monkeypatch.setenv("OMNIHCP_SMS_URL", f"{gateway.url}/send")
        monkeypatch.setenv("OMNIHCP_SMS_KEY", "sms-key")

        response = _share(client_as("rep_hangzhou"), hangzhou_hcp, item, channel="sms")

    assert 'data-sent="yes"' in response.content.decode()
    ((_path, body),) = gateway.state.requests
    assert body["mobile"] == "13912345678"
    # The summary, the way out (PIPL), then the link.
    assert re.fullmatch(r"新指南要点 .*?(http://testserver/c/\S+/)withdraw/ \1", body["content"]), (
        body["content"]
    )


def test_an_email_share_records_the_address_encrypted_and_carries_the_way_out(
    client_as, hangzhou_hcp, item, mailoutbox
):
    _consent(hangzhou_hcp, channel="email")
    rep = client_as("rep_hangzhou")

    refused = rep.post(
        f"/engagement/hcps/{hangzhou_hcp.pk}/share/",
        {"item": item.pk, "channel": "email", "key": "e0", "email": "not-an-address"},
    )
    sent = rep.post(
        f"/engagement/hcps/{hangzhou_hcp.pk}/share/",
        {"item": item.pk, "channel": "email", "key": "e1", "email": "zhang.wei@zju.edu.cn"},
    )

    assert refused.status_code == 400
    assert 'data-error="email"' in refused.content.decode()
    assert 'data-sent="yes"' in sent.content.decode()
    (mail,) = mailoutbox
    assert mail.to == ["zhang.wei@zju.edu.cn"]
    assert "/withdraw/" in mail.body
    hangzhou_hcp.refresh_from_db()
    assert hangzhou_hcp.email_masked == "zh***@zju.edu.cn"
    assert "zhang.wei" not in hangzhou_hcp.email_encrypted
    assert pi.decrypt(hangzhou_hcp.email_encrypted) == "zhang.wei@zju.edu.cn"
    detail = rep.get(f"/md/hcps/{hangzhou_hcp.pk}/").content.decode()
    assert "zh***@zju.edu.cn" in detail
    assert "zhang.wei@" not in detail

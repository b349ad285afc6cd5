"""The tracking pages: sources and their write keys, and an HCP's activity timeline."""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from django.test import Client

from omnihcp.masterdata.models import ExternalIdentity
from omnihcp.tracking.models import TrackingSource
from omnihcp.tracking.rollups import activity_rollup


def _send(key: str, body: dict[str, Any], path: str = "track") -> int:
    token = base64.b64encode(f"{key}:".encode()).decode()
    response = Client().post(
        f"/api/v1/{path}",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {token}",
    )
    return response.status_code


def test_marketing_creates_a_source_and_sees_its_write_key_once(client_as):
    page = client_as("marketing")

    created = page.post("/tracking/sources/", {"name": "医脉通", "code": "medplat"}, follow=True)

    assert created.status_code == 200
    key = created.context["new_key"]
    assert len(key) >= 32
    assert key in created.content.decode()
    assert _send(key, {"userId": "u-1", "event": "Opened", "messageId": "m-1"}) == 200
    again = page.get(created.redirect_chain[-1][0])
    assert key not in again.content.decode()
    assert "…" + key[-4:] in again.content.decode()


def test_a_bad_platform_code_is_refused_on_its_field_in_chinese(client_as):
    page = client_as("marketing", language="zh-hans")

    response = page.post("/tracking/sources/", {"name": "医脉通", "code": "医脉通!"})

    assert response.status_code == 400
    assert 'data-error="code"' in response.content.decode()
    assert "请使用小写字母" in response.content.decode()
    assert not TrackingSource.objects.exists()


def test_a_rep_may_not_open_the_sources(client_as):
    assert client_as("rep_hangzhou").get("/tracking/sources/").status_code == 403


def test_a_new_write_key_stops_the_old_one(client_as, write_key):
    page = client_as("admin")
    source = TrackingSource.objects.get(code="medplat")

    rotated = page.post(f"/tracking/sources/{source.pk}/rotate/", follow=True)

    new_key = rotated.context["new_key"]
    assert _send(write_key, {"userId": "u", "event": "x", "messageId": "a"}) == 401
    assert _send(new_key, {"userId": "u", "event": "x", "messageId": "b"}) == 200


def test_rep_reads_their_doctors_timeline_with_script_shown_as_text(
    client_as, write_key, hangzhou_hcp
):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    script = "<script>alert(1)</script>"
    for i, event in enumerate(["Article Read", "Quiz Answered", "Article Read"]):
        body = {
            "userId": "u-1",
            "event": event,
            "messageId": f"m-{i}",
            "properties": {"answer": script, "channel": "wecom"},
        }
        assert _send(write_key, body) == 200
    activity_rollup(settle=dt.timedelta(0))

    response = client_as("rep_hangzhou").get(f"/tracking/hcps/{hangzhou_hcp.pk}/timeline/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("data-event-name>Article Read<") == 2
    assert script not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    summary = {row.event: row.count for row in response.context["summary"]}
    assert summary == {"Article Read": 2, "Quiz Answered": 1}


def test_timeline_filters_by_event(client_as, write_key, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    for i, event in enumerate(["Article Read", "Quiz Answered"]):
        _send(write_key, {"userId": "u-1", "event": event, "messageId": f"m-{i}"})

    response = client_as("rep_hangzhou").get(
        f"/tracking/hcps/{hangzhou_hcp.pk}/timeline/?event=Quiz+Answered"
    )

    assert [row.event for row in response.context["rows"]] == ["Quiz Answered"]


def test_timeline_pages_through_older_events(client_as, write_key, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)
    batch = [
        {
            "type": "track",
            "userId": "u-1",
            "event": "Page",
            "messageId": f"m-{i}",
            "timestamp": f"2026-11-01T{i // 60:02d}:{i % 60:02d}:00Z",
        }
        for i in range(60)
    ]
    assert _send(write_key, {"batch": batch}, path="batch") == 200
    page = client_as("rep_hangzhou")

    first = page.get(f"/tracking/hcps/{hangzhou_hcp.pk}/timeline/")
    second = page.get(first.context["next_url"])

    ids = [row.message_id for row in first.context["rows"]] + [
        row.message_id for row in second.context["rows"]
    ]
    assert ids == [f"m-{i}" for i in reversed(range(60))]
    assert second.context["next_url"] == ""


def test_rep_gets_404_for_a_timeline_outside_their_territory(client_as, beijing_hcp):
    response = client_as("rep_hangzhou").get(f"/tracking/hcps/{beijing_hcp.pk}/timeline/")

    assert response.status_code == 404


def test_a_bad_date_filter_is_named(client_as, hangzhou_hcp):
    response = client_as("rep_hangzhou").get(
        f"/tracking/hcps/{hangzhou_hcp.pk}/timeline/?since=2026-13-40"
    )

    assert response.status_code == 400
    assert 'data-error="since"' in response.content.decode()

"""The Segment-compatible tracking API as an SDK and an integrator see it."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client
from django.utils import timezone

from omnihcp.core import pi
from omnihcp.masterdata.models import ExternalIdentity
from omnihcp.tracking.models import Activity, TrackedIdentity


def _track(message_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "messageId": message_id,
        "userId": "u-1",
        "event": "Article Read",
        "properties": {"content_id": "c-12", "channel": "wecom", "dwell_seconds": 42},
        **extra,
    }


def test_track_call_is_stored_on_the_timeline_of_the_linked_hcp(segment, hangzhou_hcp):
    ExternalIdentity.objects.create(source="medplat", external_id="u-1", hcp=hangzhou_hcp)

    response = segment("track", _track("m-1"))

    assert response.status_code == 200
    assert response.json() == {"success": True, "accepted": 1, "rejected": []}
    activity = Activity.objects.get(stream="medplat", message_id="m-1")
    assert activity.hcp_id == hangzhou_hcp.pk
    assert (activity.event, activity.channel, activity.content_ref) == (
        "Article Read",
        "wecom",
        "c-12",
    )
    assert activity.properties["dwell_seconds"] == 42


def test_a_retried_message_is_stored_once(segment):
    for _attempt in range(3):
        assert segment("track", _track("m-retry")).status_code == 200
    segment("batch", {"batch": [_track("m-retry"), _track("m-other")]})

    assert Activity.objects.filter(message_id="m-retry").count() == 1
    assert Activity.objects.filter(stream="medplat").count() == 2


def test_wrong_write_key_is_refused_in_segments_style(segment):
    response = segment("track", _track("m-1"), key="not-a-key")

    assert response.status_code == 401
    assert response.json()["success"] is False
    assert response.json()["code"] == "invalid_write_key"
    assert not Activity.objects.exists()


def test_missing_credentials_are_refused(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/api/v1/track", json.dumps(_track("m")), "application/json")

    assert response.status_code == 401
    assert "write key" in response.json()["message"]


def test_write_key_in_the_body_is_accepted_as_analytics_js_sends_it(write_key):
    body = {**_track("m-js"), "writeKey": write_key}

    response = Client().post("/api/v1/t", json.dumps(body), content_type="text/plain")

    assert response.status_code == 200
    assert Activity.objects.filter(message_id="m-js").exists()


def test_invalid_json_is_a_400_and_stores_nothing(segment):
    response = segment("batch", b'{"batch": [{"type": "track",')

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert not Activity.objects.exists()


def test_a_batch_over_500_kb_is_refused_whole(segment):
    padding = "x" * 20_000
    batch = [_track(f"m-{i}", properties={"note": padding}) for i in range(30)]

    response = segment("batch", {"batch": batch})

    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert "500 KB" in response.json()["message"]
    assert not Activity.objects.exists()


def test_a_message_over_32_kb_is_rejected_alone(segment):
    big = _track("m-big", properties={"note": "x" * 40_000})

    response = segment("batch", {"batch": [_track("m-ok"), big]})

    assert response.status_code == 200
    assert response.json()["rejected"] == [
        {
            "index": 1,
            "messageId": "m-big",
            "field": "",
            "message": "A message may hold at most 32 KB.",
        }
    ]
    assert list(Activity.objects.values_list("message_id", flat=True)) == ["m-ok"]


def test_one_bad_message_does_not_lose_the_good_ones_beside_it(segment):
    batch = [
        _track("m-1"),
        {"type": "purchase", "messageId": "m-2", "userId": "u-1"},
        {"type": "track", "messageId": "m-3", "userId": "u-1"},
        {"type": "page", "messageId": "m-4", "anonymousId": "a-1", "name": "首页"},
    ]

    response = segment("batch", {"batch": batch})

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(r["index"], r["messageId"], r["field"]) for r in body["rejected"]] == [
        (1, "m-2", "type"),
        (2, "m-3", "event"),
    ]
    assert sorted(Activity.objects.values_list("message_id", flat=True)) == ["m-1", "m-4"]


def test_a_batch_of_only_bad_messages_is_a_400(segment):
    response = segment("batch", {"batch": [{"type": "track", "event": "x"}]})

    assert response.status_code == 400
    assert response.json()["rejected"][0]["field"] == "userId"


def test_a_single_call_with_a_bad_field_names_it_in_the_callers_language(segment):
    response = segment("track", {"userId": "u-1", "messageId": "m"}, language="zh-hans")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "event", "message": "此字段为必填项。"}]


def test_timestamps_far_in_the_future_are_rejected(segment):
    ahead = (timezone.now() + dt.timedelta(days=2)).isoformat()

    response = segment("batch", {"batch": [_track("m-late", timestamp=ahead), _track("m-ok")]})

    assert response.json()["rejected"][0]["field"] == "timestamp"
    assert not Activity.objects.filter(message_id="m-late").exists()


def test_a_clients_wrong_clock_is_corrected_with_sent_at(segment):
    # The phone's clock is a day fast: it stamped the event 1 minute before sending it.
    client_now = timezone.now() + dt.timedelta(days=1)
    message = _track(
        "m-skew",
        timestamp=(client_now - dt.timedelta(minutes=1)).isoformat(),
        sentAt=client_now.isoformat(),
    )

    segment("track", message)

    occurred = Activity.objects.get(message_id="m-skew").occurred_at
    assert abs((timezone.now() - dt.timedelta(minutes=1) - occurred).total_seconds()) < 30


def test_script_in_properties_is_stored_as_sent(segment):
    script = "<script>alert('x')</script>"
    segment("track", _track("m-xss", properties={"answer": script}))

    assert Activity.objects.get(message_id="m-xss").properties["answer"] == script


def test_phone_in_identify_traits_finds_the_hcp_and_is_stored_masked(segment, hangzhou_hcp):
    hangzhou_hcp.mobile_hash = pi.blind_index("13912345678")
    hangzhou_hcp.save(update_fields=["mobile_hash"])

    segment(
        "identify",
        {"userId": "u-77", "messageId": "m-id", "traits": {"phone": "+86 139-1234-5678"}},
    )
    segment("track", _track("m-after", userId="u-77"))

    identify = Activity.objects.get(message_id="m-id")
    assert identify.properties["phone"] == "139****5678"
    assert identify.hcp_id == hangzhou_hcp.pk
    assert Activity.objects.get(message_id="m-after").hcp_id == hangzhou_hcp.pk
    identity = TrackedIdentity.objects.get(stream="medplat", value="u-77")
    assert identity.phone_hash == pi.blind_index("13912345678")


def test_the_openapi_schema_documents_the_tracking_api(client: Client, db):
    schema = client.get("/api/openapi.json").json()

    assert {"/api/v1/batch", "/api/v1/track", "/api/v1/identify", "/api/v1/page"} <= set(
        schema["paths"]
    )
    batch = schema["paths"]["/api/v1/batch"]["post"]
    assert "batch" in batch["requestBody"]["content"]["application/json"]["schema"]["properties"]

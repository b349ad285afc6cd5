"""The field-force API: a rep's app posts a visit with an Idempotency-Key; a retry returns the
visit already stored; the rep's open tasks come back as JSON."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from omnihcp.fieldforce.models import Visit

pytestmark = pytest.mark.django_db


def _body(hcp: Any, **overrides: Any) -> str:
    started = timezone.now() - dt.timedelta(hours=1)
    hco = hcp.primary_hco
    return json.dumps(
        {
            "hcp_id": hcp.pk,
            "kind": "f2f",
            "started_at": started.isoformat(),
            "check_in": {"lat": hco.latitude, "lng": hco.longitude},
            "feedback": "想看真实世界研究",
            "next_step": "下周送研究摘要",
            "next_step_due": (timezone.localdate() + dt.timedelta(days=7)).isoformat(),
            **overrides,
        }
    )


def test_a_retried_visit_post_returns_the_stored_visit(client_as, hangzhou_hcp):
    rep = client_as("rep_hangzhou")
    post = {"content_type": "application/json", "HTTP_IDEMPOTENCY_KEY": "app-visit-1"}

    first = rep.post("/api/ff/visits", _body(hangzhou_hcp), **post)
    again = rep.post("/api/ff/visits", _body(hangzhou_hcp), **post)
    tasks = rep.get("/api/ff/tasks")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["distance_m"] == 0
    assert Visit.objects.filter(hcp=hangzhou_hcp).count() == 1
    assert [t["title"] for t in tasks.json()] == ["下周送研究摘要"]


def test_a_visit_without_a_key_or_with_a_bad_field_is_refused_naming_it(client_as, hangzhou_hcp):
    rep = client_as("rep_hangzhou")

    no_key = rep.post("/api/ff/visits", _body(hangzhou_hcp), content_type="application/json")
    bad = rep.post(
        "/api/ff/visits",
        _body(hangzhou_hcp, check_in=None),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="app-visit-2",
    )

    assert no_key.status_code == 400
    assert no_key.json()["errors"][0]["field"] == "Idempotency-Key"
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "check_in"
    assert not Visit.objects.exists()

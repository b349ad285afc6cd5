"""A retried create with the same Idempotency-Key is not recorded twice."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata.models import HCP

pytestmark = pytest.mark.django_db


def _create(client: Client, body: dict[str, Any], key: str | None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/md/hcps", json.dumps(body), content_type="application/json", **headers)


def test_retry_returns_the_first_answer_without_a_second_record(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("steward")
    body = {"name": "司马光", "title": "attending", "primary_hco_id": hangzhou_hcp.primary_hco_id}
    hcps, events = HCP.objects.count(), AuditEvent.objects.count()
    first = _create(client, body, "dcr-7f3a")
    again = _create(client, body, "dcr-7f3a")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert HCP.objects.count() == hcps + 1
    assert AuditEvent.objects.count() == events + 1


def test_same_key_with_another_body_is_a_conflict(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("steward")
    body = {"name": "司马光", "title": "attending", "primary_hco_id": hangzhou_hcp.primary_hco_id}
    assert _create(client, body, "k-1").status_code == 201
    response = _create(client, {**body, "name": "司马迁"}, "k-1")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert not HCP.objects.filter(name="司马迁").exists()


def test_without_a_key_each_request_creates(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("steward")
    body = {"name": "司马光", "title": "attending", "primary_hco_id": hangzhou_hcp.primary_hco_id}
    _create(client, body, None)
    _create(client, body, None)
    assert HCP.objects.filter(name="司马光").count() == 2


def test_failed_request_does_not_burn_the_key(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    client = client_as("steward")
    body = {"name": "司马光", "title": "attending", "primary_hco_id": hangzhou_hcp.primary_hco_id}
    assert _create(client, {**body, "mobile": "123"}, "k-2").status_code == 400
    assert _create(client, body, "k-2").status_code == 201

"""What the field-force tests share: a rep's phone posting a visit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from omnihcp.fieldforce.models import Visit


def log_visit(client: Any, hcp: Any, key: str, *, days_ago: int = 0) -> Visit:
    """A phone visit an hour (and ``days_ago`` days) ago, through the visit form's POST."""
    started = timezone.localtime() - dt.timedelta(days=days_ago, hours=1)
    response = client.post(
        "/ff/visits/",
        {
            "hcp": hcp.pk,
            "client_key": key,
            "kind": "phone",
            "started_at": started.strftime("%Y-%m-%dT%H:%M"),
        },
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 201, response.content
    return Visit.objects.get(pk=response.json()["visit"])

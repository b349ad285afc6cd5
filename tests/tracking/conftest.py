"""A tracking source ("medplat", a doctor platform) and a Segment-style client for it."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from omnihcp.tracking.services import source_create


@pytest.fixture
def write_key(db: Any) -> str:
    _source, key = source_create(actor=None, name="医脉通", code="medplat")
    return key


@pytest.fixture
def segment(write_key: str) -> Callable[..., Any]:
    """POST a body to ``/api/v1/<path>`` as a Segment SDK does (Basic auth, key as user)."""
    client = Client()

    def post(path: str, body: Any, *, key: str | None = None, language: str = "en") -> Any:
        token = base64.b64encode(f"{write_key if key is None else key}:".encode()).decode()
        raw = body if isinstance(body, bytes | str) else json.dumps(body)
        return client.post(
            f"/api/v1/{path}",
            raw,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Basic {token}",
            HTTP_ACCEPT_LANGUAGE=language,
        )

    return post

"""Shared fixtures: the demo company, generated once per test session into the test database.

Every test runs inside a transaction that is rolled back, so the company is the same for all
of them. Tests speak of the fixed cast (``omnihcp.demo.cast``): "the Hangzhou rep", etc.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from omnihcp.demo.generator import DEFAULT_SEED, demo_generate
from omnihcp.masterdata import selectors

TEST_HCPS = 3_000


def pytest_configure(config: pytest.Config) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # trained recommendation models go to a scratch directory, not the checkout's var/
    settings.OMNIHCP_MODEL_DIR = Path(tempfile.mkdtemp(prefix="omnihcp-models-"))


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        demo_generate(hcps=TEST_HCPS, seed=DEFAULT_SEED)


@pytest.fixture
def cast_user(db: Any) -> Callable[[str], Any]:
    from omnihcp.org.models import User

    def get(username: str) -> User:
        return User.objects.get(username=username)

    return get


@pytest.fixture
def client_as(cast_user: Callable[[str], Any]) -> Callable[[str], Client]:
    """A Django test client signed in as a cast member, speaking English unless told."""

    def make(username: str, language: str = "en") -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE=language)
        client.force_login(cast_user(username))
        return client

    return make


@pytest.fixture
def scope_of(cast_user: Callable[[str], Any]) -> Callable[[str], Any]:
    from omnihcp.org.selectors import scope_for_user

    def make(username: str) -> Any:
        return scope_for_user(user=cast_user(username))

    return make


@pytest.fixture
def hangzhou_hcp(scope_of: Callable[[str], Any]) -> Any:
    """A doctor the Hangzhou rep covers."""
    return selectors.hcp_list(scope=scope_of("rep_hangzhou")).first()


@pytest.fixture
def beijing_hcp(scope_of: Callable[[str], Any]) -> Any:
    """A doctor the Beijing rep covers and the Hangzhou rep does not."""
    hangzhou = scope_of("rep_hangzhou")
    for hcp in selectors.hcp_list(scope=scope_of("rep_beijing"))[:50]:
        if not selectors.hcp_list(scope=hangzhou).filter(pk=hcp.pk).exists():
            return hcp
    raise AssertionError("the demo company has no Beijing-only doctor")


@pytest.fixture
def wecom(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A local server speaking WeCom's server API, with the adapter's settings pointing at it."""
    from tests.engagement.fake_servers import CORP_ID, SECRET, FakeServer, WeComHandler

    with FakeServer(WeComHandler) as server:
        monkeypatch.setenv("OMNIHCP_WECOM_API_BASE", f"{server.url}/cgi-bin/")
        monkeypatch.setenv("OMNIHCP_WECOM_OAUTH_URL", f"{server.url}/connect/oauth2/authorize")
        monkeypatch.setenv("OMNIHCP_WECOM_CORP_ID", CORP_ID)
        monkeypatch.setenv("OMNIHCP_WECOM_SECRET", SECRET)
        monkeypatch.setenv("OMNIHCP_WECOM_AGENT_ID", "1000002")
        yield server

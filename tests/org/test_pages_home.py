"""Logging in as each role lands on that role's home page, and no link from it is broken."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from omnihcp.demo.cast import CAST, DEMO_PASSWORD

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="(/[^"]*)"')


@pytest.mark.parametrize("member", CAST, ids=lambda m: m.username)
def test_each_role_logs_in_and_lands_on_its_home(member: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        reverse("org:login"), {"username": member.username, "password": DEMO_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("org:home")
    page = response.content.decode()
    assert f'data-role="{member.role.value}"' in page
    assert member.display_name in page
    assert str(member.role.label) in page


@pytest.mark.parametrize("member", CAST, ids=lambda m: m.username)
def test_every_link_on_a_role_home_page_works(
    member: Any, client_as: Callable[..., Client]
) -> None:
    client = client_as(member.username)
    page = client.get(reverse("org:home")).content.decode()
    links = {link for link in LINK.findall(page) if not link.startswith("/static/")}
    assert reverse("org:home") in links
    for link in sorted(links):
        response = client.get(link)
        assert response.status_code == 200, (member.username, link, response.status_code)


def test_wrong_password_is_told_and_no_session_starts() -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(reverse("org:login"), {"username": "rep_hangzhou", "password": "x"})
    assert response.status_code == 200
    assert "The user name or password is wrong." in response.content.decode()
    assert client.get(reverse("org:home")).status_code == 302


def test_rep_home_shows_their_territory(client_as: Callable[..., Client], scope_of: Any) -> None:
    from omnihcp.org.selectors import scope_hco_count

    page = client_as("rep_hangzhou").get(reverse("org:home")).content.decode()
    count = scope_hco_count(scope=scope_of("rep_hangzhou"))
    assert f"You cover {count} institutions." in page


def test_placeholder_module_says_it_is_not_built_yet(client_as: Callable[..., Client]) -> None:
    response = client_as("marketing").get(reverse("org:module", args=["meetings"]))
    assert response.status_code == 200
    assert "This module is not built yet." in response.content.decode()
    assert client_as("marketing").get(reverse("org:module", args=["nope"])).status_code == 404


def test_logout_ends_the_session(client_as: Callable[..., Client]) -> None:
    client = client_as("rep_hangzhou")
    assert client.post(reverse("org:logout")).status_code == 302
    assert client.get(reverse("org:home")).status_code == 302


def test_pages_speak_chinese_by_default_and_switch_to_english(
    cast_user: Callable[[str], Any],
) -> None:
    client = Client()
    client.force_login(cast_user("rep_hangzhou"))
    page = client.get(reverse("org:home")).content.decode()
    assert '<html lang="zh-Hans">' in page
    assert "医生" in page
    assert "退出" in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("org:home")).content.decode()
    assert '<html lang="en">' in page
    assert "Doctors" in page
    assert "Log out" in page

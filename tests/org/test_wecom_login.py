"""Opening OmniHCP from the WeCom app logs the rep in by WeCom OAuth (a local fake WeCom server
speaks the authorize page and ``user/getuserinfo``); anyone else is refused with a reason."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from omnihcp.governance.models import AuditEvent
from omnihcp.org.models import Employee

pytestmark = pytest.mark.django_db

WECOM_AGENT = "Mozilla/5.0 (iPhone) AppleWebKit/605 MicroMessenger/8.0 wxwork/4.1.30 MobileSafari"


def _through_wecom(client: Client, wecom: Any, start: str) -> Any:
    """Follow the redirects as the WeCom browser would, across the fake WeCom server."""
    response = client.get(start, HTTP_USER_AGENT=WECOM_AGENT)
    for _hop in range(6):
        if response.status_code != 302:
            return response
        location = response["Location"]
        if location.startswith(wecom.url):
            answer = requests.get(location.split("#")[0], allow_redirects=False, timeout=5)
            assert answer.status_code == 302, answer.text
            parts = urlsplit(answer.headers["Location"])
            response = client.get(f"{parts.path}?{parts.query}", HTTP_USER_AGENT=WECOM_AGENT)
        else:
            response = client.get(location, HTTP_USER_AGENT=WECOM_AGENT)
    raise AssertionError("too many redirects")


def test_a_rep_opening_omnihcp_in_wecom_lands_logged_in_on_the_page_asked(wecom: Any) -> None:
    wecom.state.member = "rep_hangzhou"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = _through_wecom(client, wecom, reverse("fieldforce:today"))
    assert page.status_code == 200
    assert page.wsgi_request.path == reverse("fieldforce:today")
    assert page.wsgi_request.user.username == "rep_hangzhou"
    event = AuditEvent.objects.filter(action="user.login_wecom").latest("id")
    assert event.after == {"wecom_userid": "rep_hangzhou"}


def test_an_unknown_wecom_member_is_refused_and_told_why(wecom: Any) -> None:
    wecom.state.member = "stranger"
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = _through_wecom(client, wecom, reverse("org:home"))
    assert page.status_code == 403
    assert "stranger" in page.content.decode()
    assert "未关联" in page.content.decode()
    assert client.get(reverse("org:home")).status_code == 302  # no session


def test_a_rep_who_left_cannot_log_in_by_wecom(wecom: Any) -> None:
    Employee.objects.filter(user__username="rep_hangzhou").update(is_active=False)
    wecom.state.member = "rep_hangzhou"
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = _through_wecom(client, wecom, reverse("org:home"))
    assert page.status_code == 403
    assert "not linked to an active OmniHCP user" in page.content.decode()


def test_an_outside_contact_is_refused(wecom: Any) -> None:
    wecom.state.member = "oOutsideOpenId"
    page = _through_wecom(Client(HTTP_ACCEPT_LANGUAGE="en"), wecom, reverse("org:home"))
    assert page.status_code == 403
    assert "Only members of the company" in page.content.decode()


def test_a_callback_that_did_not_start_here_is_refused(wecom: Any) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get(reverse("org:wecom-callback"), {"code": "code-1", "state": "forged"})
    assert page.status_code == 403
    assert "did not start here" in page.content.decode()
    assert client.get(reverse("org:home")).status_code == 302


def test_a_used_code_is_not_accepted_twice(wecom: Any) -> None:
    wecom.state.member = "rep_hangzhou"
    first = Client(HTTP_ACCEPT_LANGUAGE="en")
    start = first.get(reverse("org:wecom-login"))
    answer = requests.get(start["Location"].split("#")[0], allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])
    assert first.get(f"{callback.path}?{callback.query}").status_code == 302
    # Someone replays the same callback URL from another browser.
    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.get(reverse("org:wecom-login"))  # its own state, but the code is spent
    state = other.session["wecom_oauth_state"]
    code = dict(p.split("=") for p in callback.query.split("&"))["code"]
    page = other.get(reverse("org:wecom-callback"), {"code": code, "state": state})
    assert page.status_code == 403
    assert "WeCom refused the login (error 40029)" in page.content.decode()


def test_outside_wecom_the_password_login_stays_and_offers_wecom(wecom: Any) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("org:login"))
    assert page.status_code == 200
    assert "Log in with WeCom" in page.content.decode()
    assert 'name="password"' in page.content.decode()


def test_without_wecom_settings_the_login_page_is_the_password_form() -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("org:login"), HTTP_USER_AGENT=WECOM_AGENT)
    assert page.status_code == 200
    assert "Log in with WeCom" not in page.content.decode()
    assert Client().get(reverse("org:wecom-login")).status_code == 404

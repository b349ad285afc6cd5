"""A rep opens OmniHCP from the WeCom app: Chromium, saying it is WeCom's browser, is sent to
WeCom's authorize page (a local fake) and back, and lands logged in on the page it asked for,
without a password; a WeCom member no user is linked to is told so."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import SCREENS, TIMEOUT_MS
from tests.browser.support import Site

pytestmark = pytest.mark.browser

WECOM_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 wxwork/4.1.30 MicroMessenger/7.0.1 Language/zh"
)


def _wecom_page(browser: Browser, screen: str) -> Any:
    context = browser.new_context(
        **SCREENS[screen],
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN"},
        user_agent=WECOM_AGENT,
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def test_opened_in_wecom_the_rep_is_logged_in_on_the_page_asked(
    site: Site, browser: Browser, wecom_server: Any, screen: str
) -> None:
    wecom_server.state.member = "rep_hangzhou"
    page = _wecom_page(browser, screen)

    page.goto(site.at("/ff/today/"))

    # (WeCom's authorize link ends in "#wechat_redirect", which the browser carries along)
    expect(page).to_have_url(re.compile(re.escape(site.at("/ff/today/")) + "(#.*)?$"))
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("input[name=password]")).to_have_count(0)
    page.goto(site.at("/"))
    expect(page.locator("main [data-role=rep]")).to_be_visible()
    page.context.close()


def test_a_wecom_member_without_a_user_is_told_and_offered_the_password(
    site: Site, browser: Browser, wecom_server: Any, screen: str
) -> None:
    wecom_server.state.member = f"stranger-{screen}"
    page = _wecom_page(browser, screen)

    page.goto(site.at("/"))

    expect(page.locator("[role=alert]")).to_contain_text(f"stranger-{screen}")
    expect(page.locator("[role=alert]")).to_contain_text("未关联")
    page.locator("a[href*='password=1']").click()
    expect(page.locator("input[name=password]")).to_be_visible()
    page.context.close()

"""Journeys through the pages in a real browser, each on a phone and on a desktop.

The people are the demo cast (``omnihcp.demo.cast``); the doctor is one the Hangzhou rep
covers, with a mobile phone on record, chosen by the package's ``site`` fixture.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from omnihcp.demo.cast import CAST, cast_member
from tests.browser.support import Login, NewPage, PageAs, Site, press

pytestmark = pytest.mark.browser

NO_RELOAD_MARK = "window.__omnihcpSameDocument"


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def test_rep_finds_doctor_by_pinyin_and_opens_their_page(
    site: Site, new_page: NewPage, login: Login
) -> None:
    doctor = site.doctor
    page = new_page()
    login(page, "rep_hangzhou")

    expect(page.locator("main h1")).to_contain_text(cast_member("rep_hangzhou").display_name)
    expect(page.locator("main [data-role=rep]")).to_be_visible()

    with page.expect_navigation(url=site.at("/md/hcps/")):
        press(page, page.locator("header a[data-nav=hcps]"))
    page.evaluate(f"{NO_RELOAD_MARK} = true")

    box = page.locator("main input[name=q]")
    press(page, box)
    box.press_sequentially(doctor.pinyin, delay=60)

    # htmx swaps the results in while the user types, and records the search in the address.
    expect(page).to_have_url(re.compile(rf"[?&]q={re.escape(doctor.pinyin)}(&|$)"))
    row = page.locator(f'#results li[data-hcp="{doctor.id}"]')
    expect(row).to_be_visible()
    expect(row.locator("a.name")).to_have_text(doctor.name)
    assert page.evaluate(NO_RELOAD_MARK) is True, "the search reloaded the page"

    with page.expect_navigation(url=site.at(f"/md/hcps/{doctor.id}/")):
        press(page, row.locator("a.name"))
    expect(page.locator("h1[data-hcp-name]")).to_have_text(doctor.name)
    masked = page.locator("[data-masked=mobile]")
    expect(masked).to_be_visible()
    expect(masked).to_contain_text("****")
    expect(masked).to_have_text(doctor.mobile_masked)


def test_rep_reveals_phone_and_sees_it(site: Site, page_as: PageAs) -> None:
    page = page_as("rep_hangzhou")
    page.goto(site.at(f"/md/hcps/{site.doctor.id}/"))

    reveal = page.locator("#pi-mobile button")
    expect(reveal).to_be_visible()
    assert reveal.inner_text().strip() in {"Show", "显示"}
    press(page, reveal)

    revealed = page.locator("[data-revealed=mobile]")
    expect(revealed).to_have_text(re.compile(r"^\s*1\d{10}\s*$"))
    expect(page.locator("[data-masked=mobile]")).to_have_count(0)
    # The masked form shows the first three and last four digits of the same number.
    number = revealed.inner_text().strip()
    assert f"{number[:3]}****{number[-4:]}" == site.doctor.mobile_masked


def test_language_switch(site: Site, page_as: PageAs) -> None:
    page = page_as("rep_hangzhou", "zh-CN")
    page.goto(site.at("/"))
    switch = page.locator("header form.lang-switch button")
    doctors_link = page.locator("header a[data-nav=hcps]")

    assert html_lang(page) == "zh-Hans"
    expect(switch).to_have_text("English")
    zh_label = doctors_link.inner_text().strip()
    assert zh_label

    with page.expect_navigation(url=site.at("/")):
        press(page, switch)
    assert html_lang(page) == "en"
    expect(switch).to_have_text("中文")
    expect(doctors_link).to_have_text("Doctors")

    # The choice is remembered on the next page, and switching back restores Chinese.
    page.goto(site.at("/md/hcos/"))
    assert html_lang(page) == "en"
    with page.expect_navigation(url=site.at("/md/hcos/")):
        press(page, switch)
    assert html_lang(page) == "zh-Hans"
    expect(switch).to_have_text("English")
    expect(doctors_link).to_have_text(zh_label)


def test_english_browser_gets_english(site: Site, new_page: NewPage) -> None:
    page = new_page("en-US")
    page.goto(site.at("/login/"))
    assert html_lang(page) == "en"
    expect(page.locator("header form.lang-switch button")).to_have_text("中文")


# On a phone Chromium zooms out to show content wider than the screen, so window.innerWidth
# grows with the overflow; the layout viewport (clientWidth) stays the screen's width.
OVERFLOW_JS = """() => {
  const width = Math.min(window.innerWidth, document.documentElement.clientWidth);
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      const classes = typeof el.className === 'string' ? el.className.trim() : '';
      const id = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (classes ? '.' + classes.split(/\\s+/).join('.') : '');
      wide.push(id + ' right=' + Math.round(box.right));
    }
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    width: width,
    innerWidth: window.innerWidth,
    wide: wide.slice(0, 8),
  };
}"""


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_pages_fit_the_screen(site: Site, new_page: NewPage, page_as: PageAs, locale: str) -> None:
    pages = {
        "login": "/login/",
        "home": "/",
        "doctor list": "/md/hcps/",
        "doctor search": f"/md/hcps/?q={site.doctor.pinyin[:2]}",
        "doctor page": f"/md/hcps/{site.doctor.id}/",
        "institution list": "/md/hcos/",
        "institution page": f"/md/hcos/{site.doctor.hco_id}/",
        "activity timeline": f"/tracking/hcps/{site.doctor.id}/timeline/",
        "content library": "/engagement/content/",
        "consent": f"/engagement/hcps/{site.doctor.id}/consent/",
        "share content": f"/engagement/hcps/{site.doctor.id}/share/",
        "quiz and survey answers": f"/engagement/hcps/{site.doctor.id}/answers/",
        "360": f"/profiles/hcps/{site.doctor.id}/",
        "today": "/ff/today/",
        "log a visit": f"/ff/visits/new/{site.doctor.id}/",
        "call plan": "/ff/plan/",
        "handovers": "/ff/handovers/",
        "training": "/engagement/training/",
        # marketing's pages from here on
        "campaigns": "/engagement/campaigns/",
        "new campaign": "/engagement/campaigns/new/",
        "campaign report": f"/engagement/campaigns/{site.campaign_id}/",
        "outreach programmes": "/ff/programmes/",
        "new programme": "/ff/programmes/new/",
        "new course": "/engagement/training/new/",
        "content performance": "/engagement/performance/",
        "quiz questions": f"/engagement/content/{site.quiz_id}/questions/",
        "tags": "/profiles/tags/",
        "new tag": "/profiles/tags/new/",
        "a doctor's tags": f"/profiles/hcps/{site.doctor.id}/tags/",
        "segments": "/profiles/segments/",
        "new segment": "/profiles/segments/new/",
        "adoption funnel": "/profiles/adoption/",
        "tiering": "/profiles/tiers/",
        "next best actions": "/profiles/nba/",
        "suggestion feedback": "/profiles/nba/report/",
        # the district manager's
        "team": "/ff/team/",
        "team call plans": "/ff/plan/",
        "territories": "/ff/territories/",
    }
    misfits = {}
    for name, path in pages.items():
        if name == "login":
            page = new_page(locale)
        elif name == "home":
            page = page_as("rep_hangzhou", locale)
        elif name == "campaigns":
            page = page_as("marketing", locale)
        elif name == "team":
            page = page_as("dm_hangzhou", locale)
        response = page.goto(site.at(path))
        assert response is not None
        assert response.status == 200, f"{name} ({path}): {response.status}"
        fit = page.evaluate(OVERFLOW_JS)
        if fit["scrollWidth"] > fit["width"] or fit["innerWidth"] > fit["width"]:
            misfits[f"{name} {path}"] = fit
    assert not misfits, f"pages wider than the screen: {misfits}"


def test_rep_cannot_open_other_territory_doctor(site: Site, page_as: PageAs) -> None:
    page = page_as("rep_hangzhou")
    response = page.goto(site.at(f"/md/hcps/{site.beijing_only_hcp_id}/"))
    assert response is not None
    assert response.status == 404
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("h1[data-hcp-name]")).to_have_count(0)

    # The Beijing rep, whose doctor it is, opens the same page.
    other = page_as("rep_beijing")
    response = other.goto(site.at(f"/md/hcps/{site.beijing_only_hcp_id}/"))
    assert response is not None
    assert response.status == 200


@pytest.mark.parametrize("username", [member.username for member in CAST])
def test_each_role_lands_on_home(site: Site, page_as: PageAs, username: str) -> None:
    page = page_as(username)  # through the login form the first time for each member
    response = page.goto(site.at("/"))
    assert response is not None
    assert response.status == 200
    expect(page.locator(f"main [data-role={cast_member(username).role.value}]")).to_be_visible()

    fit = page.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["width"], f"{username}'s home is wider than the screen: {fit}"

    links = page.locator("header a[data-nav]")
    expect(links.first).to_be_visible()
    hrefs = links.evaluate_all("links => links.map(link => link.getAttribute('href'))")
    assert hrefs, f"{username} has no header navigation"
    broken = {}
    for href in hrefs:
        # The status is all this checks: no need to wait for the page's styles and scripts.
        response = page.goto(site.at(href), wait_until="commit")
        assert response is not None
        if response.status >= 400 or "/login/" in response.url:
            broken[href] = f"{response.status} at {response.url}"
    assert not broken, f"{username}'s header links fail: {broken}"

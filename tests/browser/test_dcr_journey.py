"""A rep proposes a new doctor from a phone, is asked "is it one of these?", proposes a new one
anyway; the data steward approves it on a desktop; the rep sees "approved"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import SCREENS, TIMEOUT_MS
from tests.browser.support import Login, Site, press
from tests.browser.test_journeys import OVERFLOW_JS

pytestmark = pytest.mark.browser


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Any]:
    """A fresh page on a given screen (the journey uses a phone and a desktop at once)."""
    contexts: list[BrowserContext] = []
    problems: list[str] = []

    def make(screen: str, locale: str) -> Page:
        context = browser.new_context(
            **SCREENS[screen], locale=locale, extra_http_headers={"Accept-Language": locale}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


def fits(page: Page) -> None:
    fit = page.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["width"], f"wider than the screen: {fit}"


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_rep_proposes_a_doctor_and_sees_the_stewards_approval(
    site: Site, open_page: Any, login: Login, locale: str
) -> None:
    doctor = site.doctor
    # given: the rep on a phone, on the new-doctor form
    rep = open_page("phone", locale)
    login(rep, "rep_hangzhou")
    rep.goto(site.at("/md/dcr/new/"))
    form = rep.locator("#dcr-form")
    # Another hospital of the doctor's city: a namesake, maybe not him.
    options = form.locator("select[name=hco] option").evaluate_all(
        "os => os.map(o => [o.value, o.dataset.city || ''])"
    )
    city = dict(options)[str(doctor.hco_id)]
    other = next(v for v, c in options if v and c == city and v != str(doctor.hco_id))
    form.locator("select[name=hco]").select_option(other)
    form.locator("select[name=title]").select_option("attending")

    # when: the rep types a name a doctor on file has
    name = form.locator("input[name=name]")
    press(rep, name)
    name.press_sequentially(doctor.name, delay=80)

    # then: htmx asks the matcher and lists the doctor on file
    suggestion = rep.locator(f'#suggestions [data-suggestion="{doctor.id}"]')
    expect(suggestion).to_be_visible()
    expect(suggestion.locator("[data-likelihood]")).not_to_be_empty()
    fits(rep)

    # when: it is none of them
    with rep.expect_navigation(url=site.at("/md/dcr/mine/")):
        press(rep, rep.locator("#suggestions [data-action=none-of-these]"))
    mine = rep.locator("main li[data-dcr]").first
    expect(mine).to_have_attribute("data-status", "pending")
    dcr_id = mine.get_attribute("data-dcr")
    fits(rep)

    # when: the steward approves it on a desktop, from the queue
    steward = open_page("desktop", locale)
    login(steward, "steward")
    steward.goto(site.at("/md/dcr/"))
    with steward.expect_navigation(url=site.at(f"/md/dcr/{dcr_id}/")):
        press(steward, steward.locator(f'li[data-dcr="{dcr_id}"] a.name'))
    expect(steward.locator("[data-dcr-name]")).to_have_text(doctor.name)
    expect(steward.locator("[data-fresh-match]")).to_be_visible()
    create_anyway = steward.locator("input[name=create_anyway]")
    if create_anyway.count():  # the namesake scored as certain: the steward says it is not
        create_anyway.check()
    with steward.expect_navigation(url=site.at("/md/dcr/")):
        press(steward, steward.locator("[data-action=approve]"))

    # then: the rep sees it approved, marked new
    rep.goto(site.at("/md/dcr/mine/"))
    row = rep.locator(f'main li[data-dcr="{dcr_id}"]')
    expect(row).to_have_attribute("data-status", "approved")
    expect(row.locator("[data-unread-marker]")).to_be_visible()
    expect(row.locator("[data-result-hcp]")).to_contain_text(doctor.name)
    if locale == "en-US":
        expect(row.locator("[data-status-label]")).to_have_text("Approved")
    fits(rep)

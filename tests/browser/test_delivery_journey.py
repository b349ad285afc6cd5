"""The Hangzhou rep records a doctor's consent and shares an approved article as a link; the
doctor opens it on a phone in Chinese, agrees to the notice, reads and leaves; the rep sees the
reading on the doctor's timeline."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import PageAs, Site, press
from tests.browser.test_journeys import OVERFLOW_JS

pytestmark = pytest.mark.browser


def test_a_shared_article_is_read_and_the_reading_reaches_the_timeline(
    site: Site, page_as: PageAs, new_page, screen: str
) -> None:
    rep = page_as("rep_hangzhou", "en-US")
    rep.goto(site.at(f"/engagement/hcps/{site.doctor.id}/consent/"))
    rep.select_option("#id_purpose", "marketing")
    rep.check("input[name=channels][value=wecom]")
    rep.fill("#id_note", f"in person ({screen})")
    press(rep, rep.locator("[data-action=record-consent]"))
    expect(rep.locator("[data-consent-history] li").first).to_contain_text(f"in person ({screen})")

    rep.goto(site.at(f"/engagement/hcps/{site.doctor.id}/share/"))
    rep.select_option("#id_item", label="旅程测试：高血压长期管理 (MLR-J-1)")
    press(rep, rep.get_by_text("A link to paste in a chat"))
    press(rep, rep.locator("[data-action=share]"))
    link = rep.locator("[data-link]").input_value()
    assert "/c/" in link

    doctor = new_page("zh-CN")
    doctor.goto(link)
    # The notice comes once per doctor (the other screen's run may have answered it already).
    if doctor.locator("[data-notice]").count():
        expect(doctor.locator("[data-notice]")).to_contain_text("阅读前请知悉")
        press(doctor, doctor.locator("[data-action=agree]"))
    expect(doctor.locator("[data-content-title]")).to_have_text("旅程测试：高血压长期管理")
    fit = doctor.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["width"], fit
    doctor.mouse.wheel(0, 4000)
    doctor.wait_for_timeout(1200)
    doctor.goto("about:blank")  # leaving the page sends the reading beacon

    # The beacon travels on its own after the page is gone: look again until it has arrived.
    timeline = site.at(f"/tracking/hcps/{site.doctor.id}/timeline/?event=Content+Read")
    for _attempt in range(20):
        rep.goto(timeline)
        if rep.locator("[data-timeline] [data-event-name]").count():
            break
        rep.wait_for_timeout(500)
    expect(rep.locator("[data-timeline] [data-event-name]").first).to_have_text("Content Read")
    expect(rep.locator("[data-timeline] [data-properties]").first).to_contain_text("dwell_seconds")

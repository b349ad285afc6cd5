"""Marketing connects a doctor platform; the platform sends events with the write
key; the Hangzhou rep reads them on the doctor's timeline, a script in an answer shown as text."""

from __future__ import annotations

import json

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.support import PageAs, Site, press
from tests.browser.test_journeys import OVERFLOW_JS

pytestmark = pytest.mark.browser

SCRIPT = "<img src=x onerror=alert(1)>"


def test_platform_events_reach_the_doctors_timeline(
    site: Site, page_as: PageAs, screen: str
) -> None:
    # given: marketing, in Chinese, creates the source (its code: the platform's user list's)
    marketing = page_as("marketing", "zh-CN")
    marketing.goto(site.at("/tracking/sources/"))
    marketing.fill("#id_name", "旅程测试平台")
    marketing.fill("#id_code", f"journey-{screen}")
    press(marketing, marketing.locator("[data-action=create-source]"))
    expect(marketing.locator("[data-new-key]")).to_contain_text("写入密钥")
    key = marketing.locator("[data-write-key]").inner_text().strip()
    host = marketing.locator("[data-host]").inner_text().strip()
    fit = marketing.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["width"], fit

    # when: the platform sends a batch as a Segment SDK would, to <host>/v1/batch
    batch = {
        "batch": [
            {
                "type": "track",
                "userId": "u-journey",
                "messageId": f"{screen}-1",
                "event": "Article Read",
            },
            {
                "type": "track",
                "userId": "u-journey",
                "messageId": f"{screen}-2",
                "event": "Survey Answered",
                "properties": {"answer": SCRIPT},
            },
        ]
    }
    answer = requests.post(f"{host}/v1/batch", data=json.dumps(batch), auth=(key, ""), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"success": True, "accepted": 2, "rejected": []}

    # then: the rep sees both events, the answer as text, and no script ran
    rep = page_as("rep_hangzhou", "en-US")
    dialogs: list[str] = []
    rep.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    rep.goto(site.at(f"/md/hcps/{site.doctor.id}/"))
    press(rep, rep.locator("[data-action=timeline]"))
    read, answer = (rep.locator(f"[data-timeline] [data-message={screen}-{i}]") for i in (1, 2))
    expect(read.locator("[data-event-name]")).to_have_text("Article Read")
    expect(answer.locator("[data-event-name]")).to_have_text("Survey Answered")
    expect(answer.locator("[data-properties]")).to_contain_text(SCRIPT)
    assert dialogs == []
    fit = rep.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["width"], fit

"""The Hangzhou rep logs a visit on the phone where the network drops: the check-in is taken
from the phone's location, the visit waits on the phone, goes out once the network is back,
and pressing save again does not record it twice; the today page and the HCP card show it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import PageAs, Site, press

pytestmark = pytest.mark.browser


def test_a_visit_logged_offline_is_sent_once_when_the_network_is_back(
    site: Site, page_as: PageAs, screen: str
) -> None:
    rep = page_as("rep_hangzhou", "zh-CN")
    rep.context.grant_permissions(["geolocation"])
    rep.context.set_geolocation(
        {"latitude": site.doctor.hco_lat + 0.001, "longitude": site.doctor.hco_lng}
    )
    feedback = f"离线记录的拜访（{screen}）"
    rep.goto(site.at(f"/profiles/hcps/{site.doctor.id}/"))
    press(rep, rep.locator("[data-action=log-visit]"))
    expect(rep.locator("h1")).to_have_text("记录拜访")

    press(rep, rep.locator("[data-locate=check_in]"))
    expect(rep.locator("[data-location-status]")).to_have_text("已获取位置。")
    rep.fill("textarea[name=feedback]", feedback)
    rep.context.set_offline(True)
    press(rep, rep.locator("[data-action=save-visit]"))
    expect(rep.locator("[data-outbox]")).to_contain_text("没有网络")

    rep.context.set_offline(False)  # the browser says "online": the outbox goes out
    expect(rep.locator("[data-outbox]")).to_contain_text("已提交")

    press(rep, rep.locator("[data-action=save-visit]"))  # the same form, saved again
    expect(rep.locator("[data-distance]")).to_contain_text("米")
    expect(rep.locator("[data-visit-kind]")).to_contain_text("面对面")

    rep.goto(site.at(f"/profiles/hcps/{site.doctor.id}/"))
    logged = rep.locator("[data-hcp-visit]", has_text=feedback)
    expect(logged).to_have_count(1)
    rep.goto(site.at("/ff/today/"))
    expect(rep.locator(f"[data-visit='{site.doctor.name}']").first).to_be_visible()

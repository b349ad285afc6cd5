"""Marketing writes a rule tag: a typo is pointed at while typing, the fixed rule counts its
doctors live, and saving computes the tag; the Hangzhou rep sets a manual tag on a doctor."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import PageAs, Site, press

pytestmark = pytest.mark.browser


def test_a_rule_tag_is_written_with_live_checks_and_a_rep_sets_a_manual_one(
    site: Site, page_as: PageAs, screen: str
) -> None:
    author = page_as("marketing", "zh-CN")
    author.goto(site.at("/profiles/tags/new/"))
    author.fill("#id_name", f"主任医师（{screen}）")
    author.select_option("#id_kind", "rule")
    author.locator("#id_rule").press_sequentially('titel = "chief_physician"', delay=5)
    error = author.locator("[data-rule-error]")
    expect(error).to_contain_text("未知字段 titel")
    expect(error).to_have_attribute("data-column", "1")

    author.fill("#id_rule", 'title = "chief_physician"')
    author.locator("#id_rule").dispatch_event("input")
    expect(author.locator("[data-rule-count]")).to_contain_text("位医生")
    count = author.locator("[data-rule-count]").get_attribute("data-rule-count")
    press(author, author.locator("[data-action=save-tag]"))
    expect(author.locator("[data-holders]")).to_have_text(count)

    author.goto(site.at("/profiles/tags/new/"))
    author.fill("#id_name", f"学术影响力（{screen}）")
    press(author, author.locator("[data-action=save-tag]"))
    expect(author.locator("[data-tag-name]")).to_have_text(f"学术影响力（{screen}）")

    rep = page_as("rep_hangzhou", "zh-CN")
    rep.goto(site.at(f"/md/hcps/{site.doctor.id}/"))
    press(rep, rep.locator("[data-action=tags]"))
    rep.select_option("#id_tag", label=f"学术影响力（{screen}） (基础)")
    rep.fill("#id_value", "高")
    press(rep, rep.locator("[data-action=set-tag]"))
    expect(rep.locator(f"[data-tag='学术影响力（{screen}）']")).to_contain_text("高")
    expect(rep.locator("[data-tag-history]")).to_contain_text(f"学术影响力（{screen}）")


def test_a_segment_is_built_with_a_live_count_exported_and_sent_a_campaign(
    site: Site, page_as: PageAs, screen: str
) -> None:
    author = page_as("marketing", "en-US")
    author.goto(site.at("/profiles/segments/new/"))
    author.fill("#id_name", f"Hangzhou chiefs ({screen})")
    author.fill("#id_rule", 'city = "杭州市" and title = "chief_physician"')
    author.locator("#id_rule").dispatch_event("input")
    live = author.locator("[data-rule-count]")
    expect(live).to_contain_text("doctors match")
    count = live.get_attribute("data-rule-count")
    press(author, author.locator("[data-action=save-segment]"))
    expect(author.locator("[data-count]")).to_have_attribute("data-count", count)

    with author.expect_download() as download:
        press(author, author.locator("[data-action=export]"))
    assert download.value.suggested_filename.endswith(".xlsx")

    author.fill("[data-segment-campaign] #id_name", f"Chiefs' December ({screen})")
    author.select_option(
        "[data-segment-campaign] #id_item", label="旅程测试：高血压长期管理 (MLR-J-1)"
    )
    press(author, author.locator("[data-action=segment-campaign]"))
    expect(author.locator("[data-segment]")).to_have_text(f"Hangzhou chiefs ({screen})")
    expect(author.locator("[data-kpi=recipients]")).to_have_text(count)

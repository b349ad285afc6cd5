"""A data steward imports a distributor's GBK-encoded hospital file and reads its report."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from tests.browser.support import PageAs, Site, press
from tests.browser.test_journeys import OVERFLOW_JS

pytestmark = pytest.mark.browser

_runs = itertools.count(1)


def _hco_file(run: int) -> bytes:
    rows = [
        "编号,机构名称,类型,等级,省份,城市,床位数",
        f"B{run}-1,湖州市浏览器第{run}医院,医院,二甲,浙江,湖州,300",
        f"B{run}-1,湖州市浏览器第{run}医院,医院,二甲,浙江,湖州,300",  # the same row twice
        f"B{run}-3,嘉兴市浏览器第{run}医院,医院,,浙江,嘉兴,八百",  # beds are not a number
    ]
    return ("\r\n".join(rows) + "\r\n").encode("gb18030")


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_steward_imports_a_gbk_file_and_reads_the_report(
    site: Site, page_as: PageAs, locale: str
) -> None:
    run = next(_runs)
    page = page_as("steward", locale)
    page.goto(site.at("/md/imports/new/"))
    page.locator("input[name=file]").set_input_files(
        {"name": f"distributor-{run}.csv", "mimeType": "text/csv", "buffer": _hco_file(run)}
    )
    page.locator("input[name=code]").fill(f"browser-{locale.lower()}-{run}")
    page.locator("input[name=name]").fill("Distributor east")
    page.locator("input[name=entity_type][value=hco]").check()
    press(page, page.locator("main form button[type=submit]"))

    # The mapping step suggests the columns from the Chinese headers.
    expect(page.locator("select[data-field=name]")).to_have_value("机构名称")
    expect(page.locator("select[data-field=beds]")).to_have_value("床位数")
    assert page.evaluate(OVERFLOW_JS)["scrollWidth"] <= page.evaluate(OVERFLOW_JS)["width"]
    press(page, page.locator("main form button[type=submit]"))

    report = page.locator("main")
    expect(report.locator("[data-count=rows_read]")).to_have_text("3")
    expect(report.locator("[data-count=new]")).to_have_text("1")
    expect(report.locator("[data-count=rejected]")).to_have_text("2")
    rejected = report.locator("[data-rejected-row]")
    expect(rejected).to_have_count(2)
    reason = "床位" if locale == "zh-CN" else "Beds"
    expect(rejected.filter(has_text=reason)).to_have_count(1)
    fit = page.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["width"], f"the report is wider than the screen: {fit}"

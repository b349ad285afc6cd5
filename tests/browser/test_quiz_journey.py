"""Marketing builds a quiz in the builder, medical approves it, the Hangzhou rep shares it as a
link; the doctor answers on a phone in Chinese and sees the score and the explanation; the rep
reads the answers on the doctor's page; marketing sees the score on the performance page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.support import PageAs, Site, press
from tests.browser.test_journeys import OVERFLOW_JS

pytestmark = pytest.mark.browser


def test_a_quiz_is_built_approved_answered_and_read_by_the_rep(
    site: Site, page_as: PageAs, new_page, screen: str
) -> None:
    title = f"旅程测验（{screen}）"
    author = page_as("marketing", "en-US")
    author.goto(site.at("/engagement/content/new/"))
    author.fill("#id_title", title)
    author.select_option("#id_kind", "quiz")
    author.select_option("#id_therapy_area", index=1)
    author.fill("#id_body", "两道题，一分钟。")
    press(author, author.locator("[data-action=save-content]"))
    press(author, author.locator("[data-action=questions]"))

    author.select_option("#id_kind", "single")
    author.fill("#id_text", "一般高血压患者的降压目标？")
    author.fill("#id_options", "<140/90 mmHg\n<130/80 mmHg")  # the correct mark forgotten
    press(author, author.locator("[data-action=add-question]"))
    expect(author.locator("[data-error=options]")).to_contain_text("Mark the correct answer")
    author.fill("#id_options", "<140/90 mmHg\n* <130/80 mmHg")
    author.fill("#id_explanation", "指南建议一般患者 <130/80 mmHg。")
    press(author, author.locator("[data-action=add-question]"))
    author.select_option("#id_kind", "text")
    author.fill("#id_text", "您最想了解的话题")
    author.fill("#id_options", "")
    author.uncheck("input[name=required]")
    press(author, author.locator("[data-action=add-question]"))
    expect(author.locator("[data-questions] > li")).to_have_count(2)
    press(author, author.get_by_role("link", name=f"← {title}"))
    press(author, author.locator("[data-action=submit]"))

    reviewer = page_as("medical", "en-US")
    reviewer.goto(author.url)
    reviewer.fill("#approval_number", f"MLR-Q-{screen}")
    reviewer.fill("#valid_from", "2026-01-01")
    reviewer.fill("#valid_until", "2099-12-31")
    press(reviewer, reviewer.locator("[data-action=approve]"))
    expect(reviewer.locator("[data-sendable]")).to_be_visible()

    rep = page_as("rep_hangzhou", "en-US")
    rep.goto(site.at(f"/engagement/hcps/{site.doctor.id}/consent/"))
    rep.select_option("#id_purpose", "marketing")
    rep.check("input[name=channels][value=wecom]")
    rep.fill("#id_note", f"quiz journey ({screen})")
    press(rep, rep.locator("[data-action=record-consent]"))
    expect(rep.locator("[data-consent-history] li").first).to_contain_text(
        f"quiz journey ({screen})"
    )
    rep.goto(site.at(f"/engagement/hcps/{site.doctor.id}/share/"))
    rep.select_option("#id_item", label=f"{title} (MLR-Q-{screen})")
    press(rep, rep.get_by_text("A link to paste in a chat"))
    press(rep, rep.locator("[data-action=share]"))
    link = rep.locator("[data-link]").input_value()

    doctor = new_page("zh-CN")
    doctor.goto(link)
    if doctor.locator("[data-notice]").count():
        press(doctor, doctor.locator("[data-action=agree]"))
    press(doctor, doctor.get_by_label("<130/80 mmHg"))
    doctor.fill("textarea[name=q2]", "心衰合并高血压的用药")
    press(doctor, doctor.locator("[data-action=answer]"))
    expect(doctor.locator("[data-score]")).to_contain_text("100 / 100")
    expect(doctor.locator("[data-explanation]")).to_contain_text("指南建议一般患者")
    fit = doctor.evaluate(OVERFLOW_JS)
    assert fit["scrollWidth"] <= fit["width"], fit

    rep.goto(site.at(f"/engagement/hcps/{site.doctor.id}/answers/"))
    answer = rep.locator("[data-response]").filter(has_text=title)
    expect(answer.locator("[data-score]")).to_contain_text("100 / 100")
    expect(answer).to_contain_text("心衰合并高血压的用药")

    author.goto(site.at("/engagement/performance/?by=content"))
    expect(author.locator(f"[data-row='{title}'] [data-score]")).to_have_text("100.0")

"""What the browser journeys share: the site they visit, page makers' types, a user's press."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Locator, Page

# new_page(locale="zh-CN", storage_state=None) -> a blank page in a fresh browser context
NewPage = Callable[..., Page]
# login(page, username): through the login form, landing on the home page
Login = Callable[[Page, str], None]
# page_as(username, locale="zh-CN") -> a page signed in as that cast member
PageAs = Callable[..., Page]


@dataclass(frozen=True)
class Doctor:
    id: int
    name: str
    pinyin: str
    mobile_masked: str
    hco_id: int
    hco_lat: float  # where the doctor's hospital is (a visit's check-in is measured to it)
    hco_lng: float


@dataclass(frozen=True)
class Site:
    """The running server and what the journeys know about its demo company."""

    url: str
    doctor: Doctor  # in rep_hangzhou's scope, with a mobile phone
    beijing_only_hcp_id: int  # covered by rep_beijing, not by rep_hangzhou
    quiz_id: int  # an approved quiz with two questions
    campaign_id: int  # a campaign of the seeded article to the doctor, scheduled next year

    def at(self, path: str) -> str:
        return self.url + path


def press(page: Page, target: Locator) -> None:
    """Tap on a touch screen, click elsewhere: as the user of that device would."""
    if page.viewport_size and page.viewport_size["width"] < 600:
        target.tap()
    else:
        target.click()

"""What each role finds in the page header and on its home page.

The modules of the closed loop (DESIGN.md §2) arrive one issue at a time; until a module is
built its menu entry leads to ``org:module``, a placeholder page that says which issue brings
it, so no role ever meets a broken link. Links are URL names, resolved when the menu is built,
so this module imports no other app's code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from omnihcp.org.models import Role


@dataclass(frozen=True)
class Module:
    """A module of the platform that is not built yet."""

    slug: str
    label: Promise
    summary: Promise
    issue: int | None  # the tracker issue that brings it; None: a later issue, not filed yet


MODULES: dict[str, Module] = {
    module.slug: module
    for module in (
        Module(
            "stewardship",
            _("Data stewardship"),
            _("Match review, merges and data change requests (DCRs) for the master data."),
            3,
        ),
        Module(
            "fieldforce",
            _("Field force"),
            _("Call plans, visits, tasks, hand-offs, outreach programmes and manager nudges."),
            6,
        ),
        Module(
            "meetings",
            _("Meetings"),
            _("Meetings, budgets, speakers, invitations, check-in, evidence and expenses."),
            None,
        ),
        Module(
            "sales",
            _("Sales"),
            _("Flow data, e-commerce orders, targets, market share, forecasts and ROI."),
            None,
        ),
        Module(
            "insights",
            _("Dashboards"),
            _("Role dashboards and reports, from the country down to one doctor."),
            None,
        ),
        Module(
            "compliance",
            _("Compliance"),
            _("Meeting audits, expense reconciliation, anomaly flags and PIPL requests."),
            None,
        ),
    )
}


@dataclass(frozen=True)
class NavItem:
    key: str
    label: Promise
    url: str
    summary: Promise | str = ""
    module: Module | None = None  # set when the link leads to a placeholder

    @property
    def is_placeholder(self) -> bool:
        return self.module is not None


# Menu keys per role, in the order the role works; "hcps"/"hcos" are the master-data lists.
MANAGER_MENU = (
    "home",
    "hcps",
    "hcos",
    "adoption",
    "tiers",
    "nbareport",
    "team",
    "callplans",
    "territories",
    "programmes",
    "training",
    "insights",
    "meetings",
)
MENUS: dict[Role, tuple[str, ...]] = {
    Role.REP: ("home", "today", "hcps", "hcos", "mydcr", "content", "profiles", "training"),
    Role.VIRTUAL_REP: ("home", "programmes", "hcps", "content", "profiles", "training"),
    Role.DISTRICT_MANAGER: MANAGER_MENU,
    Role.AREA_MANAGER: MANAGER_MENU,
    Role.REGIONAL_MANAGER: MANAGER_MENU,
    Role.EXECUTIVE: ("home", "insights", "sales", "hcos", "hcps"),
    Role.MARKETING: (
        "home",
        "content",
        "campaigns",
        "programmes",
        "training",
        "performance",
        "tags",
        "segments",
        "adoption",
        "tiers",
        "nbareport",
        "meetings",
        "hcps",
        "hcos",
        "platforms",
        "tracking",
        "insights",
    ),
    Role.MEDICAL: (
        "home",
        "content",
        "training",
        "performance",
        "tags",
        "segments",
        "adoption",
        "tiers",
        "nbareport",
        "meetings",
        "hcps",
        "hcos",
    ),
    Role.DATA_STEWARD: (
        "home",
        "hcps",
        "hcos",
        "imports",
        "review",
        "platforms",
        "dcr",
        "quality",
        "sources",
        "tags",
        "stewardship",
        "admin",
    ),
    Role.COMPLIANCE: ("home", "content", "compliance", "meetings", "hcps", "hcos"),
    Role.FINANCE: ("home", "meetings", "sales", "compliance", "hcos"),
    Role.ADMIN: (
        "home",
        "hcps",
        "hcos",
        "imports",
        "review",
        "platforms",
        "dcr",
        "quality",
        "sources",
        "stewardship",
        "tracking",
        "insights",
        "admin",
    ),
}


def _item(key: str) -> NavItem:
    if key in MODULES:
        module = MODULES[key]
        url = reverse("org:module", kwargs={"slug": module.slug})
        return NavItem(key, module.label, url, module.summary, module)
    if key == "home":
        return NavItem(key, _("Home"), reverse("org:home"))
    if key == "hcps":
        return NavItem(
            key,
            _("Doctors"),
            reverse("masterdata:hcp-list"),
            _("Find a doctor by name, pinyin, initials or hospital."),
        )
    if key == "hcos":
        return NavItem(
            key,
            _("Institutions"),
            reverse("masterdata:hco-list"),
            _("Hospitals, community health centres, clinics and pharmacies."),
        )
    if key == "imports":
        return NavItem(
            key,
            _("File imports"),
            reverse("masterdata:import-list"),
            _("Import HCP and HCO files (CSV or Excel) and read each file's report."),
        )
    if key == "content":
        return NavItem(
            key,
            _("Content library"),
            reverse("engagement:content-list"),
            _("Articles, literature, cases, videos and slides, with their MLR approval."),
        )
    if key == "campaigns":
        return NavItem(
            key,
            _("Campaigns"),
            reverse("engagement:campaign-list"),
            _("Send approved content to a list of doctors on a schedule, and see who read it."),
        )
    if key == "performance":
        return NavItem(
            key,
            _("Content performance"),
            reverse("engagement:performance"),
            _(
                "Sends, opens, read-through, dwell time and quiz results by content, channel, "
                "region and rep."
            ),
        )
    if key == "tags":
        return NavItem(
            key,
            _("Tags"),
            reverse("profiles:tag-list"),
            _("Basic, marketing and value tags of doctors: by hand, by rule or by model."),
        )
    if key == "adoption":
        return NavItem(
            key,
            _("Adoption funnel"),
            reverse("profiles:adoption-funnel"),
            _("Where doctors stand on the adoption ladder, per product and region."),
        )
    if key == "team":
        return NavItem(
            key,
            _("Team"),
            reverse("fieldforce:team"),
            _("Your reps' calls this week and last, plan attainment and call quality; nudge."),
        )
    if key == "callplans":
        return NavItem(
            key,
            _("Call plans"),
            reverse("fieldforce:plan-mine"),
            _("Each rep's calls planned this month from the tiers, against the visits made."),
        )
    if key == "training":
        return NavItem(
            key,
            _("Training"),
            reverse("engagement:training"),
            _("Courses of approved content and a quiz; completion and scores."),
        )
    if key == "programmes":
        return NavItem(
            key,
            _("Outreach programmes"),
            reverse("fieldforce:programmes"),
            _("Virtual reps' target lists, call scripts, calls and hand-offs to the field."),
        )
    if key == "territories":
        return NavItem(
            key,
            _("Territories"),
            reverse("fieldforce:territories"),
            _("Who works which territory from when; move hospitals; handovers to the new rep."),
        )
    if key == "today":
        return NavItem(
            key,
            _("Today"),
            reverse("fieldforce:today"),
            _("Hot leads, due tasks, next best actions and today's visits; log a visit."),
        )
    if key == "profiles":
        return NavItem(
            key,
            _("Next best actions"),
            reverse("profiles:nba"),
            _("Whom to contact today, how, with what content, and why."),
        )
    if key == "nbareport":
        return NavItem(
            key,
            _("Suggestion feedback"),
            reverse("profiles:nba-report"),
            _("How reps answer next best actions, and which suggested content doctors open."),
        )
    if key == "tiers":
        return NavItem(
            key,
            _("Tiering"),
            reverse("profiles:tiers"),
            _("Tier A / B / C per product from potential and support, and calls a month."),
        )
    if key == "segments":
        return NavItem(
            key,
            _("Segments"),
            reverse("profiles:segment-list"),
            _("Saved audiences written as rules: live counts, Excel export, campaigns."),
        )
    if key == "tracking":
        return NavItem(
            key,
            _("Tracking sources"),
            reverse("tracking:source-list"),
            _("Platforms and apps that send events; their write keys and what they sent."),
        )
    if key == "review":
        return NavItem(
            key,
            _("Review queue"),
            reverse("masterdata:review-list"),
            _("Decide whether records that may be the same doctor or institution are one."),
        )
    if key == "dcr":
        return NavItem(
            key,
            _("Change requests"),
            reverse("masterdata:dcr-list"),
            _("Approve or reject reps' proposals of new and changed doctors."),
        )
    if key == "mydcr":
        return NavItem(
            key,
            _("My change requests"),
            reverse("masterdata:dcr-mine"),
            _("Propose a new doctor or a change, and see the data steward's decisions."),
        )
    if key == "quality":
        return NavItem(
            key,
            _("Data quality"),
            reverse("masterdata:quality"),
            _("Completeness, rejected values, suspected duplicates and match rates per source."),
        )
    if key == "sources":
        return NavItem(
            key,
            _("Sources"),
            reverse("masterdata:source-list"),
            _("Import sources and their priority when merged records disagree."),
        )
    if key == "platforms":
        return NavItem(
            key,
            _("Doctor platforms"),
            reverse("masterdata:platform-list"),
            _("Import third-party platforms' user lists and see how many are our doctors."),
        )
    if key == "admin":
        return NavItem(
            key,
            _("Administration"),
            reverse("admin:index"),
            _("Edit master data, users and territories in the Django admin."),
        )
    raise KeyError(key)


def menu_for(*, role: str) -> list[NavItem]:
    """The header links of a role; an unknown role gets only its home page."""
    keys = MENUS.get(Role(role), ("home",)) if role in Role.values else ("home",)
    return [_item(key) for key in keys]


def module_get(*, slug: str) -> Module | None:
    return MODULES.get(slug)

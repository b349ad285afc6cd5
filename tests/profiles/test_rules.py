"""The rule language: refused rules point at the wrong token; accepted rules run in the
database and match exactly the doctors a user would pick by hand."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from omnihcp.core.scope import DataScope
from omnihcp.masterdata.models import HCP
from omnihcp.masterdata.selectors import HCPFilter, hcp_list
from omnihcp.profiles.rules import RuleError, rule_compile
from omnihcp.tracking.models import HcpDailyActivity
from omnihcp.tracking.windows import windows_rebuild
from tests.engagement.support import approved_content, consent, link_of, share

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("rule", "message", "column"),
    [
        ('titel = "chief_physician"', "Unknown field titel", 1),
        ('title = "a" and reads(area="心血管") > 1', "has no argument area", 23),
        ("title > 3", "title is text", 9),
        ('reads(days=30) >= "3"', "reads is a number", 19),
        ('title = "a" and', "ends too early", 16),
        ("city = 杭州市", "Unexpected character", 8),
        ('title = "x"; DROP TABLE masterdata_hcp', "Unexpected character", 12),
        ("quiz_score(days=0) > 1", "days must be a whole number", 17),
        ("events(name=3) > 1", "name must be text", 13),
        ("nosuch(days=3) > 1", "Unknown function nosuch", 1),
        ('title >= "a"', "Text can only be compared", 7),
    ],
)
def test_a_refused_rule_points_at_its_token(rule: str, message: str, column: int) -> None:
    with pytest.raises(RuleError) as refused:
        rule_compile(rule)

    assert message in refused.value.message
    assert (refused.value.line, refused.value.column) == (1, column)


def test_field_rules_match_what_the_doctor_list_filters() -> None:
    system = DataScope.system()
    doctor = hcp_list(scope=system).first()
    city, title = doctor.primary_hco.city, doctor.title

    compiled = rule_compile(f'city = "{city}" and title = "{title}"')
    by_rule = set(compiled.apply(HCP.objects.all()).values_list("pk", flat=True))
    by_list = set(
        hcp_list(scope=system, filters=HCPFilter(city=city, title=title, status="")).values_list(
            "pk", flat=True
        )
    )

    assert by_rule == by_list
    assert doctor.pk in by_rule
    negated = rule_compile(f'not (city = "{city}" and title = "{title}")')
    assert doctor.pk not in set(negated.apply(HCP.objects.all()).values_list("pk", flat=True))


def test_activity_rules_count_reads_and_quiz_scores(client_as, cast_user, scope_of) -> None:
    reader, other = list(hcp_list(scope=scope_of("rep_hangzhou"))[:2])
    article = approved_content(cast_user("marketing"), cast_user("medical"))
    rep = client_as("rep_hangzhou")
    for hcp in (reader, other):
        consent(hcp)
    for n in range(3):
        link = link_of(share(rep, reader, article, key=f"r{n}"))
        _open(link)
    _open(link_of(share(rep, other, article, key="o1")))
    area = article.therapy_area.name

    def matched(rule: str) -> set[int]:
        return set(rule_compile(rule).apply(HCP.objects.all()).values_list("pk", flat=True))

    assert matched(f'reads(therapy_area="{area}", days=30) >= 3') == {reader.pk}
    assert matched(f'reads(therapy_area="{area}", days=30) >= 1') == {reader.pk, other.pk}
    assert matched('reads(therapy_area="消化", days=30) >= 1') == set()
    assert matched("quiz_score(days=90) >= 0") == set()  # nobody answered a quiz


def _open(link: str) -> Any:
    from django.test import Client

    doctor = Client()
    doctor.post(f"{link}consent/", {"answer": "yes"})
    return doctor.get(link)


def test_event_rules_match_the_same_doctors_from_windows_as_from_daily_rollups() -> None:
    doctors = list(HCP.objects.order_by("pk")[:4])
    today = timezone.localdate()
    history = {  # doctor: (days ago, event, count)
        0: [(0, "Content Read", 2), (40, "Content Read", 1)],
        1: [(10, "Content Read", 1), (5, "Quiz Answered", 3)],
        2: [(100, "Content Read", 5), (6, "Quiz Answered", 1)],
        3: [],
    }
    for i, rows in history.items():
        for ago, event, count in rows:
            HcpDailyActivity.objects.create(
                hcp=doctors[i],
                day=today - dt.timedelta(days=ago),
                event=event,
                channel="wecom",
                count=count,
                last_at=timezone.now(),
            )
    expected = {
        'events(name="Content Read", days=30) >= 2': {0},
        'events(name="Content Read", days=90) >= 2': {0},
        'events(name="Content Read", days=180) > 2': {0, 2},
        "events(days=30) >= 3": {1},
        "events(days=7) = 0": {3},
        'events(name="Content Read", days=30) < 1': {2, 3},
        'events(name="Content Read", days=365) in (1, 5)': {1, 2},
        'events(name="Content Read", days=365) not in (1, 5)': {0, 3},
        "events(days=30) != 4": {0, 2, 3},
        'not events(name="Quiz Answered", days=14) >= 1 and events(days=365) >= 1': {0},
        'events(name="Content Read", days=45) >= 3': {0},  # not a window: summed from rollups
    }
    doctor_ids = [d.pk for d in doctors]

    def matched(rule: str) -> tuple[set[int], str]:
        found = rule_compile(rule).apply(HCP.objects.filter(pk__in=doctor_ids))
        return {doctor_ids.index(pk) for pk in found.values_list("pk", flat=True)}, str(found.query)

    for rule, doctors_matched in expected.items():
        assert matched(rule)[0] == doctors_matched, rule
        assert "hcpactivitywindow" not in matched(rule)[1]  # no windows yet: rollups summed

    windows_rebuild(today=today)

    for rule, doctors_matched in expected.items():
        found, sql = matched(rule)
        assert found == doctors_matched, rule
        assert ("hcpactivitywindow" in sql) == ("days=45" not in rule), rule

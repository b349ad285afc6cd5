"""Territory changes with effective dates: a manager hands a territory to another rep or moves
hospitals; on the day, the open tasks follow the doctors, the new rep is told by WeCom and reads
a handover summary per doctor; the doctors' history stays with them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from omnihcp.fieldforce import territories
from omnihcp.fieldforce.models import Handover, Task, TaskSource, TaskStatus, Visit, VisitKind
from omnihcp.fieldforce.services import task_open
from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata.models import HCP
from omnihcp.org.models import Employee, Territory, TerritoryHCO, TerritoryRep
from omnihcp.org.selectors import territories_of

pytestmark = pytest.mark.django_db


def _hangzhou() -> Employee:
    return Employee.objects.get(user__username="rep_hangzhou")


def _colleague() -> tuple[Employee, Territory]:
    """The Hangzhou district's other rep of the same business unit, and a territory of theirs."""
    me = _hangzhou()
    mine = set(territories_of(employee=me).values_list("business_unit_id", flat=True))
    for rep in Employee.objects.filter(org_node=me.org_node, position="rep").exclude(pk=me.pk):
        territory = territories_of(employee=rep).filter(business_unit_id__in=mine).first()
        if territory is not None:
            return rep, territory
    raise AssertionError("the demo district has a second rep of the same business unit")


def _doctor_in(territory: Territory) -> HCP:
    hco_ids = TerritoryHCO.objects.filter(territory=territory, valid_to__isnull=True).values(
        "hco_id"
    )
    return HCP.objects.filter(primary_hco_id__in=hco_ids, status="active").order_by("pk").first()


def test_a_territory_handed_over_today_moves_tasks_and_tells_the_new_rep(client_as, wecom):
    old_rep, territory = _colleague()
    doctor = _doctor_in(territory)
    task, _ = task_open(
        assignee=old_rep,
        hcp=doctor,
        source=TaskSource.HOT_SIGNAL,
        title="Read three articles",
        due_on=timezone.localdate(),
        dedupe_key=f"hot:{doctor.pk}",
    )
    Visit.objects.create(
        rep=old_rep,
        hcp=doctor,
        kind=VisitKind.PHONE,
        started_at=timezone.now() - dt.timedelta(days=9),
        feedback="Wants the new guideline summary",
        objections="Price after VBP",
        client_key="old-1",
    )
    manager = client_as("dm_hangzhou")
    listing = manager.get("/ff/territories/").content.decode()
    assert f'data-territory="{territory.code}"' in listing

    response = manager.post(
        f"/ff/territories/{territory.pk}/",
        {"action": "rep", "rep": _hangzhou().pk, "effective_on": timezone.localdate().isoformat()},
    )

    handover = Handover.objects.get(territory=territory)
    assert response.status_code == 302
    assert response["Location"] == f"/ff/handovers/{handover.pk}/"
    task.refresh_from_db()
    assert task.assignee == _hangzhou()
    assert task.status == TaskStatus.OPEN
    assert handover.from_rep == old_rep
    assert handover.tasks_moved == 1
    assert TerritoryRep.objects.get(territory=territory, employee=old_rep).valid_to == (
        timezone.localdate()
    )
    note = Task.objects.get(assignee=_hangzhou(), dedupe_key=f"handover:{handover.pk}")
    assert note.notified_at is not None
    sent = [body for path, body in wecom.state.requests if path == "/cgi-bin/message/send"]
    assert sent[-1]["touser"] == "rep_hangzhou"
    assert territory.name in sent[-1]["textcard"]["description"]
    assert AuditEvent.objects.filter(action="territory.rep_assign", object_id=territory.pk).exists()

    rep = client_as("rep_hangzhou")
    summary = rep.get(f"/ff/handovers/{handover.pk}/").content.decode()
    assert f'data-handover-hcp="{doctor.name}"' in summary
    assert "Wants the new guideline summary" in summary
    assert "Price after VBP" in summary
    assert old_rep.name in summary  # the visit by the rep who left stays with the doctor
    assert "Read three articles" in summary
    assert rep.get(f"/profiles/hcps/{doctor.pk}/").status_code == 200  # now in the rep's scope
    assert "Handover" in rep.get("/ff/today/").content.decode()


def test_a_change_dated_ahead_waits_for_its_day_and_applies_once(client_as):
    old_rep, territory = _colleague()
    ahead = timezone.localdate() + dt.timedelta(days=10)
    manager = client_as("dm_hangzhou")
    manager.post(
        f"/ff/territories/{territory.pk}/",
        {"action": "rep", "rep": _hangzhou().pk, "effective_on": ahead.isoformat()},
    )
    handover = Handover.objects.get(territory=territory)
    assert handover.applied_at is None
    listing = manager.get("/ff/territories/").content.decode()
    row = listing[listing.index(f'data-territory="{territory.code}"') :]
    assert old_rep.name in row[: row.index("</tr>")]  # still the rep today
    assert "data-next-rep" in row[: row.index("</tr>")]
    assert territories.handovers_apply() == 0

    Handover.objects.filter(pk=handover.pk).update(effective_on=timezone.localdate())
    assert territories.handovers_apply() == 1
    assert territories.handovers_apply() == 0
    assert Task.objects.filter(dedupe_key=f"handover:{handover.pk}").count() == 1


def test_hospitals_moved_to_another_territory_go_to_its_rep(client_as):
    old_rep, source = _colleague()
    target = territories_of(employee=_hangzhou()).get(business_unit=source.business_unit)
    hco_id = TerritoryHCO.objects.filter(territory=source, valid_to__isnull=True)[0].hco_id
    today = timezone.localdate()

    response = client_as("dm_hangzhou").post(
        f"/ff/territories/{source.pk}/",
        {"action": "hcos", "hcos": [hco_id], "target": target.pk, "effective_on": today},
    )

    assert response.status_code == 302
    closed = TerritoryHCO.objects.get(territory=source, hco_id=hco_id)
    assert closed.valid_to == today
    assert TerritoryHCO.objects.filter(territory=target, hco_id=hco_id, valid_to=None).exists()
    handover = Handover.objects.get(territory=target)
    assert (handover.from_rep, handover.to_rep, handover.hco_ids) == (
        old_rep,
        _hangzhou(),
        [hco_id],
    )


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"action": "rep", "rep": "", "effective_on": "2026-12-01"}, "rep", "Choose an active rep"),
        ({"action": "rep", "rep": "me", "effective_on": ""}, "effective_on", "Give the date"),
        ({"action": "rep", "rep": "me", "effective_on": "2020-01-01"}, "effective_on", "days back"),
        ({"action": "rep", "rep": "left", "effective_on": "today"}, "rep", "Choose an active rep"),
        (
            {"action": "hcos", "target": "other-bu", "effective_on": "today"},
            "target",
            "same business unit",
        ),
        ({"action": "hcos", "target": "mine", "effective_on": "today"}, "hcos", "at least one HCO"),
    ],
)
def test_bad_territory_changes_are_refused_and_nothing_changes(client_as, form, field, message):
    _old_rep, territory = _colleague()
    me = _hangzhou()
    other_bu = Territory.objects.exclude(business_unit=territory.business_unit).filter(
        org_node__path__startswith=me.org_node.path
    )[0]
    if form.get("rep") == "left":
        me.is_active = False
        me.save()
    values = {
        "me": me.pk,
        "left": me.pk,
        "today": timezone.localdate().isoformat(),
        "other-bu": other_bu.pk,
        "mine": territories_of(employee=me).get(business_unit=territory.business_unit).pk,
    }
    data = {k: values.get(v, v) for k, v in form.items()}
    periods = TerritoryRep.objects.count(), TerritoryHCO.objects.count()

    response = client_as("dm_hangzhou").post(f"/ff/territories/{territory.pk}/", data)

    assert response.status_code == 400
    page = response.content.decode()
    assert f'data-error="{field}"' in page
    assert message in page
    assert (TerritoryRep.objects.count(), TerritoryHCO.objects.count()) == periods
    assert not Handover.objects.exists()


def test_territory_pages_are_for_managers_and_a_handover_for_its_reps(client_as):
    _old, territory = _colleague()
    assert client_as("rep_hangzhou").get("/ff/territories/").status_code == 404
    assert client_as("dm_hangzhou").get(f"/ff/territories/{territory.pk}/").status_code == 200
    beijing = Territory.objects.filter(org_node__code__startswith="N1").first()
    assert client_as("dm_hangzhou").get(f"/ff/territories/{beijing.pk}/").status_code == 404
    client_as("dm_hangzhou").post(
        f"/ff/territories/{territory.pk}/",
        {"action": "rep", "rep": _hangzhou().pk, "effective_on": timezone.localdate()},
    )
    handover = Handover.objects.get()
    assert client_as("rep_beijing").get(f"/ff/handovers/{handover.pk}/").status_code == 404
    assert client_as("am_zhejiang").get(f"/ff/handovers/{handover.pk}/").status_code == 200

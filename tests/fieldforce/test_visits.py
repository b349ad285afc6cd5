"""Logging a visit: stored once however often the phone sends it, refused with the field named
when it cannot be true, measured against the hospital's location, with the adoption stage and
the next step going where the rep will see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from omnihcp.fieldforce.models import Task, TaskSource, Visit
from omnihcp.governance.models import AuditEvent
from omnihcp.org.models import Product
from omnihcp.profiles.models import Adoption

pytestmark = pytest.mark.django_db


def _form(hcp: Any, **overrides: Any) -> dict[str, Any]:
    hco = hcp.primary_hco
    started = timezone.localtime() - dt.timedelta(minutes=30)
    return {
        "hcp": hcp.pk,
        "client_key": "draft-1",
        "kind": "f2f",
        "started_at": started.strftime("%Y-%m-%dT%H:%M"),
        "ended_at": (started + dt.timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M"),
        "check_in_lat": f"{hco.latitude + 0.001:.6f}",  # ~110 m north of the hospital
        "check_in_lng": f"{hco.longitude:.6f}",
        "feedback": "关注长期血压控制",
        **overrides,
    }


def _post(client: Any, data: dict[str, Any], *, json: bool = True) -> Any:
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post("/ff/visits/", data, **headers)


def test_a_visit_sent_twice_by_the_phone_is_stored_once(client_as, hangzhou_hcp):
    rep = client_as("rep_hangzhou")

    first = _post(rep, _form(hangzhou_hcp))
    again = _post(rep, _form(hangzhou_hcp))  # the outbox retries after a dropped answer

    assert first.status_code == 201
    assert again.status_code == 200
    assert first.json()["visit"] == again.json()["visit"]
    visit = Visit.objects.get(hcp=hangzhou_hcp)
    assert 50 < visit.distance_m < 200
    assert not visit.far_from_hco
    assert visit.feedback == "关注长期血压控制"
    assert AuditEvent.objects.filter(action="visit.logged", object_id=str(visit.pk)).count() == 1
    timeline = client_as("rep_hangzhou").get(f"/tracking/hcps/{hangzhou_hcp.pk}/timeline/")
    assert timeline.content.decode().count("Visit Logged") >= 1


def test_the_visit_page_shows_what_was_logged_and_the_360_page_lists_it(client_as, hangzhou_hcp):
    rep = client_as("rep_hangzhou")
    response = _post(rep, _form(hangzhou_hcp), json=False)
    assert response.status_code == 302

    page = rep.get(response.url).content.decode()
    assert "Checked in" in page
    assert hangzhou_hcp.name in page

    section = rep.get(f"/ff/hcps/{hangzhou_hcp.pk}/visits/").content.decode()
    assert "关注长期血压控制" in section
    assert "Face to face" in section


def test_a_check_in_far_from_the_hospital_is_flagged(client_as, hangzhou_hcp):
    far = _form(hangzhou_hcp, check_in_lat=f"{hangzhou_hcp.primary_hco.latitude + 0.05:.6f}")

    _post(client_as("rep_hangzhou"), far)

    visit = Visit.objects.get(hcp=hangzhou_hcp)
    assert visit.far_from_hco
    assert visit.distance_m > 5000


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"check_in_lat": "", "check_in_lng": ""}, "check_in", "needs a check-in location"),
        (
            {
                "started_at": (timezone.localtime() + dt.timedelta(hours=2)).strftime(
                    "%Y-%m-%dT%H:%M"
                )
            },
            "started_at",
            "cannot start in the future",
        ),
        ({"ended_at": "2020-01-01T08:00"}, "ended_at", "ends before it starts"),
        ({"kind": "carrier pigeon"}, "kind", "Choose how you met"),
        ({"check_in_lat": "north"}, "check_in", "not a number"),
        ({"next_step": "送指南", "next_step_due": ""}, "next_step_due", "due date"),
        ({"client_key": ""}, "client_key", "reload the page"),
    ],
)
def test_a_visit_that_cannot_be_true_is_refused_and_nothing_is_saved(
    client_as, hangzhou_hcp, overrides, field, message
):
    response = _post(client_as("rep_hangzhou"), _form(hangzhou_hcp, **overrides))

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert message in response.json()["error"]
    assert not Visit.objects.exists()


def test_a_remote_visit_needs_no_location(client_as, hangzhou_hcp):
    remote = _form(hangzhou_hcp, kind="video", check_in_lat="", check_in_lng="")

    assert _post(client_as("rep_hangzhou"), remote).status_code == 201
    assert Visit.objects.get(hcp=hangzhou_hcp).distance_m is None


def test_a_doctor_outside_the_territory_is_refused_in_chinese(client_as, beijing_hcp):
    rep = client_as("rep_hangzhou", language="zh-hans")
    data = _form(beijing_hcp)

    response = _post(rep, data)

    assert response.status_code == 400
    assert response.json()["field"] == "hcp"
    assert "辖区" in response.json()["error"]
    assert not Visit.objects.exists()


def test_stage_and_next_step_go_to_the_profile_and_the_today_page(client_as, hangzhou_hcp):
    product = Product.objects.order_by("code").first()
    rep = client_as("rep_hangzhou")
    data = _form(
        hangzhou_hcp,
        products=[product.pk],
        **{f"stage_{product.pk}": "trial"},
        next_step="送最新指南解读",
        next_step_due=(timezone.localdate() + dt.timedelta(days=1)).isoformat(),
    )

    _post(rep, data)

    assert Adoption.objects.get(hcp=hangzhou_hcp, product=product).stage == "trial"
    task = Task.objects.get(hcp=hangzhou_hcp, source=TaskSource.VISIT)
    assert task.title == "送最新指南解读"
    today = rep.get("/ff/today/").content.decode()
    assert "送最新指南解读" in today
    assert f"/profiles/hcps/{hangzhou_hcp.pk}/" in today  # one tap to the HCP card


def test_a_late_edit_needs_a_reason_and_is_audited(client_as, hangzhou_hcp):
    rep = client_as("rep_hangzhou")
    visit_id = _post(rep, _form(hangzhou_hcp)).json()["visit"]
    Visit.objects.filter(pk=visit_id).update(created_at=timezone.now() - dt.timedelta(days=2))

    refused = rep.post(f"/ff/visits/{visit_id}/", {"feedback": "改了"})
    accepted = rep.post(f"/ff/visits/{visit_id}/", {"feedback": "改了", "reason": "补记异议"})

    assert refused.status_code == 400
    assert "say why" in refused.content.decode()
    assert accepted.status_code == 302
    assert Visit.objects.get(pk=visit_id).feedback == "改了"
    late = AuditEvent.objects.get(action="visit.edited_late", object_id=str(visit_id))
    assert late.after["reason"] == "补记异议"
    assert late.before["feedback"] == "关注长期血压控制"


def test_another_rep_cannot_open_the_visit(client_as, hangzhou_hcp):
    visit_id = _post(client_as("rep_hangzhou"), _form(hangzhou_hcp)).json()["visit"]

    assert client_as("rep_beijing").get(f"/ff/visits/{visit_id}/").status_code == 404

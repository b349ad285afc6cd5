"""Data change requests: a rep proposes a doctor ("is it one of these?"), a steward decides, the
rep is told; scope, idempotency and validation on the way."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata import dcr as dcr_services
from omnihcp.masterdata import services
from omnihcp.masterdata.dcr import Kind, Proposal, Status
from omnihcp.masterdata.models import HCP, DataChangeRequest, RecordStatus

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"
NEW_NAME = "司马测试"


def new_proposal(hcp: HCP, key: str = "k-1", **changes: Any) -> Proposal:
    """A new doctor at the given doctor's hospital, whom nobody on file resembles."""
    values: dict[str, Any] = {
        "kind": Kind.NEW_HCP,
        "idempotency_key": key,
        "name": NEW_NAME,
        "hco_id": hcp.primary_hco_id,
        "department": "心内科",
        "title": "attending",
        "gender": "F",
        "mobile": MOBILE,
        "note": "新来的主治医生",
    }
    values.update(changes)
    return Proposal(**values)


def submit(cast_user: Callable[[str], Any], scope_of: Callable[[str], Any], p: Proposal) -> Any:
    return dcr_services.dcr_submit(
        actor=cast_user("rep_hangzhou"), scope=scope_of("rep_hangzhou"), proposal=p
    )


def test_rep_proposes_a_new_doctor_and_pi_is_kept_encrypted(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))

    assert dcr.status == Status.PENDING
    assert dcr.proposed["name"] == NEW_NAME
    assert dcr.proposed["hospital"] == hangzhou_hcp.primary_hco.name
    assert dcr.mobile_masked == "139****5678"
    stored = json.dumps(dcr.proposed, ensure_ascii=False)
    audit = AuditEvent.objects.get(action="dcr.submit", object_id=str(dcr.pk))
    assert MOBILE not in stored
    assert MOBILE not in json.dumps(audit.after, ensure_ascii=False)
    assert MOBILE not in dcr.mobile_encrypted
    # Validation ran the create service in a savepoint: nothing of it is left.
    assert not HCP.objects.filter(name=NEW_NAME).exists()
    assert not AuditEvent.objects.filter(action="hcp.create").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mobile": "12345"}, "mobile"),
        ({"licence_no": "12ab"}, "licence_no"),
        ({"name": ""}, "name"),
        ({"title": "professor"}, "title"),
        ({"hco_id": None, "hospital": ""}, "hospital"),
    ],
)
def test_bad_proposal_names_the_field_and_records_nothing(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ApplicationError) as error:
        submit(cast_user, scope_of, new_proposal(hangzhou_hcp, **changes))
    assert error.value.field == field
    assert not DataChangeRequest.objects.exists()


def test_duplicate_licence_is_refused_by_the_create_services_rule(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    services.hcp_update(actor=None, hcp=hangzhou_hcp, data={"licence_no": "110101199001011"})
    with pytest.raises(ApplicationError) as error:
        submit(
            cast_user,
            scope_of,
            new_proposal(hangzhou_hcp, licence_no="110101199001011", none_of_these=True),
        )
    assert error.value.field == "licence_no"
    assert hangzhou_hcp.code in error.value.message


def test_double_submitted_form_records_one_request(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    first = submit(cast_user, scope_of, new_proposal(hangzhou_hcp, key="same"))
    again = submit(cast_user, scope_of, new_proposal(hangzhou_hcp, key="same"))
    assert again.pk == first.pk
    assert DataChangeRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="dcr.submit").count() == 1


def test_double_posted_page_form_records_one_request(
    client_as: Callable[..., Client], hangzhou_hcp: HCP
) -> None:
    client = client_as("rep_hangzhou")
    form = {
        "idempotency_key": "page-key",
        "name": NEW_NAME,
        "hco": hangzhou_hcp.primary_hco_id,
        "title": "attending",
        "gender": "M",
        "none_of_these": "1",
    }
    for _ in range(2):
        response = client.post(reverse("masterdata:dcr-new"), form)
        assert response.status_code == 302
        assert response["Location"] == reverse("masterdata:dcr-mine")
    assert DataChangeRequest.objects.filter(proposed__name=NEW_NAME).count() == 1


def test_is_it_one_of_these_fragment_suggests_the_doctor_on_file(
    client_as: Callable[..., Client], hangzhou_hcp: HCP
) -> None:
    response = client_as("rep_hangzhou").post(
        reverse("masterdata:dcr-suggest"),
        {"name": hangzhou_hcp.name, "hco": hangzhou_hcp.primary_hco_id},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Is it one of these?" in html
    assert f'data-suggestion="{hangzhou_hcp.pk}"' in html
    assert f'href="/md/dcr/new/?hcp={hangzhou_hcp.pk}"' in html
    assert 'data-action="none-of-these"' in html


def test_fragment_says_so_when_nobody_is_alike(
    client_as: Callable[..., Client], hangzhou_hcp: HCP
) -> None:
    response = client_as("rep_hangzhou").post(
        reverse("masterdata:dcr-suggest"),
        {"name": "司马懿懿", "hco": hangzhou_hcp.primary_hco_id},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-suggestions="none"' in response.content.decode()


def test_rep_must_answer_is_it_one_of_these_before_a_new_doctor_is_proposed(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    twin = new_proposal(hangzhou_hcp, name=hangzhou_hcp.name, mobile="")
    with pytest.raises(ApplicationError) as error:
        submit(cast_user, scope_of, twin)
    assert error.value.field == "none_of_these"

    dcr = submit(
        cast_user,
        scope_of,
        new_proposal(hangzhou_hcp, name=hangzhou_hcp.name, mobile="", none_of_these=True),
    )
    assert dcr.none_of_these is True
    assert dcr.shown_matches[0]["hcp_id"] == hangzhou_hcp.pk
    assert 0 < dcr.shown_matches[0]["probability"] <= 1


def test_page_shows_suggestions_again_when_the_rep_did_not_choose(
    client_as: Callable[..., Client], hangzhou_hcp: HCP
) -> None:
    response = client_as("rep_hangzhou").post(
        reverse("masterdata:dcr-new"),
        {
            "idempotency_key": "k",
            "name": hangzhou_hcp.name,
            "hco": hangzhou_hcp.primary_hco_id,
            "title": "attending",
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Is it one of these?" in html
    assert f'data-suggestion="{hangzhou_hcp.pk}"' in html
    assert not DataChangeRequest.objects.exists()


def test_rep_cannot_propose_changes_outside_their_scope(
    client_as: Callable[..., Client], cast_user: Any, scope_of: Any, beijing_hcp: HCP
) -> None:
    response = client_as("rep_hangzhou").get(
        reverse("masterdata:dcr-new") + f"?hcp={beijing_hcp.pk}"
    )
    assert response.status_code == 404
    with pytest.raises(NotFoundError):
        submit(
            cast_user,
            scope_of,
            Proposal(kind=Kind.CHANGE_HCP, idempotency_key="x", hcp_id=beijing_hcp.pk, name="x"),
        )
    with pytest.raises(ApplicationError) as error:
        submit(cast_user, scope_of, new_proposal(beijing_hcp))  # a hospital outside the scope
    assert error.value.field == "hco"


def test_change_form_is_prefilled_and_linked_from_the_doctor_page(
    client_as: Callable[..., Client], hangzhou_hcp: HCP
) -> None:
    client = client_as("rep_hangzhou")
    card = client.get(reverse("masterdata:hcp-detail", args=[hangzhou_hcp.pk])).content.decode()
    assert f'href="/md/dcr/new/?hcp={hangzhou_hcp.pk}"' in card
    form = client.get(f"/md/dcr/new/?hcp={hangzhou_hcp.pk}").content.decode()
    assert f'value="{hangzhou_hcp.name}"' in form
    hco = hangzhou_hcp.primary_hco
    assert f'<option value="{hco.pk}" data-city="{hco.city}" selected>' in form
    assert f'<option value="{hangzhou_hcp.title}" selected>' in form


def change_request(cast_user: Any, scope_of: Any, hcp: HCP, **changes: Any) -> DataChangeRequest:
    values: dict[str, Any] = {
        "kind": Kind.CHANGE_HCP,
        "idempotency_key": "change-1",
        "hcp_id": hcp.pk,
        "name": hcp.name,
        "hco_id": hcp.primary_hco_id,
        "department": hcp.department.name if hcp.department else "",
        "title": hcp.title,
        "gender": hcp.gender,
    }
    values.update(changes)
    return submit(cast_user, scope_of, Proposal(**values))


def test_change_that_changes_nothing_is_refused(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    with pytest.raises(ApplicationError) as error:
        change_request(cast_user, scope_of, hangzhou_hcp)
    assert "Nothing differs" in error.value.message


def test_steward_sees_changed_fields_highlighted_and_approval_applies_them(
    client_as: Callable[..., Client], cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    title = "chief_physician" if hangzhou_hcp.title != "chief_physician" else "resident"
    dcr = change_request(cast_user, scope_of, hangzhou_hcp, title=title, mobile=MOBILE)
    steward = client_as("steward")

    page = steward.get(reverse("masterdata:dcr-detail", args=[dcr.pk])).content.decode()
    assert 'data-field="title" data-differs' in page
    assert 'data-field="name" data-differs' not in page
    assert 'data-field="mobile" data-differs' in page
    assert MOBILE not in page
    assert "139****5678" in page

    response = steward.post(
        reverse("masterdata:dcr-detail", args=[dcr.pk]), {"decision": "approve"}
    )
    assert response.status_code == 302
    hangzhou_hcp.refresh_from_db()
    assert hangzhou_hcp.title == title
    assert hangzhou_hcp.mobile_masked == "139****5678"
    assert AuditEvent.objects.filter(action="hcp.update", object_id=str(hangzhou_hcp.pk)).exists()


def test_deactivation_needs_a_reason_and_approval_deactivates(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    bare = Proposal(kind=Kind.DEACTIVATE_HCP, idempotency_key="d", hcp_id=hangzhou_hcp.pk)
    with pytest.raises(ApplicationError) as error:
        submit(cast_user, scope_of, bare)
    assert error.value.field == "deactivation_reason"
    dcr = submit(
        cast_user,
        scope_of,
        Proposal(
            kind=Kind.DEACTIVATE_HCP,
            idempotency_key="d",
            hcp_id=hangzhou_hcp.pk,
            deactivation_reason="retired",
        ),
    )
    dcr_services.dcr_approve(actor=cast_user("steward"), dcr_id=dcr.pk)
    hangzhou_hcp.refresh_from_db()
    assert hangzhou_hcp.status == RecordStatus.INACTIVE


def test_reject_requires_a_reason(
    client_as: Callable[..., Client], cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))
    response = client_as("steward").post(
        reverse("masterdata:dcr-detail", args=[dcr.pk]), {"decision": "reject", "reason": " "}
    )
    assert response.status_code == 400
    assert "Tell the rep why" in response.content.decode()
    dcr.refresh_from_db()
    assert dcr.status == Status.PENDING


def test_approval_creates_the_doctor_through_validation_and_tells_the_rep(
    cast_user: Any,
    scope_of: Any,
    hangzhou_hcp: HCP,
    client_as: Callable[..., Client],
    django_capture_on_commit_callbacks: Any,
    mailoutbox: list[Any],
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))
    with django_capture_on_commit_callbacks(execute=True):
        dcr = dcr_services.dcr_approve(actor=cast_user("steward"), dcr_id=dcr.pk, reason="核实无误")

    hcp = dcr.result_hcp
    assert hcp is not None
    assert (hcp.name, hcp.title, hcp.gender) == (NEW_NAME, "attending", "F")
    assert hcp.primary_hco_id == hangzhou_hcp.primary_hco_id
    assert hcp.department is not None
    assert hcp.department.name == "心内科"
    assert hcp.mobile_masked == "139****5678"
    assert AuditEvent.objects.filter(action="hcp.create", object_id=str(hcp.pk)).exists()
    assert AuditEvent.objects.filter(action="dcr.approved", object_id=str(dcr.pk)).exists()
    assert [m.to for m in mailoutbox] == [[cast_user("rep_hangzhou").email]]
    assert NEW_NAME in mailoutbox[0].subject

    # The rep sees the outcome, marked new the first time only.
    client = client_as("rep_hangzhou")
    mine = client.get(reverse("masterdata:dcr-mine")).content.decode()
    assert f'data-dcr="{dcr.pk}" data-status="approved" data-unread' in mine
    assert "核实无误" in mine
    assert "data-unread-marker" in mine
    assert "data-unread-marker" not in client.get(reverse("masterdata:dcr-mine")).content.decode()


def test_approval_links_to_the_doctor_the_master_now_holds(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))
    # Meanwhile the doctor arrived by another way (an import), with the same mobile phone.
    existing = services.hcp_create(
        actor=None,
        data={
            "name": NEW_NAME,
            "title": "attending",
            "gender": "F",
            "primary_hco": hangzhou_hcp.primary_hco,
            "mobile": MOBILE,
        },
    )
    count = HCP.objects.count()
    dcr = dcr_services.dcr_approve(actor=cast_user("steward"), dcr_id=dcr.pk)
    assert dcr.result_hcp == existing
    assert HCP.objects.count() == count

    second = submit(cast_user, scope_of, new_proposal(hangzhou_hcp, key="k-2", none_of_these=True))
    made = dcr_services.dcr_approve(
        actor=cast_user("steward"), dcr_id=second.pk, create_anyway=True
    )
    assert made.result_hcp is not None
    assert made.result_hcp != existing
    assert HCP.objects.count() == count + 1


def test_typed_hospital_is_placed_by_the_steward(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(
        cast_user, scope_of, new_proposal(hangzhou_hcp, hco_id=None, hospital="某某新开诊所")
    )
    steward = cast_user("steward")
    with pytest.raises(ApplicationError) as error:
        dcr_services.dcr_approve(actor=steward, dcr_id=dcr.pk)
    assert error.value.field == "hco"
    dcr = dcr_services.dcr_approve(actor=steward, dcr_id=dcr.pk, hco=hangzhou_hcp.primary_hco.code)
    assert dcr.result_hcp is not None
    assert dcr.result_hcp.primary_hco_id == hangzhou_hcp.primary_hco_id


def test_decided_request_cannot_be_decided_again_or_withdrawn(
    cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))
    dcr_services.dcr_reject(actor=cast_user("steward"), dcr_id=dcr.pk, reason="重复")
    with pytest.raises(ApplicationError):
        dcr_services.dcr_approve(actor=cast_user("steward"), dcr_id=dcr.pk)
    with pytest.raises(ApplicationError):
        dcr_services.dcr_withdraw(actor=cast_user("rep_hangzhou"), dcr_id=dcr.pk)


def test_rep_withdraws_own_pending_request_only(
    client_as: Callable[..., Client], cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))
    other = client_as("rep_beijing").post(reverse("masterdata:dcr-withdraw", args=[dcr.pk]))
    assert other.status_code == 404
    client_as("rep_hangzhou").post(reverse("masterdata:dcr-withdraw", args=[dcr.pk]))
    dcr.refresh_from_db()
    assert dcr.status == Status.WITHDRAWN


def test_reps_see_only_their_own_requests_and_not_the_queue(
    client_as: Callable[..., Client], cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))
    beijing = client_as("rep_beijing")
    assert beijing.get(reverse("masterdata:dcr-detail", args=[dcr.pk])).status_code == 404
    assert (
        f'data-dcr="{dcr.pk}"' not in beijing.get(reverse("masterdata:dcr-mine")).content.decode()
    )
    assert beijing.get(reverse("masterdata:dcr-list")).status_code == 403
    own = client_as("rep_hangzhou").get(reverse("masterdata:dcr-detail", args=[dcr.pk]))
    assert own.status_code == 200
    assert 'data-action="approve"' not in own.content.decode()


def test_steward_queue_filters_by_status_kind_and_province(
    client_as: Callable[..., Client], cast_user: Any, scope_of: Any, hangzhou_hcp: HCP
) -> None:
    dcr = submit(cast_user, scope_of, new_proposal(hangzhou_hcp))
    steward = client_as("steward")
    url = reverse("masterdata:dcr-list")
    province = hangzhou_hcp.primary_hco.province
    assert f'data-dcr="{dcr.pk}"' in steward.get(url).content.decode()
    assert f'data-dcr="{dcr.pk}"' in steward.get(url, {"province": province}).content.decode()
    assert f'data-dcr="{dcr.pk}"' not in steward.get(url, {"province": "北京市"}).content.decode()
    assert f'data-dcr="{dcr.pk}"' not in steward.get(url, {"kind": "change_hcp"}).content.decode()
    assert f'data-dcr="{dcr.pk}"' not in steward.get(url, {"status": "approved"}).content.decode()


def test_menus_lead_reps_and_stewards_to_their_pages(client_as: Callable[..., Client]) -> None:
    rep = client_as("rep_hangzhou").get("/").content.decode()
    steward = client_as("steward", "zh-hans").get("/").content.decode()
    assert 'href="/md/dcr/mine/"' in rep
    assert 'data-nav="mydcr"' in rep
    assert 'href="/md/dcr/"' in steward
    assert 'data-nav="dcr"' in steward


def test_new_doctor_form_works_in_chinese(client_as: Callable[..., Client]) -> None:
    response = client_as("rep_hangzhou", "zh-hans").get(reverse("masterdata:dcr-new"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'lang="zh-Hans"' in html
    assert 'name="idempotency_key"' in html

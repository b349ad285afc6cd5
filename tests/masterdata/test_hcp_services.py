import pytest
from django.db import transaction

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError, PermissionDeniedError
from omnihcp.governance.models import AuditEvent, PIAccessLog
from omnihcp.masterdata import services
from omnihcp.masterdata.models import HCO, HCP, Affiliation, HCOType, Title


def _hospital():
    return HCO.objects.filter(hco_type=HCOType.HOSPITAL, departments__isnull=False).first()


def test_creating_an_hcp_keeps_phone_and_licence_encrypted_and_masked(cast_user):
    hco = _hospital()
    hcp = services.hcp_create(
        actor=cast_user("steward"),
        data={
            "name": "欧阳明华",
            "title": Title.ATTENDING,
            "primary_hco": hco,
            "department": hco.departments.first(),
            "mobile": "+86 138-1234-5678",
            "licence_no": "110330000012345",
        },
    )
    stored = HCP.objects.get(pk=hcp.pk)
    assert (stored.code, stored.name_pinyin, stored.name_initials) == (
        f"HCP{hcp.pk:08d}",
        "ouyangminghua",
        "oymh",
    )
    assert (stored.mobile_masked, stored.licence_masked) == ("138****5678", "11*********2345")
    assert "13812345678" not in stored.mobile_encrypted
    assert pi.decrypt(stored.mobile_encrypted) == "13812345678"
    assert stored.mobile_hash == pi.blind_index("13812345678")
    assert Affiliation.objects.get(hcp=stored).is_primary
    event = AuditEvent.objects.filter(action="hcp.create", object_id=str(hcp.pk)).get()
    assert event.after["mobile_masked"] == "138****5678"
    assert "13812345678" not in str(event.after)
    assert "110330000012345" not in str(event.after)


def test_a_second_hcp_with_the_same_licence_number_is_refused(cast_user):
    hco = _hospital()
    data = {
        "name": "李明",
        "title": Title.RESIDENT,
        "primary_hco": hco,
        "licence_no": "110330000099999",
    }
    first = services.hcp_create(actor=None, data=data)
    with pytest.raises(ApplicationError) as error:
        services.hcp_create(actor=None, data=data)
    assert error.value.field == "licence_no"
    assert first.code in error.value.message


def test_a_department_of_another_hospital_is_refused(db):
    hco, other = HCO.objects.filter(hco_type=HCOType.HOSPITAL)[:2]
    with pytest.raises(ApplicationError) as error:
        services.hcp_create(
            actor=None,
            data={
                "name": "王芳",
                "title": Title.RESIDENT,
                "primary_hco": hco,
                "department": other.departments.first(),
            },
        )
    assert error.value.field == "department"


def test_updating_an_hcp_audits_before_and_after(cast_user):
    hcp = HCP.objects.filter(title=Title.ATTENDING).first()
    services.hcp_update(actor=cast_user("steward"), hcp=hcp, data={"title": Title.ASSOCIATE_CHIEF})
    event = AuditEvent.objects.filter(action="hcp.update", object_id=str(hcp.pk)).get()
    assert (event.before["title"], event.after["title"]) == ("attending", "associate_chief")
    assert event.actor == "steward"


def test_an_unchanged_update_writes_nothing(db):
    hcp = HCP.objects.first()
    before = AuditEvent.objects.count()
    services.hcp_update(actor=None, hcp=hcp, data={"title": hcp.title})
    assert AuditEvent.objects.count() == before


def test_a_failure_half_way_through_a_multi_row_write_leaves_nothing(db):
    hco = _hospital()
    hcps, events = HCP.objects.count(), AuditEvent.objects.count()

    def create_two() -> None:
        with transaction.atomic():
            services.hcp_create(
                actor=None, data={"name": "赵一", "title": Title.RESIDENT, "primary_hco": hco}
            )
            services.hcp_create(
                actor=None,
                data={
                    "name": "赵二",
                    "title": Title.RESIDENT,
                    "primary_hco": hco,
                    "mobile": "12345",
                },
            )

    with pytest.raises(ApplicationError):
        create_two()
    assert (HCP.objects.count(), AuditEvent.objects.count()) == (hcps, events)


def test_revealing_a_phone_is_logged_and_refused_to_roles_without_the_right(cast_user, scope_of):
    hcp = HCP.objects.exclude(mobile_encrypted="").first()
    value = services.hcp_pi_reveal(
        actor=cast_user("steward"),
        scope=scope_of("steward"),
        hcp=hcp,
        field="mobile",
        purpose="verify identity",
    )
    assert value == pi.decrypt(hcp.mobile_encrypted)
    assert len(value) == 11
    log = PIAccessLog.objects.get(subject_id=hcp.pk)
    assert (log.actor, log.field, log.purpose) == ("steward", "mobile", "verify identity")
    with pytest.raises(PermissionDeniedError):
        services.hcp_pi_reveal(
            actor=cast_user("marketing"), scope=scope_of("marketing"), hcp=hcp, field="mobile"
        )
    assert PIAccessLog.objects.filter(subject_id=hcp.pk).count() == 1

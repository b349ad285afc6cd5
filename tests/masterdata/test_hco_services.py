import pytest

from omnihcp.core.errors import ApplicationError
from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata import services
from omnihcp.masterdata.models import HCO, HCOType, HospitalLevel

VALID_USCC = "12330000470051726F"


def _hospital(**extra):
    return {
        "name": "杭州市西湖区第二人民医院",
        "hco_type": HCOType.HOSPITAL,
        "level": HospitalLevel.L2A,
        "province": "浙江省",
        "city": "杭州市",
        "district": "西湖区",
        **extra,
    }


def test_creating_an_hco_derives_its_search_keys_and_audits(cast_user):
    hco = services.hco_create(
        actor=cast_user("steward"), data=_hospital(uscc=" 12330000470051726f ")
    )
    stored = HCO.objects.get(pk=hco.pk)
    assert stored.uscc == VALID_USCC
    assert stored.name_initials == "hzsxhqdermyy"
    assert stored.name_pinyin.startswith("hangzhoushixihuqu")
    assert AuditEvent.objects.filter(action="hco.create", object_id=str(hco.pk)).count() == 1


def test_a_uscc_with_a_wrong_check_character_is_refused_and_nothing_is_written(db):
    count = HCO.objects.count()
    with pytest.raises(ApplicationError) as error:
        services.hco_create(actor=None, data=_hospital(uscc="12330000470051726X"))
    assert error.value.field == "uscc"
    assert HCO.objects.count() == count


def test_only_hospitals_have_a_level(db):
    with pytest.raises(ApplicationError) as error:
        services.hco_create(actor=None, data=_hospital(hco_type=HCOType.PHARMACY))
    assert error.value.field == "level"


def test_an_unknown_enum_value_names_the_field(db):
    with pytest.raises(ApplicationError) as error:
        services.hco_create(actor=None, data=_hospital(hco_type="spaceport"))
    assert error.value.field == "hco_type"


def test_departments_map_to_the_dictionary_by_synonym(db):
    hco = HCO.objects.filter(hco_type=HCOType.PHARMACY).first()
    department = services.hco_department_create(actor=None, hco=hco, name="心血管内科")
    assert department.standard is not None
    assert (department.standard.code, department.standard.name) == ("D01", "心内科")

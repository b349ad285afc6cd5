from omnihcp.masterdata.models import HCO, HCP
from omnihcp.org.models import Employee, TerritoryHCO


def _hco_ids(scope):
    return set(scope.filter_hcos(HCO.objects.all()).values_list("id", flat=True))


def test_the_hangzhou_rep_sees_exactly_the_hcos_of_their_territories(scope_of, cast_user):
    rep = Employee.objects.get(user=cast_user("rep_hangzhou"))
    expected = set(
        TerritoryHCO.objects.filter(
            territory__rep_periods__employee=rep, valid_to__isnull=True
        ).values_list("hco_id", flat=True)
    )
    assert expected
    assert _hco_ids(scope_of("rep_hangzhou")) == expected


def test_reps_of_different_cities_share_no_doctor(scope_of):
    hangzhou = scope_of("rep_hangzhou")
    beijing = scope_of("rep_beijing")
    hangzhou_hcps = set(hangzhou.filter_hcos(HCP.objects.all(), "primary_hco_id").values_list("id"))
    beijing_hcps = set(beijing.filter_hcos(HCP.objects.all(), "primary_hco_id").values_list("id"))
    assert hangzhou_hcps
    assert beijing_hcps
    assert not hangzhou_hcps & beijing_hcps


def test_managers_see_their_subtree_and_nothing_outside_it(scope_of):
    rep, district = _hco_ids(scope_of("rep_hangzhou")), _hco_ids(scope_of("dm_hangzhou"))
    area, region = _hco_ids(scope_of("am_zhejiang")), _hco_ids(scope_of("rm_east"))
    assert rep < district < area < region
    assert not region & _hco_ids(scope_of("rep_beijing"))
    assert (
        HCO.objects.filter(id__in=region)
        .exclude(province__in=["浙江省", "上海市", "江苏省", "安徽省", "山东省"])
        .count()
        == 0
    )


def test_hq_roles_see_every_hco_and_only_some_may_reveal_personal_information(scope_of):
    for username in ["exec", "marketing", "medical", "steward", "compliance", "finance", "vrep"]:
        assert scope_of(username).is_global
    assert [
        u
        for u in [
            "exec",
            "marketing",
            "steward",
            "compliance",
            "rep_hangzhou",
            "dm_hangzhou",
            "am_zhejiang",
            "admin",
        ]
        if scope_of(u).may_reveal_pi
    ] == ["steward", "compliance", "rep_hangzhou", "dm_hangzhou", "admin"]


def test_a_rep_without_an_employee_record_sees_nothing(scope_of, cast_user):
    Employee.objects.filter(user=cast_user("rep_hangzhou")).update(user=None)
    assert _hco_ids(scope_of("rep_hangzhou")) == set()

"""The demo company: realistic, deterministic, and the cast the README and tests speak of."""

from __future__ import annotations

from collections import Counter

import pytest

from omnihcp.demo.cast import CAST
from omnihcp.demo.generator import DEFAULT_SEED, Generator
from omnihcp.masterdata.models import HCO, HCP, HCOType
from omnihcp.org.models import BusinessUnit, Employee, OrgNode, Product, Role, User
from omnihcp.org.selectors import scope_for_user

pytestmark = pytest.mark.django_db


def test_company_has_the_shape_of_a_national_pharma_company() -> None:
    levels = Counter(OrgNode.objects.values_list("level", flat=True))
    assert levels["national"] == 1
    assert levels["region"] == 4
    assert levels["area"] == 12
    assert 36 <= levels["district"] <= 44
    assert 140 <= Employee.objects.filter(position=Role.REP).count() <= 160
    assert BusinessUnit.objects.count() == 2
    assert Product.objects.count() == 8


def test_institutions_span_80_cities_with_every_type() -> None:
    assert HCO.objects.count() >= 1_500
    assert HCO.objects.values("province", "city").distinct().count() >= 80
    types = set(HCO.objects.values_list("hco_type", flat=True))
    assert types == set(HCOType.values)
    assert HCO.objects.filter(level="3A").exists()
    hospital = HCO.objects.filter(hco_type="hospital", level="3A").first()
    assert hospital.address
    assert hospital.name.endswith(("医院", "院区", "分院"))


def test_doctors_have_realistic_names_titles_and_departments() -> None:
    sample = list(HCP.objects.select_related("department")[:500])
    assert all(2 <= len(hcp.name) <= 4 for hcp in sample)
    assert len({hcp.title for hcp in sample}) >= 4
    assert sum(hcp.department is not None for hcp in sample) > 400
    assert sum(bool(hcp.mobile_masked) for hcp in sample) > 250


@pytest.mark.parametrize("member", CAST, ids=lambda m: m.username)
def test_cast_member_exists_with_role_and_place(member: object) -> None:
    user = User.objects.get(username=member.username)  # type: ignore[attr-defined]
    assert user.role == member.role  # type: ignore[attr-defined]
    if member.org_node:  # type: ignore[attr-defined]
        employee = Employee.objects.get(user=user)
        assert employee.org_node.code == member.org_node  # type: ignore[attr-defined]


def test_hangzhou_rep_covers_hangzhou() -> None:
    scope = scope_for_user(user=User.objects.get(username="rep_hangzhou"))
    covered = HCO.objects.filter(id__in=scope.hco_ids)
    assert "杭州市" in set(covered.values_list("city", flat=True))
    assert set(covered.values_list("province", flat=True)) == {"浙江省"}


def test_same_seed_gives_same_people_and_another_seed_does_not() -> None:
    def names(seed: int) -> list[str]:
        generator = Generator(hcps=100, seed=seed)
        return [generator.person_name() for _ in range(200)]

    assert names(DEFAULT_SEED) == names(DEFAULT_SEED)
    assert names(DEFAULT_SEED) != names(DEFAULT_SEED + 1)

"""Tiering: a product's matrix is refused with the wrong rule or cell named, computed for every
active doctor (potential by rule, support by adoption stage), shown as a distribution within
the caller's territory and on the doctor's page."""

from __future__ import annotations

import re

import pytest

from omnihcp.masterdata.models import HCP
from omnihcp.org.models import Product
from omnihcp.profiles.adoption import adoption_set
from omnihcp.profiles.models import HCPTier
from omnihcp.profiles.rules import rule_compile

pytestmark = pytest.mark.django_db

HIGH = 'title = "chief_physician"'
MEDIUM = 'title = "associate_chief"'


@pytest.fixture
def product() -> Product:
    return Product.objects.order_by("code").first()


def _matrix(product: Product, **changes: str) -> dict[str, str]:
    data = {
        "product": str(product.pk),
        "high_rule": HIGH,
        "medium_rule": MEDIUM,
        "frequency_A": "4",
        "frequency_B": "2",
        "frequency_C": "1",
    }
    tiers = {"high": "AAB", "medium": "ABC", "low": "BCC"}
    for potential, row in tiers.items():
        for support, tier in zip(("high", "medium", "low"), row, strict=True):
            data[f"{potential}/{support}"] = tier
    data.update(changes)
    return data


def test_a_wrong_rule_or_frequency_is_named(client_as, product) -> None:
    marketing = client_as("marketing")

    bad_rule = marketing.post("/profiles/tiers/", _matrix(product, high_rule="titl = 'x'"))
    bad_frequency = marketing.post("/profiles/tiers/", _matrix(product, frequency_B="40"))

    assert bad_rule.status_code == 400
    assert 'data-error="high_rule"' in bad_rule.content.decode()
    assert bad_frequency.status_code == 400
    assert 'data-error="frequency_B"' in bad_frequency.content.decode()
    assert not HCPTier.objects.exists()


def test_every_active_doctor_gets_the_tier_of_their_cell(client_as, product, hangzhou_hcp) -> None:
    adoption_set(actor=None, hcp=hangzhou_hcp, product=product, stage="advocate")

    client_as("marketing").post("/profiles/tiers/", _matrix(product))

    active = HCP.objects.filter(status="active")
    assert HCPTier.objects.filter(product=product).count() == active.count()
    chiefs = set(rule_compile(HIGH).apply(active).values_list("pk", flat=True))
    associates = set(rule_compile(MEDIUM).apply(active).values_list("pk", flat=True)) - chiefs
    some_chief = next(iter(chiefs - {hangzhou_hcp.pk}))
    some_associate = next(iter(associates - {hangzhou_hcp.pk}))
    assert HCPTier.objects.get(product=product, hcp_id=some_chief).tier == "B"  # high × low
    assert HCPTier.objects.get(product=product, hcp_id=some_associate).tier == "C"  # medium × low
    mine = HCPTier.objects.get(product=product, hcp=hangzhou_hcp)
    expected = {"high": "A", "medium": "A", "low": "B"}[mine.potential]  # support: high
    assert (mine.support, mine.tier) == ("high", expected)


def test_the_distribution_is_the_callers_territory(client_as, product, scope_of) -> None:
    client_as("marketing").post("/profiles/tiers/", _matrix(product))

    page = client_as("rep_hangzhou").get(f"/profiles/tiers/?product={product.pk}").content.decode()

    shown = sum(int(n) for n in re.findall(r'data-tier="[ABC]">(\d+)<', page))
    assert (
        shown
        == scope_of("rep_hangzhou")
        .filter_hcos(HCP.objects.filter(status="active"), "primary_hco_id")
        .count()
    )
    assert client_as("rep_hangzhou").post("/profiles/tiers/", _matrix(product)).status_code == 403


def test_the_doctors_page_shows_the_tier(client_as, product, hangzhou_hcp) -> None:
    client_as("marketing").post("/profiles/tiers/", _matrix(product))

    page = client_as("rep_hangzhou").get(f"/profiles/hcps/{hangzhou_hcp.pk}/tags/").content.decode()

    tier = HCPTier.objects.get(product=product, hcp=hangzhou_hcp).tier
    assert f"{product.brand_name} {tier}</mark>" in page

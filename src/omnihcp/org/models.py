"""Users and roles, the org tree, employees, products and territories.

Territories assign HCOs to a rep per business unit with effective dates; rows are closed
(``valid_to``), never deleted, so the history of who covered a hospital stays.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel

# Re-exported so that code inside org keeps naming them beside the models.
from omnihcp.org.types import OrgLevel as OrgLevel
from omnihcp.org.types import Role as Role


class User(AbstractUser):
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.REP)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    wecom_userid = models.CharField(max_length=64, blank=True, db_index=True)

    def __str__(self) -> str:
        return self.display_name or self.username


class OrgNode(TimeStampedModel):
    """A node of the sales organisation; ``path`` ("/1/4/17/") makes subtree reads one range."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=80)
    level = models.CharField(_("level"), max_length=16, choices=OrgLevel.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, db_index=True, editable=False)
    manager = models.ForeignKey(
        "Employee", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_nodes"
    )

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name


class Employee(TimeStampedModel):
    employee_no = models.CharField(_("employee no."), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=80)
    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="employee"
    )
    org_node = models.ForeignKey(OrgNode, on_delete=models.PROTECT, related_name="employees")
    position = models.CharField(_("position"), max_length=32, choices=Role.choices)
    hired_on = models.DateField(_("hired on"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["employee_no"]

    def __str__(self) -> str:
        return self.name


class BusinessUnit(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(max_length=80)

    def __str__(self) -> str:
        return self.name


class TherapyArea(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(max_length=80)

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    """A brand: one molecule sold under one name in one business unit."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    brand_name = models.CharField(_("brand name"), max_length=80)
    brand_name_en = models.CharField(max_length=80)
    molecule = models.CharField(_("molecule"), max_length=80)
    molecule_en = models.CharField(max_length=80)
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="products"
    )
    therapy_area = models.ForeignKey(TherapyArea, on_delete=models.PROTECT, related_name="products")
    vbp_contracted = models.BooleanField(_("in volume-based procurement"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.brand_name} ({self.molecule})"


class SKU(TimeStampedModel):
    code = models.CharField(_("code"), max_length=24, unique=True)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skus")
    specification = models.CharField(_("specification"), max_length=40)
    pack = models.CharField(_("pack"), max_length=40)
    list_price = models.DecimalField(_("list price"), max_digits=10, decimal_places=2)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.product.brand_name} {self.specification}×{self.pack}"


class Territory(TimeStampedModel):
    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=80)
    org_node = models.ForeignKey(OrgNode, on_delete=models.PROTECT, related_name="territories")
    business_unit = models.ForeignKey(
        BusinessUnit, on_delete=models.PROTECT, related_name="territories"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class TerritoryRep(models.Model):
    """Which rep works a territory, from when to when."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="rep_periods")
    employee = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="territory_periods"
    )
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["employee", "valid_from"])]

    def __str__(self) -> str:
        return f"{self.territory_id} ← {self.employee_id} from {self.valid_from}"


class TerritoryHCO(models.Model):
    """An HCO in a territory, from when to when (the history stays with the HCO)."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="hco_periods")
    # A string reference: org sits below masterdata and must not import it.
    hco = models.ForeignKey("masterdata.HCO", on_delete=models.PROTECT, related_name="+")
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["territory", "valid_from"]),
            models.Index(fields=["hco", "valid_from"]),
        ]

    def __str__(self) -> str:
        return f"{self.territory_id} ∋ {self.hco_id} from {self.valid_from}"


class ApiToken(models.Model):
    """A bearer token for integrations; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=8)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

"""Values other apps use to speak about the organisation: roles and org levels."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    EXECUTIVE = "executive", _("Executive")
    REGIONAL_MANAGER = "regional_manager", _("Regional manager")
    AREA_MANAGER = "area_manager", _("Area manager")
    DISTRICT_MANAGER = "district_manager", _("District manager")
    REP = "rep", _("Medical rep")
    VIRTUAL_REP = "virtual_rep", _("Virtual rep")
    MARKETING = "marketing", _("Marketing")
    MEDICAL = "medical", _("Medical")
    DATA_STEWARD = "data_steward", _("Data steward")
    COMPLIANCE = "compliance", _("Compliance")
    FINANCE = "finance", _("Finance")


class OrgLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    REGION = "region", _("Region")
    AREA = "area", _("Area")
    DISTRICT = "district", _("District")

"""Django admin for support staff: users, the org tree, employees, products, territories."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from omnihcp.org.models import (
    SKU,
    ApiToken,
    BusinessUnit,
    Employee,
    OrgNode,
    Product,
    Territory,
    TerritoryHCO,
    TerritoryRep,
    TherapyArea,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    list_display = ["username", "display_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "display_name", "email", "wecom_userid"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("OmniHCP", {"fields": ("role", "display_name", "wecom_userid")}),
    )


@admin.register(OrgNode)
class OrgNodeAdmin(admin.ModelAdmin[OrgNode]):
    list_display = ["code", "name", "level", "parent", "manager"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    list_select_related = ["parent", "manager"]
    raw_id_fields = ["parent", "manager"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin[Employee]):
    list_display = ["employee_no", "name", "position", "org_node", "user", "is_active"]
    list_filter = ["position", "is_active"]
    search_fields = ["employee_no", "name", "user__username"]
    list_select_related = ["org_node", "user"]
    raw_id_fields = ["org_node", "user"]


class SKUInline(admin.TabularInline[SKU, Product]):
    model = SKU
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = [
        "code",
        "brand_name",
        "molecule",
        "business_unit",
        "therapy_area",
        "vbp_contracted",
        "is_active",
    ]
    list_filter = ["business_unit", "therapy_area", "vbp_contracted"]
    search_fields = ["code", "brand_name", "brand_name_en", "molecule"]
    inlines = [SKUInline]


class TerritoryRepInline(admin.TabularInline[TerritoryRep, Territory]):
    model = TerritoryRep
    extra = 0
    raw_id_fields = ["employee"]


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin[Territory]):
    list_display = ["code", "name", "org_node", "business_unit"]
    list_filter = ["business_unit"]
    search_fields = ["code", "name"]
    inlines = [TerritoryRepInline]


@admin.register(TerritoryHCO)
class TerritoryHCOAdmin(admin.ModelAdmin[TerritoryHCO]):
    list_display = ["territory", "hco", "valid_from", "valid_to"]
    search_fields = ["territory__code", "hco__name", "hco__code"]
    list_select_related = ["territory", "hco"]
    raw_id_fields = ["territory", "hco"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at"]
    search_fields = ["name", "user__username", "prefix"]


admin.site.register(BusinessUnit)
admin.site.register(TherapyArea)

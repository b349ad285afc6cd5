"""Django admin for data stewards: search and filter master data; PI stays masked here too.

Saves of HCOs and HCPs go through the services, so an admin edit is validated, re-keys the
pinyin search columns and lands in the audit chain like any other write.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata import services
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    Affiliation,
    ExternalIdentity,
    HCODepartment,
    ImportBatch,
    ImportSource,
    SourceRecord,
    StandardDepartment,
)
from omnihcp.masterdata.validation import normalise_uscc


class HCODepartmentInline(admin.TabularInline[HCODepartment, HCO]):
    model = HCODepartment
    extra = 0
    raw_id_fields = ["standard"]


class HCOAdminForm(forms.ModelForm[HCO]):
    def clean_uscc(self) -> str | None:
        value = self.cleaned_data.get("uscc")
        if not value:
            return None
        try:
            return normalise_uscc(value)
        except ApplicationError as exc:
            raise ValidationError(exc.message) from exc


def _service_data(form: forms.ModelForm[Any], editable: frozenset[str]) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.changed_data if name in editable}


@admin.register(HCO)
class HCOAdmin(admin.ModelAdmin[HCO]):
    form = HCOAdminForm
    list_display = ["code", "name", "hco_type", "level", "province", "city", "status"]
    list_filter = ["hco_type", "level", "status", "province"]
    search_fields = ["code", "name", "short_name", "name_pinyin", "uscc"]
    readonly_fields = ["name_pinyin", "name_initials"]
    raw_id_fields = ["parent", "merged_into"]
    inlines = [HCODepartmentInline]
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: HCO, form: Any, change: bool) -> None:
        data = _service_data(form, services.HCO_EDITABLE)
        if change:
            services.hco_update(actor=request.user, hco=HCO.objects.get(pk=obj.pk), data=data)
        else:
            obj.pk = services.hco_create(actor=request.user, data=data).pk
        obj.refresh_from_db()


class AffiliationInline(admin.TabularInline[Affiliation, HCP]):
    model = Affiliation
    extra = 0
    raw_id_fields = ["hco", "department"]


@admin.register(HCP)
class HCPAdmin(admin.ModelAdmin[HCP]):
    list_display = ["code", "name", "title", "primary_hco", "department", "mobile_masked", "status"]
    list_filter = ["title", "status", "gender"]
    search_fields = ["code", "name", "name_pinyin"]
    list_select_related = ["primary_hco", "department"]
    # Ciphertext and blind indexes are never shown; the masked forms are read-only.
    exclude = ["mobile_encrypted", "mobile_hash", "licence_encrypted", "licence_hash"]
    readonly_fields = ["name_pinyin", "name_initials", "mobile_masked", "licence_masked"]
    raw_id_fields = ["primary_hco", "department", "merged_into"]
    inlines = [AffiliationInline]
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: HCP, form: Any, change: bool) -> None:
        data = _service_data(form, services.HCP_EDITABLE)
        if change:
            services.hcp_update(actor=request.user, hcp=HCP.objects.get(pk=obj.pk), data=data)
        else:
            obj.pk = services.hcp_create(actor=request.user, data=data).pk
        obj.refresh_from_db()


@admin.register(StandardDepartment)
class StandardDepartmentAdmin(admin.ModelAdmin[StandardDepartment]):
    list_display = ["code", "name", "name_en", "therapy_area"]
    search_fields = ["code", "name", "name_en"]


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin[ExternalIdentity]):
    list_display = ["source", "external_id", "hcp", "hco", "created_at"]
    list_filter = ["source"]
    search_fields = ["external_id"]
    raw_id_fields = ["hcp", "hco"]


@admin.register(ImportSource)
class ImportSourceAdmin(admin.ModelAdmin[ImportSource]):
    list_display = ["code", "name", "entity_type", "priority", "updated_at"]
    list_filter = ["entity_type"]
    search_fields = ["code", "name"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin[ImportBatch]):
    """Read-only: an import is a record of what happened; imports run through the import pages."""

    list_display = [
        "id",
        "source",
        "file_name",
        "status",
        "rows_read",
        "accepted",
        "rejected",
        "created_at",
    ]
    list_filter = ["status", "source"]
    search_fields = ["file_name", "sha256"]
    exclude = ["content"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SourceRecord)
class SourceRecordAdmin(admin.ModelAdmin[SourceRecord]):
    list_display = ["source", "source_key", "entity_type", "status", "received_at"]
    list_filter = ["source", "entity_type", "status"]
    search_fields = ["source_key"]
    raw_id_fields = ["hcp", "hco", "batch"]

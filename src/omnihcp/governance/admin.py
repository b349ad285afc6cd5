from django.contrib import admin

from omnihcp.governance.models import AuditEvent, PIAccessLog


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ["seq", "occurred_at", "actor", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor", "object_id", "action"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(PIAccessLog)
class PIAccessLogAdmin(admin.ModelAdmin[PIAccessLog]):
    list_display = ["occurred_at", "actor", "subject_type", "subject_id", "field", "purpose"]
    list_filter = ["field", "subject_type"]
    search_fields = ["actor"]

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

from django.apps import AppConfig


class FieldforceConfig(AppConfig):
    name = "omnihcp.fieldforce"
    default_auto_field = "django.db.models.BigAutoField"

from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "omnihcp.profiles"
    default_auto_field = "django.db.models.BigAutoField"

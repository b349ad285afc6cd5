from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "omnihcp.core"
    label = "core"

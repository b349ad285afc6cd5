from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "omnihcp.demo"
    label = "demo"

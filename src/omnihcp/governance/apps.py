from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "omnihcp.governance"
    label = "governance"

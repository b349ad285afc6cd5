import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("masterdata", "0007_quality_snapshots"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MatchingModel",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "entity_type",
                    models.CharField(
                        choices=[("hcp", "HCP"), ("hco", "HCO")],
                        max_length=4,
                        verbose_name="entity type",
                    ),
                ),
                ("version", models.PositiveIntegerField(verbose_name="version")),
                ("config_digest", models.CharField(max_length=64)),
                ("splink_settings", models.JSONField()),
                (
                    "trained_on",
                    models.CharField(blank=True, max_length=255, verbose_name="trained on"),
                ),
                ("records", models.PositiveIntegerField(default=0, verbose_name="records")),
                ("active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["entity_type", "-version"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("entity_type", "version"), name="matching_model_version_unique"
                    )
                ],
            },
        ),
    ]

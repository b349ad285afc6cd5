"""Daily snapshots of master-data quality, for the quality page's trend."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0006_platform_users")]

    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="QualitySnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(unique=True, verbose_name="day")),
                ("figures", models.JSONField(default=dict, verbose_name="figures")),
                ("computed_at", models.DateTimeField(verbose_name="computed at")),
            ],
            options={
                "verbose_name": "quality snapshot",
                "ordering": ["-day"],
            },
        ),
    ]

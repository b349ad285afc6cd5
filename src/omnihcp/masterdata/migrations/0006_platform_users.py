import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("masterdata", "0005_data_change_requests"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PlatformUserList",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "platform",
                    models.CharField(db_index=True, max_length=40, verbose_name="platform code"),
                ),
                ("platform_name", models.CharField(max_length=120, verbose_name="platform")),
                ("file_name", models.CharField(max_length=255, verbose_name="file name")),
                ("sha256", models.CharField(db_index=True, max_length=64)),
                ("encoding", models.CharField(blank=True, max_length=20, verbose_name="encoding")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting for the column mapping"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("columns", models.JSONField(blank=True, default=list)),
                ("mapping", models.JSONField(blank=True, default=dict)),
                ("content", models.BinaryField(blank=True, null=True)),
                ("rows_read", models.PositiveIntegerField(default=0, verbose_name="rows read")),
                ("rejected", models.PositiveIntegerField(default=0, verbose_name="rejected")),
                ("unchanged", models.PositiveIntegerField(default=0, verbose_name="unchanged")),
                (
                    "auto",
                    models.PositiveIntegerField(default=0, verbose_name="matched automatically"),
                ),
                ("review", models.PositiveIntegerField(default=0, verbose_name="to review")),
                ("unmatched", models.PositiveIntegerField(default=0, verbose_name="not matched")),
                ("rejected_rows", models.JSONField(blank=True, default=list)),
                ("error", models.TextField(blank=True, verbose_name="error")),
                (
                    "seconds",
                    models.FloatField(blank=True, null=True, verbose_name="import time (s)"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
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
                "verbose_name": "platform user list",
                "verbose_name_plural": "platform user lists",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="PlatformUser",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("platform", models.CharField(max_length=40, verbose_name="platform code")),
                (
                    "platform_user_id",
                    models.CharField(max_length=128, verbose_name="platform user id"),
                ),
                ("openid_hash", models.CharField(blank=True, editable=False, max_length=40)),
                (
                    "openid_masked",
                    models.CharField(
                        blank=True, editable=False, max_length=40, verbose_name="openid"
                    ),
                ),
                ("unionid_hash", models.CharField(blank=True, editable=False, max_length=40)),
                (
                    "unionid_masked",
                    models.CharField(
                        blank=True, editable=False, max_length=40, verbose_name="unionid"
                    ),
                ),
                (
                    "phone_hash",
                    models.CharField(blank=True, db_index=True, editable=False, max_length=40),
                ),
                ("name", models.CharField(max_length=40, verbose_name="name")),
                ("hospital", models.CharField(max_length=120, verbose_name="hospital")),
                (
                    "department",
                    models.CharField(blank=True, max_length=60, verbose_name="department"),
                ),
                ("title", models.CharField(blank=True, max_length=40, verbose_name="title")),
                ("province", models.CharField(blank=True, max_length=20, verbose_name="province")),
                ("city", models.CharField(blank=True, max_length=30, verbose_name="city")),
                (
                    "hospital_level",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("3A", "Tier 3A"),
                            ("3B", "Tier 3B"),
                            ("3C", "Tier 3C"),
                            ("2A", "Tier 2A"),
                            ("2B", "Tier 2B"),
                            ("2C", "Tier 2C"),
                            ("1", "Tier 1"),
                            ("", "Unrated"),
                        ],
                        max_length=4,
                        verbose_name="hospital level",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("auto", "Matched automatically"),
                            ("confirmed", "Confirmed by a data steward"),
                            ("review", "To review"),
                            ("unmatched", "Not matched"),
                        ],
                        max_length=10,
                        verbose_name="outcome",
                    ),
                ),
                (
                    "best_probability",
                    models.FloatField(blank=True, null=True, verbose_name="match probability"),
                ),
                ("candidates", models.JSONField(blank=True, default=list)),
                ("row_number", models.PositiveIntegerField(blank=True, null=True)),
                ("row_hash", models.CharField(blank=True, max_length=40)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "hco",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="masterdata.hco",
                    ),
                ),
                (
                    "hcp",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="masterdata.hcp",
                    ),
                ),
                (
                    "user_list",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="users",
                        to="masterdata.platformuserlist",
                        verbose_name="list",
                    ),
                ),
            ],
            options={
                "verbose_name": "platform user",
                "verbose_name_plural": "platform users",
                "ordering": ["row_number", "id"],
                "indexes": [
                    models.Index(fields=["user_list", "outcome"], name="platform_user_outcome_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("platform", "platform_user_id"), name="platform_user_unique"
                    )
                ],
            },
        ),
    ]

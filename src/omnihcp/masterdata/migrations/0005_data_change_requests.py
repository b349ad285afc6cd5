"""Data change requests (DCRs): a rep proposes a new HCP or a change; a data steward decides."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("masterdata", "0004_merge_and_stewardship"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DataChangeRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("new_hcp", "New doctor"),
                            ("change_hcp", "Change a doctor"),
                            ("deactivate_hcp", "Deactivate a doctor"),
                        ],
                        max_length=16,
                        verbose_name="kind",
                    ),
                ),
                ("proposed", models.JSONField(default=dict, verbose_name="proposed values")),
                ("mobile_encrypted", models.CharField(blank=True, editable=False, max_length=120)),
                ("mobile_hash", models.CharField(blank=True, editable=False, max_length=40)),
                (
                    "mobile_masked",
                    models.CharField(
                        blank=True, editable=False, max_length=20, verbose_name="mobile phone"
                    ),
                ),
                ("licence_encrypted", models.CharField(blank=True, editable=False, max_length=120)),
                ("licence_hash", models.CharField(blank=True, editable=False, max_length=40)),
                (
                    "licence_masked",
                    models.CharField(
                        blank=True,
                        editable=False,
                        max_length=40,
                        verbose_name="practising licence no.",
                    ),
                ),
                ("province", models.CharField(blank=True, max_length=20, verbose_name="province")),
                ("note", models.CharField(blank=True, max_length=500, verbose_name="note")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("approved", "Approved"),
                            ("rejected", "Rejected"),
                            ("withdrawn", "Withdrawn"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                (
                    "reason",
                    models.CharField(blank=True, max_length=500, verbose_name="steward's reason"),
                ),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
                ),
                (
                    "shown_matches",
                    models.JSONField(blank=True, default=list, verbose_name="matches shown"),
                ),
                ("none_of_these", models.BooleanField(default=False, verbose_name="none of these")),
                ("idempotency_key", models.CharField(max_length=64, unique=True)),
                ("outcome_seen_at", models.DateTimeField(blank=True, null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="decided by",
                    ),
                ),
                (
                    "hcp",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dcrs",
                        to="masterdata.hcp",
                        verbose_name="doctor",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="requested by",
                    ),
                ),
                (
                    "result_hcp",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="masterdata.hcp",
                        verbose_name="resulting doctor",
                    ),
                ),
            ],
            options={
                "verbose_name": "data change request",
                "verbose_name_plural": "data change requests",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["status", "kind"], name="dcr_status_idx"),
                    models.Index(fields=["requested_by", "-created_at"], name="dcr_requester_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("kind", "new_hcp"), ("hcp__isnull", False), _connector="OR"
                        ),
                        name="dcr_change_has_hcp",
                    )
                ],
            },
        ),
    ]

"""Hash-chained audit log and the personal-information access log.

Each AuditEvent stores the SHA-256 of its predecessor's hash and its own content, and a single
AuditHead row holds the last sequence number and hash. Editing any row breaks its hash;
deleting one breaks the sequence; truncating the tail no longer meets the head.
"""

from __future__ import annotations

from django.db import models


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=80)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"


class AuditHead(models.Model):
    """One row, locked by every append, so the chain grows one event at a time."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.seq}"


class PIAccessLog(models.Model):
    """Every reveal of a doctor's phone, WeChat id or licence number (PIPL)."""

    occurred_at = models.DateTimeField(auto_now_add=True)
    actor_id = models.BigIntegerField(null=True)
    actor = models.CharField(max_length=150)
    subject_type = models.CharField(max_length=40)
    subject_id = models.BigIntegerField()
    field = models.CharField(max_length=40)
    purpose = models.CharField(max_length=120, blank=True)
    channel = models.CharField(max_length=20, default="web")

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.actor} revealed {self.field} of {self.subject_type}:{self.subject_id}"


class IdempotentRequest(models.Model):
    """A write request made with an ``Idempotency-Key``: a retry gets the first answer back."""

    user_id = models.BigIntegerField()
    key = models.CharField(max_length=100)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status = models.PositiveSmallIntegerField()
    object_label = models.CharField(max_length=80)  # "masterdata.hcp"
    object_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="idempotent_request_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"

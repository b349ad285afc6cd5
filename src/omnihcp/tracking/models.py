"""The Activity store and what keeps it readable: sources, identities seen, daily rollups.

``Activity`` is append-only: one row per touch (a Segment ``track``/``page``/``identify``
call from a source, or an event another module records), never updated except to attach the
HCP once its identity is resolved. ``(stream, message_id)`` is unique, so a retried message is
stored once. Pages read the rollups (``HcpDailyActivity``, ``ContentDailyActivity``) that the
rollup job keeps current, never a scan of raw events; an HCP's timeline reads its own rows
through the ``(hcp, occurred_at)`` index.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.masterdata.models import HCP


class EventType(models.TextChoices):
    TRACK = "track", _("Event")
    PAGE = "page", _("Page view")
    SCREEN = "screen", _("Screen view")
    IDENTIFY = "identify", _("Identify")
    GROUP = "group", _("Group")
    ALIAS = "alias", _("Alias")


class TrackingSource(models.Model):
    """A system that sends events (a doctor platform, our mini-program, a website).

    Its write key is shown once when made; only its SHA-256 is kept. ``code`` is the platform
    code master data links identities under (``ExternalIdentity.source``), so a platform's
    ``userId`` resolves to the HCP its user list was matched to.
    """

    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("platform code"), max_length=40, unique=True)
    write_key_hash = models.CharField(max_length=64, unique=True, editable=False)
    write_key_hint = models.CharField(_("write key"), max_length=12, editable=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tracking source")
        verbose_name_plural = _("tracking sources")

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """One touch on the timeline. Append-only; see the module docstring."""

    id = models.BigAutoField(primary_key=True)
    # The source's code for API events, the module's name ("engagement", "fieldforce") else.
    stream = models.CharField(max_length=40)
    message_id = models.CharField(max_length=100)
    type = models.CharField(max_length=10, choices=EventType.choices)
    event = models.CharField(_("event"), max_length=200, blank=True)
    # No database constraint: the store is append-only and large, and an HCP is never
    # deleted (a merge marks it merged; selectors follow ``merged_into``).
    hcp = models.ForeignKey(
        HCP,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    user_id = models.CharField(max_length=128, blank=True)
    anonymous_id = models.CharField(max_length=128, blank=True)
    channel = models.CharField(_("channel"), max_length=20, blank=True)
    content_ref = models.CharField(_("content"), max_length=64, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    received_at = models.DateTimeField()
    properties = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        constraints = [
            models.UniqueConstraint(fields=["stream", "message_id"], name="activity_message_unique")
        ]
        indexes = [
            models.Index(fields=["hcp", "occurred_at"], name="activity_hcp_time_idx"),
            models.Index(fields=["stream", "user_id"], name="activity_user_idx"),
            models.Index(fields=["stream", "anonymous_id"], name="activity_anonymous_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.stream}:{self.message_id}"


class TrackedIdentity(models.Model):
    """A ``userId`` or ``anonymousId`` a source has sent, and the HCP it resolved to.

    Rows without an HCP are the identities whose events wait: the attach job retries them, and
    once master data links one (a platform user list matched, a DCR approved) its events are
    attached. Traits that identify a doctor (phone, openid, unionid) are kept only as blind
    indexes, never in clear (PIPL).
    """

    class Kind(models.TextChoices):
        USER = "user", "userId"
        ANONYMOUS = "anonymous", "anonymousId"

    stream = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=128)
    hcp = models.ForeignKey(HCP, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # For an anonymousId: the userId an identify call tied it to.
    user_id = models.CharField(max_length=128, blank=True)
    phone_hash = models.CharField(max_length=40, blank=True)
    openid_hash = models.CharField(max_length=40, blank=True)
    unionid_hash = models.CharField(max_length=40, blank=True)
    first_seen = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tracked identity")
        verbose_name_plural = _("tracked identities")
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "kind", "value"], name="tracked_identity_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["id"],
                name="tracked_identity_pending_idx",
                condition=models.Q(hcp__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.stream}:{self.kind}:{self.value}"


class HcpDailyActivity(models.Model):
    """Per HCP, day (Asia/Shanghai), event and channel: how many, and seconds spent."""

    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, db_constraint=False, related_name="+")
    day = models.DateField()
    event = models.CharField(max_length=200)
    channel = models.CharField(max_length=20, blank=True)
    count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    last_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hcp", "day", "event", "channel"], name="hcp_daily_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hcp_id} {self.day} {self.event}"


class HcpActivityWindow(models.Model):
    """Per HCP and event ("" = every event): how many in the last 7 … 365 days up to the day
    the windows were built (``RollupCursor`` "windows", ``as_of``), so a rule's
    ``events(days=30)`` reads one row per doctor instead of summing 30 daily rollups.

    Built from ``HcpDailyActivity`` in full once a day, and for the doctors each rollup run
    touched (``tracking.windows``)."""

    hcp = models.ForeignKey(
        HCP, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    event = models.CharField(max_length=200, blank=True)
    d7 = models.PositiveIntegerField(default=0)
    d14 = models.PositiveIntegerField(default=0)
    d30 = models.PositiveIntegerField(default=0)
    d60 = models.PositiveIntegerField(default=0)
    d90 = models.PositiveIntegerField(default=0)
    d180 = models.PositiveIntegerField(default=0)
    d365 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hcp", "event"], name="hcp_window_unique")]

    def __str__(self) -> str:
        return f"{self.hcp_id} {self.event or '*'} {self.d30}/30d"


class ContentDailyActivity(models.Model):
    """Per content item (or page), day, event and channel: events, and seconds spent."""

    content_ref = models.CharField(max_length=64)
    day = models.DateField()
    event = models.CharField(max_length=200)
    channel = models.CharField(max_length=20, blank=True)
    count = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_ref", "day", "event", "channel"], name="content_daily_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_ref} {self.day} {self.event}"


class StreamDailyActivity(models.Model):
    """Per stream (source or module) and day: events received, and how many were an HCP's."""

    stream = models.CharField(max_length=40)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stream", "day"], name="stream_daily_unique")
        ]

    def __str__(self) -> str:
        return f"{self.stream} {self.day}"


class RollupCursor(models.Model):
    """How far the rollup job has read the Activity store (the last id it counted)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)
    as_of = models.DateField(null=True, blank=True)  # the day activity windows end
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}@{self.last_id}"

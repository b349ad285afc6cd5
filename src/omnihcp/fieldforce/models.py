"""Field force: visits a rep logs and the tasks that tell a rep whom to see.

A ``Visit`` is one contact of a rep with a doctor — face to face (with check-in and check-out
locations and the distance to the hospital), remote by video or phone, or a WeCom chat — with
the products and key messages discussed, the content shown, the doctor's feedback and
objections, and the next step. ``client_key`` is the key the visit form made on the device:
a draft submitted twice (the network dropped after the first try) is stored once.

A ``Task`` is something a rep should do about a doctor, from any source (a hot signal, next
best action, a manager's nudge, a virtual rep's hand-off, a DCR outcome, a visit's next step).
``dedupe_key`` keeps one open task per rep, doctor and reason: a doctor who reads three
articles in an hour makes one task, not three.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel
from omnihcp.engagement.models import ContentItem
from omnihcp.masterdata.models import HCO, HCP
from omnihcp.org.models import Employee, Product


class VisitKind(models.TextChoices):
    FACE_TO_FACE = "f2f", _("Face to face")
    VIDEO = "video", _("Video call")
    PHONE = "phone", _("Phone call")
    WECOM = "wecom", _("WeCom chat")


class Visit(TimeStampedModel):
    # no index of its own: the covering index and the client-key constraint lead with the rep
    rep = models.ForeignKey(
        Employee, on_delete=models.PROTECT, related_name="visits", db_index=False
    )
    hcp = models.ForeignKey(HCP, on_delete=models.PROTECT, related_name="+")
    hco = models.ForeignKey(HCO, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=VisitKind.choices)
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    check_in_lat = models.FloatField(null=True, blank=True)
    check_in_lng = models.FloatField(null=True, blank=True)
    check_out_lat = models.FloatField(null=True, blank=True)
    check_out_lng = models.FloatField(null=True, blank=True)
    distance_m = models.PositiveIntegerField(null=True, blank=True)  # check-in ↔ the hospital
    far_from_hco = models.BooleanField(default=False)
    products = models.ManyToManyField(Product, blank=True, related_name="+")
    key_messages = models.TextField(_("key messages"), blank=True)
    content = models.ManyToManyField(ContentItem, blank=True, related_name="+")
    feedback = models.TextField(_("doctor's feedback"), blank=True)
    objections = models.TextField(_("objections"), blank=True)
    next_step = models.CharField(_("next step"), max_length=200, blank=True)
    next_step_due = models.DateField(_("next step due"), null=True, blank=True)
    client_key = models.CharField(max_length=64)
    # Call quality (``team.visits_judge``, every few minutes): True when the doctor engaged or
    # moved a stage within 14 days, False when the 14 days passed without, None while waiting.
    followed = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["rep", "client_key"], name="visit_client_key_unique")
        ]
        indexes = [
            # covers the team page's read of a team's recent visits (no table lookups)
            models.Index(
                fields=["rep", "started_at", "hcp", "created_at"], name="visit_rep_cover_idx"
            ),
            models.Index(fields=["hcp", "started_at"], name="visit_hcp_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rep_id} → {self.hcp_id} {self.started_at:%Y-%m-%d}"


class TaskSource(models.TextChoices):
    HOT_SIGNAL = "hot_signal", _("Hot signal")
    NEXT_BEST_ACTION = "nba", _("Next best action")
    MANAGER = "manager", _("Manager")
    VIRTUAL_REP = "virtual_rep", _("Virtual rep")
    DCR = "dcr", _("Data change request")
    VISIT = "visit", _("Visit next step")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class Task(TimeStampedModel):
    assignee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="tasks")
    hcp = models.ForeignKey(HCP, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=12, choices=TaskSource.choices)
    title = models.CharField(_("title"), max_length=200)
    detail = models.JSONField(default=dict, blank=True)  # the evidence, shown as the reason
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    done_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=120)
    signal_at = models.DateTimeField(null=True, blank=True)  # when the doctor did it
    notified_at = models.DateTimeField(null=True, blank=True)  # WeCom message sent
    notify_error = models.CharField(max_length=200, blank=True)
    visit = models.ForeignKey(
        Visit, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )

    class Meta:
        ordering = ["due_on", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignee", "dedupe_key"],
                condition=Q(status="open"),
                name="task_open_dedupe",
            )
        ]
        indexes = [models.Index(fields=["assignee", "status", "due_on"], name="task_rep_idx")]

    def __str__(self) -> str:
        return self.title


class SignalCursor(models.Model):
    """How far the hand-off job has read the Activity store (the last event id it looked at)."""

    name = models.CharField(max_length=40, unique=True)
    last_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}@{self.last_id}"


class CallPlan(TimeStampedModel):
    """A rep's plan for a month: which doctors to see how often (``CallPlanLine``), generated
    from the tiers of the doctors in the rep's territories and editable by the manager."""

    rep = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="call_plans")
    month = models.DateField(_("month"))  # the first day of the month
    generated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-month"]
        constraints = [models.UniqueConstraint(fields=["rep", "month"], name="call_plan_unique")]

    def __str__(self) -> str:
        return f"{self.rep_id} {self.month:%Y-%m}"


class CallPlanLine(models.Model):
    plan = models.ForeignKey(CallPlan, on_delete=models.CASCADE, related_name="lines")
    hcp = models.ForeignKey(HCP, on_delete=models.PROTECT, related_name="+")
    tier = models.CharField(_("tier"), max_length=1, blank=True)
    planned = models.PositiveSmallIntegerField(_("planned calls"))
    edited_by = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # set when a manager changed the generated number (regeneration keeps it)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "hcp"], name="call_plan_line_unique")
        ]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.hcp_id} × {self.planned}"


class Handover(TimeStampedModel):
    """Doctors passing from one rep to another on a day — a territory's new rep, or HCOs moved
    into another territory. On its day the open tasks about those doctors follow them to the new
    rep, who gets a task and a WeCom message that open the handover summary (one row per doctor:
    tier, adoption, the last visits and what the doctor said). Visits stay with the doctor."""

    territory = models.ForeignKey(
        "org.Territory", on_delete=models.PROTECT, related_name="handovers"
    )
    from_rep = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_rep = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="handovers")
    effective_on = models.DateField(_("effective from"))
    hco_ids = models.JSONField(default=list)
    created_by = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    tasks_moved = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-effective_on", "-id"]
        indexes = [models.Index(fields=["applied_at", "effective_on"], name="handover_due_idx")]

    def __str__(self) -> str:
        return f"{self.territory_id}: {self.from_rep_id} → {self.to_rep_id} {self.effective_on}"


class ProgrammeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CLOSED = "closed", _("Closed")


class Programme(TimeStampedModel):
    """A virtual-rep programme: a target list of doctors (a segment or a rule, optionally only
    hospitals nobody visited lately), a call script (the questions of a survey or quiz), calls
    and one-to-many sends, and hand-offs to the territory's field rep."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    segment = models.ForeignKey(
        "profiles.Segment", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rule = models.TextField(_("rule"), blank=True)
    unvisited_days = models.PositiveSmallIntegerField(null=True, blank=True)
    script = models.ForeignKey(
        ContentItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=8, choices=ProgrammeStatus.choices, default=ProgrammeStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    targets_built_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Outcome(models.TextChoices):
    NO_ANSWER = "no_answer", _("No answer")
    REFUSED = "refused", _("Refused")
    INTERESTED = "interested", _("Interested")
    WANTS_VISIT = "wants_visit", _("Wants a visit")
    WANTS_MATERIAL = "wants_material", _("Wants material")
    NOT_NOW = "not_now", _("Not now")


class TargetStage(models.TextChoices):
    """How far a target has come, in the funnel's order (a later step implies the earlier)."""

    PENDING = "pending", _("Not reached yet")
    REACHED = "reached", _("Reached")
    ENGAGED = "engaged", _("Engaged")
    INTERESTED = "interested", _("Interested")
    HANDED_OFF = "handed_off", _("Handed off")


class ProgrammeTarget(models.Model):
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="targets")
    hcp = models.ForeignKey(HCP, on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(
        _("stage"), max_length=12, choices=TargetStage.choices, default=TargetStage.PENDING
    )
    last_outcome = models.CharField(
        _("last outcome"), max_length=16, choices=Outcome.choices, blank=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    callback_at = models.DateTimeField(_("call back"), null=True, blank=True)
    intent = models.PositiveSmallIntegerField(_("intent score"), default=0)
    answers = models.JSONField(default=dict, blank=True)  # question → answer, latest wins
    handoff_task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    handed_off_at = models.DateTimeField(null=True, blank=True)
    field_feedback = models.TextField(_("field rep's feedback"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-intent", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "hcp"], name="programme_target_unique")
        ]
        indexes = [
            models.Index(fields=["programme", "stage"], name="target_stage_idx"),
            models.Index(fields=["programme", "callback_at"], name="target_callback_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.hcp_id} ({self.stage})"


class OutreachCall(models.Model):
    """One call (or WeCom chat) of a virtual rep with a target, with its outcome and answers."""

    target = models.ForeignKey(ProgrammeTarget, on_delete=models.CASCADE, related_name="calls")
    channel = models.CharField(_("channel"), max_length=8, choices=VisitKind.choices)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    answers = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        "org.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    client_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["-at"]
        constraints = [
            models.UniqueConstraint(fields=["target", "client_key"], name="call_client_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.target_id} {self.outcome}"


class ProgrammeCampaign(models.Model):
    """A one-to-many send (an engagement campaign) to a programme's targets."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="campaigns")
    campaign = models.OneToOneField(
        "engagement.Campaign", on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.programme_id} → {self.campaign_id}"

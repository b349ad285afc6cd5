"""Tags of doctors: definitions in three categories and three kinds, each doctor's current
tags, and the history of every change.

A *manual* tag is set by a rep or a steward (who, when); a *rule* tag holds for exactly the
doctors its rule (``profiles.rules``) matches, recomputed when activity arrives and in full on
a schedule; a *model* tag is written by a model (NLP interests, propensities) with a weight.
``HCPTag`` is the current state (one row per doctor and tag); ``HCPTagEvent`` keeps every set
and clear, so the history of a doctor's tags survives their recomputation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel
from omnihcp.masterdata.models import HCP
from omnihcp.profiles.reasons import reason_text


class TagCategory(models.TextChoices):
    BASIC = "basic", _("Basic")
    MARKETING = "marketing", _("Marketing")
    VALUE = "value", _("Value")


class TagKind(models.TextChoices):
    MANUAL = "manual", _("Manual")
    RULE = "rule", _("Rule")
    MODEL = "model", _("Model")


class TagDefinition(TimeStampedModel):
    name = models.CharField(_("name"), max_length=60, unique=True)
    category = models.CharField(_("category"), max_length=10, choices=TagCategory.choices)
    kind = models.CharField(_("kind"), max_length=8, choices=TagKind.choices)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rule = models.TextField(_("rule"), blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recomputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class HCPTag(models.Model):
    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey(TagDefinition, on_delete=models.CASCADE, related_name="values")
    value = models.CharField(_("value"), max_length=100, blank=True)
    weight = models.FloatField(null=True, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hcp", "definition"], name="hcp_tag_unique")]
        indexes = [models.Index(fields=["definition", "hcp"], name="hcp_tag_definition_idx")]

    def __str__(self) -> str:
        return f"{self.hcp_id}:{self.definition_id}"


class HCPTagEvent(models.Model):
    class Action(models.TextChoices):
        SET = "set", _("Set")
        CLEAR = "clear", _("Cleared")

    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey(TagDefinition, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=5, choices=Action.choices)
    value = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=10)  # manual / rule / model / merge
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["hcp", "-created_at"], name="hcp_tag_event_idx")]

    def __str__(self) -> str:
        return f"{self.hcp_id} {self.action} {self.definition_id}"


class RecomputeCursor(models.Model):
    """Up to when the incremental job has recomputed rule tags for doctors with new activity."""

    name = models.CharField(max_length=40, unique=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.at}"


class Segment(TimeStampedModel):
    """A saved audience: the doctors a rule matches, counted when it is used (never stored)."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    rule = models.TextField(_("rule"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AdoptionStage(models.TextChoices):
    """The ladder a doctor climbs for a product, in order."""

    UNAWARE = "unaware", _("Unaware")
    AWARE = "aware", _("Aware")
    INTERESTED = "interested", _("Interested")
    TRIAL = "trial", _("Trial")
    REGULAR = "regular", _("Regular use")
    ADVOCATE = "advocate", _("Advocate")


STAGE_ORDER = {stage: rank for rank, stage in enumerate(AdoptionStage.values)}


class Adoption(models.Model):
    """A doctor's current stage for a product."""

    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("org.Product", on_delete=models.PROTECT, related_name="+")
    stage = models.CharField(_("stage"), max_length=10, choices=AdoptionStage.choices)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hcp", "product"], name="adoption_unique")]
        indexes = [models.Index(fields=["product", "stage"], name="adoption_product_idx")]

    def __str__(self) -> str:
        return f"{self.hcp_id}/{self.product_id}: {self.stage}"


class AdoptionEvent(models.Model):
    """A change of stage (by a rep in a visit, or accepted from a proposal), or a proposal
    the platform made from the doctor's engagement (``proposed``), with what it rests on."""

    class Kind(models.TextChoices):
        CHANGE = "change", _("Changed")
        PROPOSAL = "proposal", _("Proposed")
        DISMISSED = "dismissed", _("Proposal dismissed")

    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("org.Product", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_stage = models.CharField(max_length=10, blank=True)
    to_stage = models.CharField(max_length=10, choices=AdoptionStage.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # What a proposal rests on, shown in the reader's language: {"quiz": score} or {"opened": n}
    evidence = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    open = models.BooleanField(default=False)  # a proposal waiting for the rep
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["hcp", "-created_at"], name="adoption_event_hcp_idx"),
            models.Index(fields=["open", "hcp"], name="adoption_proposal_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.hcp_id}/{self.product_id}: {self.from_stage}→{self.to_stage}"

    def why(self) -> str:
        """The reason in the reader's language (evidence), or as a person wrote it."""
        product = self.evidence.get("product", "")
        if "quiz" in self.evidence:
            return gettext("Scored %(score)s in the %(product)s quiz.") % {
                "score": self.evidence["quiz"],
                "product": product,
            }
        if "opened" in self.evidence:
            return gettext("Opened %(product)s content %(n)s times.") % {
                "product": product,
                "n": self.evidence["opened"],
            }
        return self.reason


LEVELS = ("high", "medium", "low")
TIERS = ("A", "B", "C")


class TierMatrix(TimeStampedModel):
    """A product's tiering: potential (by rule) × support (by adoption stage) → tier A/B/C,
    and the calls per month each tier should get (the field force's call plans use it)."""

    product = models.OneToOneField("org.Product", on_delete=models.CASCADE, related_name="+")
    high_rule = models.TextField(_("high potential when"))
    medium_rule = models.TextField(_("medium potential when"), blank=True)
    cells = models.JSONField(default=dict)  # {"high/high": "A", …} potential/support
    frequencies = models.JSONField(default=dict)  # {"A": 4, "B": 2, "C": 1} calls a month
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"tiers of {self.product_id}"


class HCPTier(models.Model):
    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("org.Product", on_delete=models.CASCADE, related_name="+")
    potential = models.CharField(max_length=6)
    support = models.CharField(max_length=6)
    tier = models.CharField(_("tier"), max_length=1)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hcp", "product"], name="hcp_tier_unique")]
        indexes = [models.Index(fields=["product", "tier"], name="hcp_tier_product_idx")]

    def __str__(self) -> str:
        return f"{self.hcp_id}/{self.product_id}: {self.tier}"


class SuggestionKind(models.TextChoices):
    CONTENT = "content", _("Next best content")
    ACTION = "action", _("Next best action")


class ActionType(models.TextChoices):
    """Why a next best action was suggested (the rates are reported per type)."""

    CONTENT = "content", _("Content to send")
    HOT_READ = "hot_read", _("Deep read")
    QUIZ = "quiz", _("Quiz answer")
    ADOPTION = "adoption", _("Adoption opportunity")
    CALL_GAP = "call_gap", _("Call-plan gap")
    DORMANT = "dormant", _("No contact for long")


class Feedback(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    NOT_NOW = "not_now", _("Not now")
    NOT_RELEVANT = "not_relevant", _("Not relevant")


class Suggestion(models.Model):
    """One automated suggestion, as it was made: for a doctor (next best content) or for a rep
    about a doctor (next best action), with the reason (``evidence``, rendered by ``why()`` in
    the reader's language), whether it was personalised, what became of it (opened by the
    doctor, the rep's feedback). PIPL Art. 24: every automated suggestion records why."""

    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=SuggestionKind.choices)
    action_type = models.CharField(_("type"), max_length=10, choices=ActionType.choices)
    key = models.CharField(max_length=60)  # what, and for whom: "item:12", "quiz:rep7"
    day = models.DateField()
    item = models.ForeignKey(
        "engagement.ContentItem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    rep = models.ForeignKey(
        "org.Employee", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=16, blank=True)
    rank = models.PositiveSmallIntegerField(default=0)
    score = models.FloatField(default=0)
    personalised = models.BooleanField(default=True)
    method = models.CharField(max_length=16)  # hybrid / collaborative / content / popular / rules
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    opened_at = models.DateTimeField(null=True, blank=True)  # the doctor opened the content
    status = models.CharField(max_length=12, choices=Feedback.choices, default=Feedback.OPEN)
    feedback_reason = models.CharField(_("reason"), max_length=200, blank=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["day", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["hcp", "kind", "key", "day"], name="suggestion_unique")
        ]
        indexes = [
            models.Index(fields=["hcp", "kind", "-day"], name="suggestion_hcp_idx"),
            models.Index(fields=["rep", "-day"], name="suggestion_rep_idx"),
            models.Index(fields=["opened_at", "day"], name="suggestion_open_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.hcp_id} {self.kind} {self.key} {self.day}"

    def why(self) -> str:
        """The reason in the reader's language."""
        return reason_text(self.evidence)

    def content_why(self) -> str:
        """Why the content a next best action brings was chosen."""
        return reason_text(self.evidence.get("content") or {})


class RepActionList(models.Model):
    """A rep's latest next-best-action list of the day (suggestion ids, best first), so the
    today page shows it without computing it again; the ``nba_lists_refresh`` job recomputes
    every rep's list every 15 minutes, and a page computes it when the list is older."""

    rep = models.OneToOneField("org.Employee", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    computed_at = models.DateTimeField()
    suggestion_ids = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.rep_id} {self.day}"

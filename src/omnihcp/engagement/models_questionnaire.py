"""Questionnaires: the questions of a quiz or survey content version, and the HCP's answers.

Questions belong to a content *version*, so MLR approves them with the text, and a new draft
version starts as a copy of the approved one's questions. A quiz's choice questions have
correct options and an explanation and give a score; a survey's options may set an HCP tag
(``name`` or ``name:value``, defined in the builder). One ``Response`` per delivery: a retried
submission is not recorded twice.
"""

from __future__ import annotations

__all__ = ["Answer", "AnswerTag", "Question", "QuestionKind", "Response"]

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from omnihcp.masterdata.models import HCP


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    RATING = "rating", _("Rating")
    TEXT = "text", _("Free text")


class Question(models.Model):
    version = models.ForeignKey(
        "engagement.ContentVersion", on_delete=models.CASCADE, related_name="questions"
    )
    position = models.PositiveIntegerField()
    kind = models.CharField(_("question type"), max_length=10, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=500)
    # [{"text": "…", "correct": bool, "tag": "name" | "name:value" | ""}, …]
    options = models.JSONField(_("options"), default=list, blank=True)
    scale = models.PositiveSmallIntegerField(_("rating scale"), default=5)
    explanation = models.TextField(_("explanation"), blank=True)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text[:50]

    @property
    def scale_range(self) -> range:
        return range(1, self.scale + 1)

    @property
    def scored(self) -> bool:
        """A choice question with a correct option counts towards the quiz score."""
        return self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE) and any(
            o.get("correct") for o in self.options
        )


class Response(models.Model):
    delivery = models.OneToOneField(
        "engagement.Delivery", null=True, on_delete=models.PROTECT, related_name="response"
    )
    hcp = models.ForeignKey(HCP, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey("engagement.ContentItem", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "engagement.ContentVersion", on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=16, blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    score = models.FloatField(_("score"), null=True)  # 0–100, quizzes only
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        indexes = [models.Index(fields=["hcp", "-submitted_at"], name="response_hcp_idx")]

    def __str__(self) -> str:
        return f"{self.item_id}←{self.hcp_id}"


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    choices = models.JSONField(default=list, blank=True)  # option indexes
    rating = models.PositiveSmallIntegerField(null=True)
    text = models.TextField(blank=True)
    correct = models.BooleanField(null=True)  # None: not a scored question

    class Meta:
        ordering = ["question__position", "id"]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"

    def display(self, question: Question) -> str:
        """The answer as the rep reads it (``question`` is this answer's question)."""
        if question.kind == QuestionKind.TEXT:
            return self.text
        if question.kind == QuestionKind.RATING:
            return f"{self.rating} / {question.scale}"
        return "; ".join(question.options[i]["text"] for i in self.choices)


class AnswerTag(models.Model):
    """A tag a survey answer set on the HCP (the latest per name is the HCP's value)."""

    hcp = models.ForeignKey(HCP, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("tag"), max_length=60)
    value = models.CharField(_("value"), max_length=100, blank=True)
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="tags")
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-set_at", "-id"]
        indexes = [models.Index(fields=["hcp", "name", "-set_at"], name="answertag_hcp_idx")]

    def __str__(self) -> str:
        return f"{self.name}:{self.value}"

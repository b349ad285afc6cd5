"""Rep training: a course is approved content items to read and a quiz to pass; it is assigned
to reps (new reps first), and managers see completion and scores. A course may gate sharing:
a rep shares its brand's content with doctors only after passing it."""

from __future__ import annotations

__all__ = ["Course", "CourseAssignment", "CourseItem"]

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel
from omnihcp.org.models import Employee, Product


class Course(TimeStampedModel):
    title = models.CharField(_("title"), max_length=200, unique=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    product = models.ForeignKey(
        Product, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    quiz = models.ForeignKey(
        "engagement.ContentItem", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    pass_score = models.PositiveSmallIntegerField(_("pass mark"), default=80)
    gates_sharing = models.BooleanField(
        _("share the brand's content only after passing"), default=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CourseItem(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey("engagement.ContentItem", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["course", "item"], name="course_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.course_id}#{self.position}"


class CourseAssignment(TimeStampedModel):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="assignments")
    employee = models.ForeignKey(Employee, on_delete=models.CASCADE, related_name="courses")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    due_on = models.DateField(_("due"), null=True, blank=True)
    items_read = models.JSONField(default=list, blank=True)  # content item ids
    attempts = models.PositiveSmallIntegerField(default=0)
    best_score = models.FloatField(_("best score"), null=True, blank=True)
    passed_at = models.DateTimeField(_("passed"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "employee"], name="course_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.course_id} → {self.employee_id}"

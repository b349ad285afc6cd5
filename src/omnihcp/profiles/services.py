"""Writes of doctors' tags: definitions (a rule is compiled when saved, and refused with the
place of its error), manual tags set and cleared by reps and stewards, and rule tags
recomputed — for every doctor on a schedule, or for the doctors whose activity just changed.

Every change of a doctor's tag is one ``HCPTagEvent`` beside the current ``HCPTag`` row, in
the same transaction; a recomputation writes only the differences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement.selectors import answer_tags_since
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.masterdata.selectors_identity import hcp_survivor_ids
from omnihcp.profiles.models import HCPTag, HCPTagEvent, TagCategory, TagDefinition, TagKind
from omnihcp.profiles.rules import RuleError, rule_compile

BATCH = 2000


@dataclass(frozen=True)
class TagDraft:
    name: str
    category: str
    kind: str
    description: str = ""
    rule: str = ""


def rule_error(exc: RuleError) -> ApplicationError:
    """A refused rule as the page and the API show it: the message and where."""
    return ApplicationError(str(exc), field="rule", code="rule")


def _clean(draft: TagDraft) -> TagDraft:
    name = draft.name.strip()
    if not name:
        raise ApplicationError(_("This field is required."), field="name")
    if len(name) > 60:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 60}, field="name")
    if draft.category not in TagCategory.values:
        raise ApplicationError(_("Choose a category."), field="category")
    if draft.kind not in TagKind.values:
        raise ApplicationError(_("Choose how the tag is set."), field="kind")
    rule = draft.rule.strip()
    if draft.kind == TagKind.RULE:
        try:
            rule_compile(rule)
        except RuleError as exc:
            raise rule_error(exc) from None
    elif rule:
        raise ApplicationError(_("Only rule tags have a rule."), field="rule")
    return TagDraft(name, draft.category, draft.kind, draft.description.strip()[:300], rule)


def tag_define(*, actor: Actor, draft: TagDraft) -> TagDefinition:
    draft = _clean(draft)
    if TagDefinition.objects.filter(name=draft.name).exists():
        raise ApplicationError(_("A tag of this name exists."), field="name")
    with transaction.atomic(durable=True):
        definition = TagDefinition.objects.create(
            name=draft.name,
            category=draft.category,
            kind=draft.kind,
            description=draft.description,
            rule=draft.rule,
            created_by_id=actor.pk,
        )
        audit_append(
            actor=actor,
            action="tag.define",
            object_type="profiles.tag",
            object_id=definition.pk,
            after={"name": draft.name, "kind": draft.kind, "rule": draft.rule},
        )
    return definition


def tag_redefine(*, actor: Actor, definition: TagDefinition, draft: TagDraft) -> TagDefinition:
    """Change a definition (its kind stays); a changed rule is recomputed at once."""
    draft = _clean(
        TagDraft(draft.name, draft.category, definition.kind, draft.description, draft.rule)
    )
    if TagDefinition.objects.filter(name=draft.name).exclude(pk=definition.pk).exists():
        raise ApplicationError(_("A tag of this name exists."), field="name")
    changed_rule = draft.rule != definition.rule
    with transaction.atomic(durable=True):
        before = {"name": definition.name, "rule": definition.rule}
        definition.name, definition.category = draft.name, draft.category
        definition.description, definition.rule = draft.description, draft.rule
        definition.save()
        audit_append(
            actor=actor,
            action="tag.redefine",
            object_type="profiles.tag",
            object_id=definition.pk,
            before=before,
            after={"name": draft.name, "rule": draft.rule},
        )
    if changed_rule and definition.kind == TagKind.RULE:
        tag_recompute(definition=definition)
    return definition


def _manual(definition: TagDefinition) -> None:
    if definition.kind != TagKind.MANUAL:
        raise ApplicationError(
            _("%(name)s is set by its rule or model, not by hand.") % {"name": definition.name},
            field="tag",
        )
    if not definition.active:
        raise ApplicationError(_("This tag is no longer in use."), field="tag")


def tag_set(*, actor: Actor, hcp: HCP, definition: TagDefinition, value: str = "") -> HCPTag:
    """Set a manual tag on a doctor (again: change its value), with who and when."""
    _manual(definition)
    value = value.strip()
    if len(value) > 100:
        raise ApplicationError(_("At most %(n)s characters.") % {"n": 100}, field="value")
    with transaction.atomic(durable=True):
        tag, created = HCPTag.objects.select_for_update().get_or_create(
            hcp=hcp,
            definition=definition,
            defaults={"value": value, "set_by_id": actor.pk},
        )
        if not created and tag.value == value:
            return tag  # a retried request changes nothing
        tag.value, tag.set_by_id, tag.set_at = value, actor.pk, timezone.now()
        tag.save()
        HCPTagEvent.objects.create(
            hcp=hcp,
            definition=definition,
            action=HCPTagEvent.Action.SET,
            value=value,
            source=TagKind.MANUAL,
            actor_id=actor.pk,
        )
    return tag


def tag_clear(*, actor: Actor, hcp: HCP, definition: TagDefinition) -> None:
    _manual(definition)
    with transaction.atomic(durable=True):
        deleted, _rows = HCPTag.objects.filter(hcp=hcp, definition=definition).delete()
        if deleted:
            HCPTagEvent.objects.create(
                hcp=hcp,
                definition=definition,
                action=HCPTagEvent.Action.CLEAR,
                source=TagKind.MANUAL,
                actor_id=actor.pk,
            )


@dataclass(frozen=True)
class RecomputeResult:
    matched: int
    added: int
    removed: int


def tag_recompute(
    *, definition: TagDefinition, hcp_ids: Collection[int] | None = None
) -> RecomputeResult:
    """Make the rule tag hold for exactly the (active) doctors its rule matches — all of them,
    or only among ``hcp_ids``; the rule runs in the database as one query."""
    if definition.kind != TagKind.RULE:
        raise ApplicationError(_("Only rule tags are recomputed."), code="invalid_state")
    compiled = rule_compile(definition.rule)
    doctors = HCP.objects.filter(status=RecordStatus.ACTIVE)
    current = HCPTag.objects.filter(definition=definition)
    if hcp_ids is not None:
        doctors = doctors.filter(pk__in=list(hcp_ids))
        current = current.filter(hcp_id__in=list(hcp_ids))
    matched = set(compiled.apply(doctors).values_list("pk", flat=True))
    had = set(current.values_list("hcp_id", flat=True))
    added, removed = matched - had, had - matched
    now = timezone.now()
    with transaction.atomic():
        for chunk in _chunks(sorted(removed)):
            HCPTag.objects.filter(definition=definition, hcp_id__in=chunk).delete()
        HCPTag.objects.bulk_create(
            (HCPTag(hcp_id=pk, definition=definition, set_at=now) for pk in sorted(added)),
            batch_size=BATCH,
        )
        HCPTagEvent.objects.bulk_create(
            [
                *(
                    HCPTagEvent(hcp_id=pk, definition=definition, action="set", source="rule")
                    for pk in sorted(added)
                ),
                *(
                    HCPTagEvent(hcp_id=pk, definition=definition, action="clear", source="rule")
                    for pk in sorted(removed)
                ),
            ],
            batch_size=BATCH,
        )
        if hcp_ids is None:
            TagDefinition.objects.filter(pk=definition.pk).update(recomputed_at=now)
    return RecomputeResult(matched=len(matched), added=len(added), removed=len(removed))


def _chunks(values: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(values), BATCH):
        yield values[start : start + BATCH]


def tags_recompute_all(*, hcp_ids: Collection[int] | None = None) -> int:
    """Recompute every active rule tag (for ``hcp_ids`` only, when given); tags changed."""
    changed = 0
    for definition in TagDefinition.objects.filter(kind=TagKind.RULE, active=True):
        result = tag_recompute(definition=definition, hcp_ids=hcp_ids)
        changed += result.added + result.removed
    return changed


def tags_follow_merges() -> int:
    """Move the tags of doctors merged away to the doctor who now stands for them (the survivor
    keeps its own value where both have the tag); tags moved."""
    moved = 0
    stale = list(
        HCPTag.objects.filter(hcp__merged_into__isnull=False).select_related("definition")[:BATCH]
    )
    survivors = hcp_survivor_ids([tag.hcp_id for tag in stale])
    for tag in stale:
        survivor_id = survivors[tag.hcp_id]
        with transaction.atomic():
            if not HCPTag.objects.filter(hcp_id=survivor_id, definition=tag.definition).exists():
                HCPTag.objects.create(
                    hcp_id=survivor_id,
                    definition=tag.definition,
                    value=tag.value,
                    weight=tag.weight,
                    set_by_id=tag.set_by_id,
                    set_at=tag.set_at,
                )
                HCPTagEvent.objects.create(
                    hcp_id=survivor_id,
                    definition=tag.definition,
                    action=HCPTagEvent.Action.SET,
                    value=tag.value,
                    source="merge",
                )
                moved += 1
            tag.delete()
    return moved


def tags_from_answers(*, since: dt.datetime, until: dt.datetime) -> int:
    """Survey answers that set a tag (an option's tag "name" or "name:value") set the manual
    tag of that name on the doctor — a marketing tag made for it on first use. A name that
    belongs to a rule or model tag is left to its rule or model. Tags set."""
    changed = 0
    answers = answer_tags_since(since, until)
    survivors = hcp_survivor_ids({answer.hcp_id for answer in answers})
    for answer in answers:
        definition, _created = TagDefinition.objects.get_or_create(
            name=answer.name[:60],
            defaults={
                "category": TagCategory.MARKETING,
                "kind": TagKind.MANUAL,
                "description": _("Set by survey answers."),
            },
        )
        if definition.kind != TagKind.MANUAL or not definition.active:
            continue
        value = answer.value.strip()[:100]
        hcp_id = survivors[answer.hcp_id]
        with transaction.atomic():
            tag, created = HCPTag.objects.select_for_update().get_or_create(
                hcp_id=hcp_id, definition=definition, defaults={"value": value}
            )
            if not created and tag.value == value:
                continue
            tag.value, tag.set_by_id, tag.set_at = value, None, answer.set_at
            tag.save()
            HCPTagEvent.objects.create(
                hcp_id=hcp_id,
                definition=definition,
                action=HCPTagEvent.Action.SET,
                value=value,
                source="survey",
                created_at=answer.set_at,
            )
            changed += 1
    return changed

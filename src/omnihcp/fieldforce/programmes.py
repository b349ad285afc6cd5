"""Virtual-rep programmes: a target list, a call script, calls with outcomes, one-to-many
sends, hand-offs to the field rep, and the programme's funnel.

* **Targets** come from a segment or a rule of the rule language (``profiles.rules``), and may
  be narrowed to doctors at hospitals no rep visited in the last N days — "hospitals in our
  VBP contract with no visits yet" is the rule ``hco_level in (…)`` on a VBP brand's
  programme with N = 365. Building again adds the doctors who now qualify; nobody is removed.
* **The call script** is the questions of an approved survey or quiz (the questionnaire
  builder); the call screen asks them and keeps the answers on the target.
* **A call** records the outcome (no answer, refused, interested, wants a visit, wants
  material, not now), notes, answers and a call-back; its ``client_key`` makes a retried
  submit one call. It goes on the doctor's timeline. **The intent score** (0–100) is the
  outcome's weight (``OUTCOME_INTENT``), plus 10 for answers given and 10 for content read in
  the last 30 days — a number a virtual rep can explain.
* **One-to-many**: a send of the script (or other approved content) to the targets not reached
  yet, as an engagement campaign (consent, frequency cap and quiet hours apply there); a
  doctor's answers through that link count as engaged.
* **The hand-off** opens a task for the active field rep covering the doctor's hospital (in
  the programme brand's business unit), carrying the answers and the outcome, and sends a
  WeCom message; the rep's feedback when closing it comes back to the target. A hospital no
  active rep covers (the rep left, the territory is vacant) is refused with that reason.
* **The funnel**: targets → reached → engaged → interested → handed off → visited (a field
  visit logged after the hand-off) → adoption stage moved (after the hand-off).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.core.scope import DataScope
from omnihcp.engagement import campaigns
from omnihcp.engagement.models import CampaignRecipient, ContentItem, ContentKind, Response
from omnihcp.engagement.selectors import content_is_sendable
from omnihcp.fieldforce.models import (
    Outcome,
    OutreachCall,
    Programme,
    ProgrammeCampaign,
    ProgrammeTarget,
    TargetStage,
    Task,
    TaskSource,
    Visit,
    VisitKind,
)
from omnihcp.fieldforce.notify import task_notify
from omnihcp.fieldforce.services import task_open
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.org.models import Employee, Product, Role
from omnihcp.org.selectors import reps_covering_hco
from omnihcp.profiles.models import AdoptionEvent, Segment
from omnihcp.profiles.rules import RuleError, rule_compile
from omnihcp.tracking.models import HcpDailyActivity
from omnihcp.tracking.services import activity_record

MAX_TARGETS = 50_000
HANDOFF_DAYS = 3
STAGES = [value for value, _label in TargetStage.choices]
OUTCOME_STAGE = {
    Outcome.NO_ANSWER: TargetStage.PENDING,
    Outcome.REFUSED: TargetStage.REACHED,
    Outcome.NOT_NOW: TargetStage.REACHED,
    Outcome.WANTS_MATERIAL: TargetStage.ENGAGED,
    Outcome.INTERESTED: TargetStage.INTERESTED,
    Outcome.WANTS_VISIT: TargetStage.INTERESTED,
}
OUTCOME_INTENT = {
    Outcome.REFUSED: 0,
    Outcome.NO_ANSWER: 10,
    Outcome.NOT_NOW: 30,
    Outcome.WANTS_MATERIAL: 55,
    Outcome.INTERESTED: 70,
    Outcome.WANTS_VISIT: 80,
}
EDITORS = {Role.VIRTUAL_REP, Role.MARKETING, Role.ADMIN}
VIEWERS = EDITORS | {
    Role.DISTRICT_MANAGER,
    Role.AREA_MANAGER,
    Role.REGIONAL_MANAGER,
    Role.EXECUTIVE,
}


def _role(actor: Any) -> str:
    return str(getattr(actor, "role", ""))


def may_edit(actor: Any) -> bool:
    return _role(actor) in EDITORS


def programme_list(*, actor: Any) -> QuerySet[Programme]:
    if _role(actor) not in VIEWERS:
        return Programme.objects.none()
    return Programme.objects.select_related("product", "owner", "segment", "script")


def programme_get(*, actor: Any, programme_id: int) -> Programme:
    programme = programme_list(actor=actor).filter(pk=programme_id).first()
    if programme is None:
        raise NotFoundError(_("No such programme."))
    return programme


def script_choices() -> QuerySet[ContentItem]:
    """Approved surveys and quizzes, whose questions can be a call script."""
    return ContentItem.objects.filter(
        kind__in=(ContentKind.SURVEY, ContentKind.QUIZ), approved_version__isnull=False
    ).order_by("title")


@dataclass(frozen=True)
class ProgrammeDraft:
    name: str
    description: str = ""
    product_id: int | None = None
    segment_id: int | None = None
    rule: str = ""
    unvisited_days: int | None = None
    script_id: int | None = None


def programme_create(*, actor: Actor, draft: ProgrammeDraft) -> Programme:
    if not may_edit(actor):
        raise ApplicationError(_("Only virtual reps and marketing run programmes."), code="denied")
    name = draft.name.strip()
    if not name:
        raise ApplicationError(_("This field is required."), field="name")
    if Programme.objects.filter(name=name).exists():
        raise ApplicationError(_("A programme of this name exists."), field="name")
    product = Product.objects.filter(pk=draft.product_id).first() if draft.product_id else None
    if draft.product_id and product is None:
        raise ApplicationError(_("Choose from the list."), field="product")
    segment = Segment.objects.filter(pk=draft.segment_id).first() if draft.segment_id else None
    if draft.segment_id and segment is None:
        raise ApplicationError(_("Choose from the list."), field="segment")
    if segment is None and not draft.rule.strip():
        raise ApplicationError(_("Choose a segment or write a rule."), field="rule")
    if draft.rule.strip():
        try:
            rule_compile(draft.rule)
        except RuleError as exc:
            raise ApplicationError(str(exc), field="rule") from None
    if draft.unvisited_days is not None and not 1 <= draft.unvisited_days <= 3650:
        raise ApplicationError(_("Give a number of days from 1 to 3650."), field="unvisited_days")
    script = script_choices().filter(pk=draft.script_id).first() if draft.script_id else None
    if draft.script_id and script is None:
        raise ApplicationError(_("Choose an approved survey or quiz."), field="script")
    owner = getattr(actor, "employee", None)
    with transaction.atomic():
        programme = Programme.objects.create(
            name=name,
            description=draft.description.strip()[:500],
            product=product,
            segment=segment,
            rule=draft.rule.strip(),
            unvisited_days=draft.unvisited_days,
            script=script,
            owner=owner,
            created_by_id=actor.pk,
        )
        audit_append(
            actor=actor,
            action="programme.create",
            object_type="programme",
            object_id=programme.pk,
            after={"name": name, "segment": draft.segment_id, "rule": programme.rule},
        )
    return programme


def _candidates(programme: Programme, scope: DataScope) -> QuerySet[HCP]:
    doctors = scope.filter_hcos(HCP.objects.filter(status=RecordStatus.ACTIVE), "primary_hco_id")
    if programme.segment is not None:
        doctors = rule_compile(programme.segment.rule).apply(doctors)
    if programme.rule:
        doctors = rule_compile(programme.rule).apply(doctors)
    if programme.unvisited_days:
        since = timezone.now() - dt.timedelta(days=programme.unvisited_days)
        visited = Visit.objects.filter(hco_id=OuterRef("primary_hco_id"), started_at__gte=since)
        doctors = doctors.filter(~Exists(visited))
    return doctors


def targets_build(*, actor: Actor, programme: Programme, scope: DataScope) -> int:
    """Add the doctors who now qualify (at most ``MAX_TARGETS``): how many were added."""
    ids = list(
        _candidates(programme, scope).order_by("id").values_list("id", flat=True)[: MAX_TARGETS + 1]
    )
    if len(ids) > MAX_TARGETS:
        raise ApplicationError(
            _("More than %(n)s doctors match: narrow the rule.") % {"n": MAX_TARGETS},
            field="rule",
        )
    with transaction.atomic():
        before = programme.targets.count()
        ProgrammeTarget.objects.bulk_create(
            [ProgrammeTarget(programme=programme, hcp_id=i) for i in ids],
            batch_size=1000,
            ignore_conflicts=True,
        )
        added = programme.targets.count() - before
        programme.targets_built_at = timezone.now()
        programme.save(update_fields=["targets_built_at", "updated_at"])
        audit_append(
            actor=actor,
            action="programme.targets_build",
            object_type="programme",
            object_id=programme.pk,
            after={"added": added, "matching": len(ids)},
        )
    return added


def script_questions(programme: Programme) -> list[Any]:
    script = programme.script
    if script is None or script.approved_version is None:
        return []
    return list(script.approved_version.questions.all())


def _answers(programme: Programme, values: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """The script's answers as text by question, checked against the options."""
    answers: dict[str, str] = {}
    for question in script_questions(programme):
        given = [v for v in values.get(f"q{question.position}", ()) if v != ""]
        if not given:
            continue
        if question.kind in ("single", "multiple"):
            try:
                chosen = [question.options[int(v)]["text"] for v in given]
            except (ValueError, IndexError):
                raise ApplicationError(
                    _("Choose from the options."), field=f"q{question.position}"
                ) from None
            answers[question.text] = "; ".join(chosen)
        elif question.kind == "rating":
            if not given[0].isdigit() or not 1 <= int(given[0]) <= question.scale:
                raise ApplicationError(
                    _("Give a rating from 1 to %(n)s.") % {"n": question.scale},
                    field=f"q{question.position}",
                )
            answers[question.text] = given[0]
        else:
            answers[question.text] = given[0].strip()[:1000]
    return answers


def intent_score(*, outcome: str, answered: bool, engaged_recently: bool, previous: int) -> int:
    """The outcome's weight, +10 for answers, +10 for content read lately; "no answer" keeps
    what the doctor showed before."""
    if outcome == Outcome.NO_ANSWER:
        return previous
    score = OUTCOME_INTENT.get(Outcome(outcome), 0)
    if outcome != Outcome.REFUSED:
        score += 10 * answered + 10 * engaged_recently
    return min(score, 100)


def _engaged_recently(hcp_id: int) -> bool:
    since = timezone.localdate() - dt.timedelta(days=30)
    return HcpDailyActivity.objects.filter(
        hcp_id=hcp_id, day__gte=since, event__in=("Content Read", "Video Watched")
    ).exists()


def _later(stage: str, other: str) -> str:
    return stage if STAGES.index(stage) >= STAGES.index(other) else other


@dataclass(frozen=True)
class CallDraft:
    outcome: str
    channel: str
    client_key: str
    notes: str = ""
    values: Mapping[str, Sequence[str]] | None = None
    callback_at: dt.datetime | None = None


def call_record(
    *, actor: Actor, target: ProgrammeTarget, draft: CallDraft
) -> tuple[OutreachCall, bool]:
    """Record a call; the same ``client_key`` again returns the call already stored."""
    if not may_edit(actor):
        raise ApplicationError(_("Only virtual reps and marketing record calls."), code="denied")
    if not draft.client_key or len(draft.client_key) > 64:
        raise ApplicationError(_("The form has no key; reload the page."), field="client_key")
    done = target.calls.filter(client_key=draft.client_key).first()
    if done is not None:
        return done, False
    if draft.outcome not in Outcome.values:
        raise ApplicationError(_("Choose the outcome of the call."), field="outcome")
    if draft.channel not in (VisitKind.PHONE, VisitKind.WECOM, VisitKind.VIDEO):
        raise ApplicationError(_("Choose phone, video or WeCom."), field="channel")
    now = timezone.now()
    if draft.callback_at is not None and draft.callback_at <= now:
        raise ApplicationError(_("A call-back is a time in the future."), field="callback_at")
    answers = _answers(target.programme, draft.values or {})
    try:
        with transaction.atomic():
            call = OutreachCall.objects.create(
                target=target,
                channel=draft.channel,
                outcome=draft.outcome,
                notes=draft.notes.strip()[:2000],
                answers=answers,
                by_id=actor.pk,
                client_key=draft.client_key,
                at=now,
            )
            locked = ProgrammeTarget.objects.select_for_update().get(pk=target.pk)
            stage = OUTCOME_STAGE[Outcome(draft.outcome)]
            if answers and stage in (TargetStage.PENDING, TargetStage.REACHED):
                stage = TargetStage.ENGAGED
            locked.stage = _later(locked.stage, stage)
            locked.last_outcome = draft.outcome
            locked.attempts += 1
            locked.callback_at = draft.callback_at
            locked.answers = {**locked.answers, **answers}
            locked.intent = intent_score(
                outcome=draft.outcome,
                answered=bool(locked.answers),
                engaged_recently=_engaged_recently(locked.hcp_id),
                previous=locked.intent,
            )
            locked.save()
            activity_record(
                module="fieldforce",
                events=[
                    {
                        "message_id": f"call:{call.pk}",
                        "hcp_id": locked.hcp_id,
                        "event": "Outreach Call",
                        "occurred_at": now,
                        "channel": draft.channel,
                        "properties": {
                            "programme": target.programme.name,
                            "outcome": draft.outcome,
                        },
                    }
                ],
            )
            audit_append(
                actor=actor,
                action="programme.call",
                object_type="programme_target",
                object_id=target.pk,
                after={"outcome": draft.outcome, "answers": len(answers)},
            )
    except IntegrityError:  # the same form submitted twice at once
        return target.calls.get(client_key=draft.client_key), False
    target.refresh_from_db()
    return call, True


def field_rep_for(target: ProgrammeTarget) -> Employee | None:
    """The active rep covering the doctor's hospital — in the programme brand's business unit
    when it has a brand — preferring the one who saw the doctor last."""
    reps = reps_covering_hco(hco_id=target.hcp.primary_hco_id).filter(is_active=True)
    product = target.programme.product
    if product is not None:
        reps = reps.filter(
            territory_periods__territory__business_unit_id=product.business_unit_id
        ).distinct()
    candidates = list(reps)
    last = (
        Visit.objects.filter(hcp_id=target.hcp_id, rep__in=candidates)
        .order_by("-started_at")
        .values_list("rep_id", flat=True)
        .first()
    )
    return next((r for r in candidates if r.pk == last), candidates[0] if candidates else None)


def handoff(*, actor: Actor, target: ProgrammeTarget, note: str = "") -> Task:
    """Hand the doctor to the field rep: a task with the answers, and a WeCom message."""
    if not may_edit(actor):
        raise ApplicationError(_("Only virtual reps and marketing hand off."), code="denied")
    if target.stage not in (TargetStage.INTERESTED, TargetStage.ENGAGED, TargetStage.HANDED_OFF):
        raise ApplicationError(
            _("Hand off a doctor who showed interest; record the call first."), field="target"
        )
    rep = field_rep_for(target)
    if rep is None:
        raise ApplicationError(
            _(
                "No active field rep covers %(hospital)s (the territory is vacant or its rep "
                "left); the doctor stays with you until a rep is assigned."
            )
            % {"hospital": target.hcp.primary_hco.name},
            field="target",
        )
    wants = target.get_last_outcome_display() if target.last_outcome else ""
    title = _("%(who)s: %(wants)s (%(programme)s)") % {
        "who": target.hcp.name,
        "wants": wants or _("interested"),
        "programme": target.programme.name,
    }
    sender = getattr(getattr(actor, "employee", None), "name", "") or str(actor)
    with transaction.atomic():
        task, created = task_open(
            assignee=rep,
            hcp=target.hcp,
            source=TaskSource.VIRTUAL_REP,
            title=title,
            due_on=timezone.localdate() + dt.timedelta(days=HANDOFF_DAYS),
            dedupe_key=f"vr:{target.programme_id}:{target.hcp_id}",
            signal_at=timezone.now(),
            detail={
                "why": "virtual_rep",
                "programme": target.programme_id,
                "target": target.pk,
                "answers": target.answers,
                "outcome": target.last_outcome,
                "note": note.strip()[:500],
                "from": sender,
            },
        )
        ProgrammeTarget.objects.filter(pk=target.pk).update(
            stage=TargetStage.HANDED_OFF,
            handoff_task=task,
            handed_off_at=target.handed_off_at or timezone.now(),
        )
        if created:
            audit_append(
                actor=actor,
                action="programme.handoff",
                object_type="programme_target",
                object_id=target.pk,
                after={"rep": rep.pk, "task": task.pk},
            )
    if created:
        task_notify(task, rep, title=_("Hand-off from a virtual rep"), text=title)
    target.refresh_from_db()
    return task


def handoff_feedback(*, actor: Actor, task: Task, text: str) -> ProgrammeTarget:
    """The field rep's word on a hand-off, back on the virtual rep's target."""
    text = text.strip()
    if not text:
        raise ApplicationError(_("Write what happened."), field="feedback")
    target = ProgrammeTarget.objects.filter(pk=task.detail.get("target"), handoff_task=task).first()
    if task.source != TaskSource.VIRTUAL_REP or target is None:
        raise NotFoundError(_("No such hand-off."))
    with transaction.atomic():
        target.field_feedback = text[:2000]
        target.save(update_fields=["field_feedback", "updated_at"])
        task.detail = {**task.detail, "feedback": text[:2000]}
        task.save(update_fields=["detail", "updated_at"])
        audit_append(
            actor=actor,
            action="programme.feedback",
            object_type="programme_target",
            object_id=target.pk,
            after={"task": task.pk},
        )
    return target


def outreach_send(
    *, actor: Actor, programme: Programme, scope: DataScope, item_id: int | None, channel: str
) -> Any:
    """Send the script (or other approved content) to the targets not reached yet, now."""
    if not may_edit(actor):
        raise ApplicationError(_("Only virtual reps and marketing send."), code="denied")
    item_id = item_id or programme.script_id
    item = ContentItem.objects.filter(pk=item_id).first() if item_id else None
    if item is None or not content_is_sendable(item=item):
        raise ApplicationError(_("Choose approved content that may be sent."), field="item")
    ids = tuple(
        programme.targets.filter(stage=TargetStage.PENDING)
        .order_by("id")
        .values_list("hcp_id", flat=True)[: campaigns.MAX_AUDIENCE]
    )
    if not ids:
        raise ApplicationError(_("Every target has been reached."), field="item")
    campaign = campaigns.campaign_create(
        actor=actor,
        scope=scope,
        draft=campaigns.CampaignDraft(
            name=f"{programme.name} · {timezone.localtime():%Y-%m-%d %H:%M}",
            item_id=item.pk,
            channel=channel,
            scheduled_at=timezone.now(),
            hcp_ids=ids,
            audience_label=programme.name,
        ),
    )
    ProgrammeCampaign.objects.create(programme=programme, campaign=campaign)
    return campaign


def responses_absorb(*, programme: Programme) -> int:
    """Answers doctors gave through the programme's sends: those targets count as engaged."""
    sent = CampaignRecipient.objects.filter(
        campaign_id__in=programme.campaigns.values("campaign_id"), delivery_id__isnull=False
    ).values("delivery_id")
    answered = Response.objects.filter(delivery_id__in=sent).values("hcp_id")
    return programme.targets.filter(
        stage__in=(TargetStage.PENDING, TargetStage.REACHED), hcp_id__in=answered
    ).update(stage=TargetStage.ENGAGED)


@dataclass(frozen=True)
class FunnelStep:
    label: str
    count: int
    share: float  # of the targets


def programme_funnel(*, programme: Programme) -> list[FunnelStep]:
    targets = programme.targets.all()
    at_least = targets.aggregate(
        total=Count("id"),
        **{
            stage: Count("id", filter=Q(stage__in=STAGES[STAGES.index(stage) :]))
            for stage in STAGES[1:]
        },
    )
    total = at_least["total"]
    handed = targets.filter(handed_off_at__isnull=False)
    visited = handed.filter(
        Exists(
            Visit.objects.filter(
                hcp_id=OuterRef("hcp_id"), created_at__gte=OuterRef("handed_off_at")
            )
        )
    )
    moves = AdoptionEvent.objects.filter(
        hcp_id=OuterRef("hcp_id"),
        kind=AdoptionEvent.Kind.CHANGE,
        created_at__gte=OuterRef("handed_off_at"),
    )
    if programme.product_id:
        moves = moves.filter(product_id=programme.product_id)
    moved = handed.filter(Exists(moves))
    counts = [
        (_("Targets"), total),
        (_("Reached"), at_least[TargetStage.REACHED]),
        (_("Engaged"), at_least[TargetStage.ENGAGED]),
        (_("Interested"), at_least[TargetStage.INTERESTED]),
        (_("Handed off"), at_least[TargetStage.HANDED_OFF]),
        (_("Visited"), visited.count()),
        (_("Adoption stage moved"), moved.count()),
    ]
    return [FunnelStep(str(label), n, n / total if total else 0.0) for label, n in counts]


def targets_page(
    *, programme: Programme, stage: str = "", due: bool = False
) -> QuerySet[ProgrammeTarget]:
    """The programme's targets, call-backs due first when ``due``, else by intent."""
    rows = programme.targets.select_related("hcp__primary_hco", "hcp__department")
    if stage in STAGES:
        rows = rows.filter(stage=stage)
    if due:
        return rows.filter(callback_at__lte=timezone.now()).order_by("callback_at")
    return rows.order_by("-intent", "id")


def target_get(*, programme: Programme, target_id: int) -> ProgrammeTarget:
    target = (
        programme.targets.select_related("hcp__primary_hco", "hcp__department", "handoff_task")
        .filter(pk=target_id)
        .first()
    )
    if target is None:
        raise NotFoundError(_("No such target."))
    return target

"""The demo company's field force: this month's call plans, the Hangzhou rep's visits of the
last weeks (one with a next step, one checked in far from the hospital), two doctors who
read an article to the end just now — hot leads on the rep's today page — a virtual rep's
outreach programme with a hand-off to the Hangzhou rep, and a product course for new reps."""

from __future__ import annotations

import datetime as dt
import random

from django.db.models import QuerySet
from django.utils import timezone

from omnihcp.engagement import delivery, training
from omnihcp.engagement.models import ContentItem, Delivery
from omnihcp.fieldforce import programmes, services
from omnihcp.fieldforce.callplans import call_plans_generate, rep_plan
from omnihcp.fieldforce.handoffs import handoffs_from_signals
from omnihcp.org.models import Employee, Product, User
from omnihcp.org.selectors import rep_hco_ids, scope_for_user

FEEDBACK = (
    "关注长期血压控制，希望看到更多真实世界数据",
    "对新剂型有兴趣，担心医保报销",
    "科室已在试用，反馈依从性好",
    "时间紧，约下周再谈",
)


def demo_fieldforce(rng: random.Random) -> None:
    call_plans_generate()
    rep = Employee.objects.filter(user__username="rep_hangzhou").select_related("user").first()
    plan = rep_plan(rep=rep) if rep is not None else None
    if rep is None or rep.user is None or plan is None:
        return
    now = timezone.now()
    lines = list(plan.lines.select_related("hcp__primary_hco").order_by("tier", "hcp_id")[:6])
    for n, line in enumerate(lines):
        hco = line.hcp.primary_hco
        started = now - dt.timedelta(days=n * 3 + 1, hours=rng.randint(1, 6))
        far = n == 4
        check_in = (
            services.Location(hco.latitude + (0.03 if far else 0.0008), hco.longitude)
            if hco is not None and hco.latitude is not None and hco.longitude is not None
            else None
        )
        services.visit_log(
            actor=rep.user,
            draft=services.VisitDraft(
                hcp_id=line.hcp_id,
                kind="f2f" if check_in else "phone",
                started_at=started,
                ended_at=started + dt.timedelta(minutes=rng.randint(8, 25)),
                client_key=f"demo-visit-{n}",
                check_in=check_in,
                feedback=FEEDBACK[n % len(FEEDBACK)],
                next_step="带最新指南解读再访" if n == 0 else "",
                next_step_due=timezone.localdate() + dt.timedelta(days=1) if n == 0 else None,
            ),
        )
    handoffs_from_signals(settle=dt.timedelta(0))  # the month so far is not news
    read = Delivery.objects.filter(
        hcp_id__in=plan.lines.values("hcp_id"), opened_at__isnull=False
    ).order_by("-opened_at")[:2]
    for sent in read:
        delivery.delivery_record(
            delivery=sent,
            kind="read",
            view_id=f"demo-hot-{sent.pk}",
            data={"dwell_seconds": 180.0, "scroll_depth": 1.0},
        )
    handoffs_from_signals(settle=dt.timedelta(0))
    demo_outreach()


def demo_outreach() -> None:
    """The virtual rep's programme (3A/3B chiefs at hospitals nobody visited this year, with the
    demo survey as its script) with a few calls and one hand-off to the Hangzhou rep, and a
    product course assigned to the two city reps."""
    vrep = User.objects.filter(username="vrep").first()
    marketing = User.objects.filter(username="marketing").first()
    script = programmes.script_choices().filter(kind="survey").first()
    if vrep is None or marketing is None:
        return
    brand = Product.objects.filter(business_unit__code="CV").order_by("code").first()
    programme = programmes.programme_create(
        actor=vrep,
        draft=programmes.ProgrammeDraft(
            name="集采医院未覆盖主任回访",
            description="集采中标医院里今年无人拜访过的主任：电话了解用药，愿意见面的转交代表",
            product_id=brand.pk if brand else None,
            rule='hco_level in ("3A", "3B") and title = "chief_physician"',
            unvisited_days=365,
            script_id=script.pk if script else None,
        ),
    )
    programmes.targets_build(actor=vrep, programme=programme, scope=scope_for_user(user=vrep))
    rep = Employee.objects.filter(user__username="rep_hangzhou").first()
    covered = set(rep_hco_ids(employee=rep).values_list("hco_id", flat=True)) if rep else set()
    targets = list(programme.targets.select_related("hcp").order_by("id")[:40])
    mine = [t for t in targets if t.hcp.primary_hco_id in covered][:1]
    others = [t for t in targets if t not in mine][:3]
    later = timezone.now() + dt.timedelta(days=2)
    outcomes = ("interested", "no_answer", "not_now")
    for n, target in enumerate([*mine, *others]):
        outcome = "wants_visit" if target in mine else outcomes[n % len(outcomes)]
        programmes.call_record(
            actor=vrep,
            target=target,
            draft=programmes.CallDraft(
                outcome=outcome,
                channel="phone",
                client_key=f"demo-call-{target.pk}",
                notes="下午门诊后方便" if outcome == "wants_visit" else "",
                values={"q1": ["0"]} if outcome in ("wants_visit", "interested") else {},
                callback_at=later if outcome in ("no_answer", "not_now") else None,
            ),
        )
    for target in mine:
        target.refresh_from_db()
        programmes.handoff(actor=vrep, target=target, note="希望了解集采后的供货安排")
    quiz = training_choices(kind="quiz").first()
    reading = list(training_choices(kind="article")[:2])
    if quiz is None or not reading:
        return
    course = training.course_create(
        actor=marketing,
        draft=training.CourseDraft(
            title="新代表心血管产品培训",
            description="产品机制、临床证据和常见异议；80 分通过",
            item_ids=[i.pk for i in reading],
            quiz_id=quiz.pk,
            product_id=brand.pk if brand else None,
        ),
    )
    reps = Employee.objects.filter(user__username__in=("rep_hangzhou", "rep_beijing"))
    training.course_assign(
        actor=marketing,
        course=course,
        employee_ids=list(reps.values_list("pk", flat=True)),
        due_on=timezone.localdate() + dt.timedelta(days=14),
    )


def training_choices(*, kind: str) -> QuerySet[ContentItem]:
    return ContentItem.objects.filter(kind=kind, approved_version__isnull=False).order_by("pk")

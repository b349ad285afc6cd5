"""The demo company's field force: this month's call plans, the Hangzhou rep's visits of the
last weeks (one with a next step, one checked in far from the hospital), and two doctors who
read an article to the end just now — hot leads on the rep's today page."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from omnihcp.engagement import delivery
from omnihcp.engagement.models import Delivery
from omnihcp.fieldforce import services
from omnihcp.fieldforce.callplans import call_plans_generate, rep_plan
from omnihcp.fieldforce.handoffs import handoffs_from_signals
from omnihcp.org.models import Employee

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

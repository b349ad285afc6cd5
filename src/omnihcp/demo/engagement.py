"""The demo company's last month of engagement, so that ``make demo`` opens on live pages.

Everything goes through the engagement services, as the platform itself would have written
it: marketing writes six content items (articles, a case, a quiz and a survey with questions)
and medical approves them; the two demo reps record their doctors' consent (dated before the
first message) and share content over the past 30 days; some doctors open, read, forward,
answer the quiz or the survey; one campaign has gone out and another waits for next week. The
activity rollups are brought up to date; tag definitions of the three categories and kinds are
added, the rule tags computed and some manual tags set by the reps. Seeded, so two runs give the
same month.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from omnihcp.core.scope import DataScope
from omnihcp.demo.fieldforce import demo_fieldforce
from omnihcp.engagement import campaigns, consent, delivery, questionnaire, services
from omnihcp.engagement.models import ContentItem, Question
from omnihcp.masterdata.selectors import hcp_list
from omnihcp.org.models import Employee, Product, User
from omnihcp.org.selectors import scope_for_user
from omnihcp.profiles import adoption, interests, nba, segments, tiers
from omnihcp.profiles import services as tag_services
from omnihcp.profiles.recommend import nbc_train
from omnihcp.tracking.rollups import activity_rollup

DAYS = 30
DOCTORS_PER_REP = 120
Q = questionnaire.QuestionDraft

CONTENT = (
    (
        "article",
        "高血压长期管理：2024 中国指南要点",
        "一般患者降压目标 <130/80 mmHg；起始联合治疗；家庭血压监测。",
        (),
    ),
    (
        "article",
        "心力衰竭的四联疗法",
        "ARNI、β 受体阻滞剂、MRA 与 SGLT2 抑制剂如何尽早联合。",
        (),
    ),
    ("case", "病例分享：难治性高血压的排查", "一名 52 岁男性的诊疗经过与讨论。", ()),
    (
        "article",
        "家庭血压监测的正确方法",
        "测量时间、袖带选择与记录方法，附患者教育要点。",
        (),
    ),
    (
        "quiz",
        "降压知识小测验",
        "三道题，一分钟。",
        (
            Q(
                kind="single",
                text="一般高血压患者的降压目标是？",
                options="<140/90 mmHg\n* <130/80 mmHg\n<150/100 mmHg",
                explanation="2024 中国指南建议一般患者降至 <130/80 mmHg。",
            ),
            Q(
                kind="multiple",
                text="下列哪些属于一线降压药？",
                options="* ACEI\n* ARB\n* 钙通道阻滞剂\n硝酸甘油",
                explanation="ACEI、ARB、CCB、利尿剂和 β 受体阻滞剂为一线用药。",
            ),
            Q(
                kind="single",
                text="家庭血压的诊断阈值是？",
                options="* 135/85 mmHg\n140/90 mmHg",
                explanation="家庭血压 ≥135/85 mmHg 即可诊断。",
            ),
        ),
    ),
    (
        "survey",
        "学术内容偏好调研",
        "1 分钟，帮助我们只发您关心的内容。",
        (
            Q(
                kind="single",
                text="您更喜欢哪种学习形式？",
                options="短视频 => 内容偏好:视频\n文章 => 内容偏好:文章\n线上会议 => 内容偏好:会议",
            ),
            Q(
                kind="single",
                text="您方便阅读的时间？",
                options="早上 => 最佳时间:早上\n午休 => 最佳时间:午休\n晚上 => 最佳时间:晚上",
            ),
            Q(kind="rating", text="您对我们资料的总体评价", scale=5),
        ),
    ),
)


@dataclass(frozen=True)
class EngagementSummary:
    content: int
    deliveries: int
    responses: int


def _content(author: User, reviewer: User, today: dt.date) -> list[ContentItem]:
    product = Product.objects.order_by("code").first()
    if product is None:
        return []
    items = []
    for kind, title, summary, questions in CONTENT:
        item = services.content_create(
            actor=author,
            draft=services.ContentDraft(
                title=title,
                kind=kind,
                therapy_area_id=product.therapy_area_id,
                summary=summary,
                body=f"{summary}\n\n" + "\n".join(f"第 {n} 段。" for n in range(1, 13)),
                product_ids=(product.pk,),
                topics=("高血压",) if "血压" in title else ("心力衰竭",),
            ),
        )
        for question in questions:
            questionnaire.question_add(actor=author, item=item, draft=question)
        services.content_submit(actor=author, item=item)
        services.content_approve(
            actor=reviewer,
            item=item,
            approval_number=f"MLR-DEMO-{item.pk:03d}",
            valid_from=today - dt.timedelta(days=DAYS + 30),
            valid_until=today + dt.timedelta(days=180),
        )
        item.refresh_from_db()
        items.append(item)
    return items


def _answers(rng: random.Random, questions: list[Question]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for question in questions:
        kind, options = question.kind, question.options
        key = f"q{question.position}"
        if kind == "rating":
            values[key] = [str(rng.choice([3, 4, 4, 5, 5]))]
        elif kind == "multiple":
            right = [i for i, o in enumerate(options) if o["correct"]]
            picked = right if rng.random() < 0.5 else rng.sample(range(len(options)), 2)
            values[key] = [str(i) for i in picked]
        elif kind == "single":
            right = [i for i, o in enumerate(options) if o["correct"]]
            if right and rng.random() < 0.65:
                values[key] = [str(right[0])]
            else:
                values[key] = [str(rng.randrange(len(options)))]
    return values


def demo_engagement(*, seed: int) -> EngagementSummary:
    """Write the demo company's month of engagement (the database holds the demo company)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return _engagement(seed)
    # A thousand small durable transactions: on SQLite, commit without waiting for the disk
    # (WAL with synchronous=NORMAL), as a crash only costs a re-run of the demo.
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous=NORMAL")
    try:
        return _engagement(seed)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=FULL")


def _engagement(seed: int) -> EngagementSummary:
    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    author = User.objects.get(username="marketing")
    items = _content(author, User.objects.get(username="medical"), today)
    if not items:
        return EngagementSummary(0, 0, 0)
    weights = [5, 4, 3, 3, 3, 2]
    deliveries = responses = 0
    for rep in User.objects.filter(username__in=["rep_hangzhou", "rep_beijing"]).order_by("pk"):
        doctors = list(hcp_list(scope=scope_for_user(user=rep))[:DOCTORS_PER_REP])
        for hcp in doctors:
            first = now - dt.timedelta(days=rng.uniform(1, DAYS), hours=rng.uniform(0, 8))
            channels = ["wecom", "sms"] if hcp.mobile_masked else ["wecom"]
            consent.consent_record(
                hcp_id=hcp.pk,
                answers=[
                    (purpose, channel, True)
                    for purpose in ("marketing", "profiling")
                    for channel in channels
                ],
                source="rep",
                actor=rep,
                evidence={"note": "拜访时当面同意（演示数据）"},
                at=first - dt.timedelta(days=1),
            )
            for n in range(rng.choice([1, 1, 2, 3])):
                at = first + dt.timedelta(days=n * rng.uniform(1, 6))
                if at >= now:
                    break
                item = rng.choices(items, weights=weights)[0]
                sent = delivery.delivery_share(
                    actor=rep,
                    hcp=hcp,
                    item=item,
                    channel="sms" if "sms" in channels and rng.random() < 0.4 else "link",
                    base_url="http://127.0.0.1:8000/",
                    idempotency_key=f"demo-{hcp.pk}-{n}",
                    at=at,
                )
                deliveries += 1
                if rng.random() > 0.7:
                    continue
                opened = at + dt.timedelta(minutes=rng.uniform(2, 600))
                view = f"demo{sent.pk}"
                delivery.delivery_record(
                    delivery=sent, kind="open", view_id=view, data={}, at=opened
                )
                delivery.delivery_record(
                    delivery=sent,
                    kind="read",
                    view_id=view,
                    data={
                        "dwell_seconds": round(rng.uniform(8, 240), 1),
                        "scroll_depth": round(min(1.0, rng.uniform(0.2, 1.3)), 2),
                    },
                    at=opened + dt.timedelta(minutes=3),
                )
                if rng.random() < 0.1:
                    delivery.delivery_record(
                        delivery=sent, kind="forward", view_id=f"{view}-f1", data={}, at=opened
                    )
                questions = list(sent.version.questions.all())
                if questions and rng.random() < 0.7:
                    questionnaire.response_submit(
                        delivery=sent,
                        values=_answers(rng, questions),
                        at=opened + dt.timedelta(minutes=2),
                    )
                    responses += 1
    _campaigns(author, items, now)
    activity_rollup(batches=1_000, settle=dt.timedelta(0))
    area = items[0].therapy_area.name
    _tags(author, area, rng)
    for name, rule in SEGMENTS:
        segments.segment_save(
            actor=author,
            draft=segments.SegmentDraft(name=name.format(area=area), rule=rule.format(area=area)),
        )
    _adoption(items, rng)
    _suggestions(rng)
    demo_fieldforce(rng)
    return EngagementSummary(len(items), deliveries, responses)


def _suggestions(rng: random.Random) -> None:
    """The next-best-content model trained on the month, and the Hangzhou rep's next best
    actions of today, a few of them already answered (the feedback report has rows)."""
    nbc_train()
    rep = Employee.objects.filter(user__username="rep_hangzhou").first()
    if rep is None:
        return
    rows = nba.rep_actions(employee=rep, limit=12)
    for row in rows[6:9]:
        outcome = rng.choice(["done", "not_now", "not_relevant"])
        nba.action_feedback(
            employee=rep,
            suggestion_id=row.pk,
            outcome=outcome,
            reason="handled" if outcome == "not_relevant" else "",
        )


def _adoption(items: list[ContentItem], rng: random.Random) -> None:
    """Stages the reps recorded in visits, and the platform's proposals from engagement."""
    product = items[0].products.first()
    if product is None:
        return
    ladder = ["aware", "aware", "interested", "interested", "trial", "regular", "advocate"]
    engaged: list[int] = []
    for rep in User.objects.filter(username__in=["rep_hangzhou", "rep_beijing"]).order_by("pk"):
        doctors = list(hcp_list(scope=scope_for_user(user=rep))[:DOCTORS_PER_REP])
        engaged += [hcp.pk for hcp in doctors]
        for hcp in doctors[::3]:
            adoption.adoption_set(
                actor=rep, hcp=hcp, product=product, stage=rng.choice(ladder), reason="拜访评估"
            )
    adoption.adoption_propose(hcp_ids=engaged)
    interests.interests_write(hcp_ids=engaged)
    matrix = tiers.matrix_save(
        actor=User.objects.get(username="marketing"),
        product=product,
        draft=tiers.MatrixDraft(
            high_rule='hco_level = "3A" and title in ("chief_physician", "associate_chief")',
            medium_rule='hco_level in ("3A", "3B", "2A")',
            cells=tiers.DEFAULT_CELLS,
            frequencies=tiers.DEFAULT_FREQUENCIES,
        ),
    )
    tiers.tiers_compute(matrix=matrix)


TAGS = (
    ("学术影响力", "basic", "manual", "", "牵头或参与指南、在学会任职、常在会议讲课"),
    ("渠道偏好：企业微信", "marketing", "manual", "", "更愿意在企业微信里收到资料"),
    ("同行推荐", "value", "manual", "", "会向同行推荐我们的产品或资料"),
    ("{area}内容活跃", "marketing", "rule", 'reads(therapy_area="{area}", days=30) >= 2', ""),
    ("测验高分", "marketing", "rule", "quiz_score(days=90) >= 80", ""),
    ("主任医师", "basic", "rule", 'title = "chief_physician"', ""),
)


SEGMENTS = (
    ("杭州主任与副主任医师", 'city = "杭州市" and title in ("chief_physician", "associate_chief")'),
    ("{area}活跃读者", 'reads(therapy_area="{area}", days=30) >= 1'),
    ("测验高分未读完", "quiz_score(days=90) >= 80 and read_through(days=30) = 0"),
)


def _tags(author: User, area: str, rng: random.Random) -> None:
    """Tag definitions of the three categories and kinds; manual tags set by the reps."""
    manual = []
    for name, category, kind, rule, description in TAGS:
        definition = tag_services.tag_define(
            actor=author,
            draft=tag_services.TagDraft(
                name=name.format(area=area),
                category=category,
                kind=kind,
                rule=rule.format(area=area),
                description=description,
            ),
        )
        if kind == "rule":
            tag_services.tag_recompute(definition=definition)
        else:
            manual.append(definition)
    for rep in User.objects.filter(username__in=["rep_hangzhou", "rep_beijing"]).order_by("pk"):
        for hcp in hcp_list(scope=scope_for_user(user=rep))[:40]:
            definition = rng.choice(manual)
            value = rng.choice(["高", "中"]) if definition.name == "学术影响力" else ""
            tag_services.tag_set(actor=rep, hcp=hcp, definition=definition, value=value)


def _campaigns(author: User, items: list[ContentItem], now: dt.datetime) -> None:
    """One campaign sent today (its report shows skips for consent and the cap), one waiting."""
    scope = DataScope.system()
    codes = " ".join(
        hcp_list(scope=scope_for_user(user=User.objects.get(username="rep_hangzhou"))).values_list(
            "code", flat=True
        )[:200]
    )
    if os.environ.get("OMNIHCP_SMS_URL"):
        return  # a real gateway is configured: the demo sends no text message to anyone
    campaigns.campaign_create(
        actor=author,
        scope=scope,
        draft=campaigns.CampaignDraft(
            name="十一月 · 家庭血压监测",
            item_id=items[3].pk,
            channel="sms",
            scheduled_at=now,
            codes=codes,
        ),
    )
    moment = now
    while campaigns.in_quiet_hours(moment):
        moment += dt.timedelta(hours=1)
    while campaigns.campaign_send_due(now=moment, batch=500):
        pass
    campaigns.campaign_create(
        actor=author,
        scope=scope,
        draft=campaigns.CampaignDraft(
            name="十二月 · 心衰四联疗法",
            item_id=items[1].pk,
            channel="sms",
            scheduled_at=now + dt.timedelta(days=7),
            codes=codes,
        ),
    )

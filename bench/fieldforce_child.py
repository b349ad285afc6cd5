"""The Django side of ``bench/fieldforce.py``: run as ``python bench/fieldforce_child.py STEP``
with the environment of a bench database (``benchlib.Database.env``).

Steps:

* ``load VISITS`` — on a 1M-HCP demo company: the 150 demo reps become 500 (each demo
  territory is split in three or four, one new rep per part, its HCOs dealt out among them),
  a WeCom user for every employee, a tier matrix per business unit (3A chiefs A, four calls
  a month; 3A associate chiefs B, two; everyone else C, none) and its tiers, VISITS visits
  over five years (about eight a working day per rep; four in five to the rep's 200 target
  doctors), 60 tasks per rep (5 open hot leads, 10 open due tasks, the rest done), and daily
  engagement rollups after one recent visit in three (so call quality has something to
  find). Rows go in by the driver's bulk path (``executemany`` on SQLite, ``COPY`` on
  PostgreSQL).
* ``plans`` — every rep's call plan of this month made again (``call_plans_generate(refresh=
  True)``), the whole company: prints JSON ``{"seconds": …, "plans": …, "lines": …}``.
* ``judge`` — the call-quality job (``visits_judge``): every visit still waiting judged; on a
  fresh load that is all 5M (the backfill), later only the last two weeks' — prints JSON
  ``{"seconds": …, "judged": …}``.
* ``nba-refresh`` — every rep's next-best-action list of today computed again (the job that
  runs every 15 minutes): prints JSON ``{"seconds": …, "reps": …}``.
* ``today N`` / ``team N`` — N pages (Django's test client, the full middleware and template
  stack) after 5 warm-up pages: the today page of random reps, the team page of random district
  managers; prints JSON milliseconds. ``team-area N``: the team page of area managers;
  ``today-cold N``: the today page with no stored action lists (each page computes one).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sys
import time

import django
import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnihcp.config.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from omnihcp.fieldforce.callplans import call_plans_generate, month_of  # noqa: E402
from omnihcp.fieldforce.models import CallPlanLine  # noqa: E402
from omnihcp.fieldforce.team import visits_judge  # noqa: E402
from omnihcp.org.models import (  # noqa: E402
    Employee,
    Product,
    Role,
    Territory,
    TerritoryHCO,
    TerritoryRep,
    User,
)
from omnihcp.profiles import tiers  # noqa: E402
from omnihcp.profiles.models import RepActionList  # noqa: E402
from omnihcp.profiles.nba import nba_lists_refresh  # noqa: E402
from profiles_child import _bulk  # noqa: E402

UNUSABLE = "!"  # Django's mark of a password that never matches: bench users never log in
REPS = 500
TARGETS = 200
YEARS = 5
TASKS_PER_REP = 60
# Without adoption data every doctor's support is low: the 3A chiefs are A, the 3A associate
# chiefs B, everyone else C — reached by campaigns and virtual reps, not visits (0 a month).
CELLS = tiers.DEFAULT_CELLS | {"high/low": "A", "medium/low": "B"}
FREQUENCIES = {"A": 4, "B": 2, "C": 0}
KINDS = np.array(["f2f", "f2f", "f2f", "video", "phone", "wecom"])
FEEDBACK = np.array(["", "", "", "关注新指南的剂量推荐", "担心集采后的供货", "希望拿到病例资料"])


def _split_territories() -> int:
    """150 demo territories → 500: parts of each go to new reps of the same district."""
    rng = random.Random(6)
    territories = list(Territory.objects.order_by("pk").select_related("org_node"))
    existing = Employee.objects.count()
    made = 0
    need = REPS - Employee.objects.filter(position=Role.REP).count()
    start = dt.date(2024, 1, 1)
    for index, territory in enumerate(territories):
        parts = 4 if index % 3 == 0 else 3
        if made + parts - 1 > need:
            parts = need - made + 1
        if parts <= 1:
            break
        periods = list(
            TerritoryHCO.objects.filter(territory=territory, valid_to__isnull=True).order_by("pk")
        )
        rng.shuffle(periods)
        for part in range(1, parts):
            made += 1
            rep = Employee.objects.create(
                employee_no=f"B{existing + made:05d}",
                name=f"代表{existing + made}",
                org_node=territory.org_node,
                position=Role.REP,
            )
            child = Territory.objects.create(
                code=f"{territory.code}-{part}",
                name=f"{territory.name}-{part}",
                org_node=territory.org_node,
                business_unit_id=territory.business_unit_id,
            )
            TerritoryRep.objects.create(territory=child, employee=rep, valid_from=start)
            ids = [p.pk for p in periods[part::parts]]
            TerritoryHCO.objects.filter(pk__in=ids).update(territory=child)
    return made


def _users() -> int:
    employees = Employee.objects.filter(user__isnull=True)
    users = [
        User(
            username=f"bench_{e.employee_no}",
            password=UNUSABLE,
            role=e.position,
            display_name=e.name,
            wecom_userid=f"bench_{e.employee_no}",
        )
        for e in employees
    ]
    User.objects.bulk_create(users, batch_size=500)
    by_name = dict(User.objects.filter(username__startswith="bench_").values_list("username", "pk"))
    for e in employees:
        Employee.objects.filter(pk=e.pk).update(user_id=by_name[f"bench_{e.employee_no}"])
    return len(users)


def _tiers() -> dict[str, int]:
    counts: dict[str, int] = {}
    marketing = User.objects.get(username="marketing")
    for product in Product.objects.order_by("business_unit_id", "code").distinct():
        if Product.objects.filter(
            business_unit_id=product.business_unit_id, code__lt=product.code
        ).exists():
            continue  # one tiered brand per business unit
        matrix = tiers.matrix_save(
            actor=marketing,
            product=product,
            draft=tiers.MatrixDraft(
                high_rule='hco_level = "3A" and title = "chief_physician"',
                medium_rule='hco_level = "3A" and title = "associate_chief"',
                cells=CELLS,
                frequencies=FREQUENCIES,
            ),
        )
        for tier, n in tiers.tiers_compute(matrix=matrix).items():
            counts[tier] = counts.get(tier, 0) + n
    return counts


def _rep_doctors() -> dict[int, np.ndarray]:
    """Each rep's doctors (id, primary HCO) through today's territory periods."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tr.employee_id, h.id, h.primary_hco_id FROM org_territoryrep tr "
            "JOIN org_territoryhco th ON th.territory_id = tr.territory_id "
            "AND th.valid_to IS NULL "
            "JOIN masterdata_hcp h ON h.primary_hco_id = th.hco_id "
            "WHERE tr.valid_to IS NULL AND h.status = 'active'"
        )
        rows = np.array(cursor.fetchall(), dtype=np.int64)
    order = np.argsort(rows[:, 0], kind="stable")
    rows = rows[order]
    reps, starts = np.unique(rows[:, 0], return_index=True)
    return {
        int(rep): rows[start:end, 1:]
        for rep, start, end in zip(reps, starts, [*starts[1:], len(rows)], strict=True)
    }


def _stamp(values: np.ndarray) -> list[str]:
    """Timestamps as Django stores them: ``YYYY-MM-DD HH:MM:SS`` (UTC) on SQLite."""
    text = np.datetime_as_string(values, unit="s").tolist()
    if connection.vendor == "postgresql":
        return [t + "+00:00" for t in text]
    return [t.replace("T", " ") for t in text]


def _visits(total: int, doctors: dict[int, np.ndarray]) -> tuple[int, list[tuple[int, int]]]:
    rng = np.random.default_rng(7)
    now = timezone.now().replace(microsecond=0)
    per_rep = total // len(doctors)
    columns = [
        "created_at", "updated_at", "rep_id", "hcp_id", "hco_id", "kind", "started_at",
        "ended_at", "far_from_hco", "key_messages", "feedback", "objections", "next_step",
        "client_key",
    ]  # fmt: skip
    written, recent = 0, []
    horizon = np.datetime64(now.replace(tzinfo=None), "s")
    for rep_id, rows in doctors.items():
        targets = rows[rng.permutation(len(rows))[:TARGETS]]
        pick_target = rng.random(per_rep) < 0.8
        chosen = np.where(
            pick_target[:, None],
            targets[rng.integers(0, len(targets), per_rep)],
            rows[rng.integers(0, len(rows), per_rep)],
        )
        days = rng.integers(0, 365 * YEARS, per_rep)
        seconds = rng.integers(8 * 3600, 18 * 3600, per_rep)
        midnight = horizon.astype("datetime64[D]").astype("datetime64[s]")
        started = midnight - days.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
        started = np.minimum(started, horizon - np.timedelta64(3600, "s"))
        ended = started + np.timedelta64(1200, "s")
        start_text, end_text = _stamp(started), _stamp(ended)
        kinds = KINDS[rng.integers(0, len(KINDS), per_rep)]
        said = FEEDBACK[rng.integers(0, len(FEEDBACK), per_rep)]
        batch = [
            (
                end,
                end,
                rep_id,
                int(h),
                int(o),
                k,
                start,
                end,
                False,
                "",
                f,
                "",
                "",
                f"b{rep_id}-{i}",
            )
            for i, (start, end, (h, o), k, f) in enumerate(
                zip(start_text, end_text, chosen, kinds, said, strict=True)
            )
        ]
        _bulk("fieldforce_visit", columns, batch)
        written += len(batch)
        recent.extend((int(h), int(d)) for (h, _o), d in zip(chosen, days, strict=True) if d < 44)
    return written, recent


def _tasks(doctors: dict[int, np.ndarray]) -> int:
    rng = random.Random(8)
    today = timezone.localdate()
    now = _stamp(np.array([np.datetime64(timezone.now().replace(tzinfo=None), "s")]))[0]
    columns = [
        "created_at", "updated_at", "assignee_id", "hcp_id", "source", "title", "detail",
        "due_on", "status", "done_at", "dedupe_key", "signal_at", "notify_error",
    ]  # fmt: skip
    rows = []
    for rep_id, ids in doctors.items():
        for n in range(TASKS_PER_REP):
            hcp = int(ids[rng.randrange(len(ids)), 0])
            kind = "hot" if n < 5 else "due" if n < 15 else "done"
            source = "hot_signal" if kind == "hot" else "visit"
            status = "done" if kind == "done" else "open"
            due = today + dt.timedelta(days=rng.randrange(-3, 3))
            rows.append(
                (
                    now, now, rep_id, hcp, source, "跟进：阅读了新指南解读", "{}", due.isoformat(),
                    status, now if status == "done" else None, f"bench:{rep_id}:{n}",
                    now if kind == "hot" else None, "",
                )
            )  # fmt: skip
    _bulk("fieldforce_task", columns, rows)
    return len(rows)


def _engagement(recent: list[tuple[int, int]]) -> int:
    """One recent visit in three is followed by a read within 14 days."""
    rng = random.Random(9)
    today = timezone.localdate()
    seen: set[tuple[int, str]] = set()
    rows = []
    for hcp, days_ago in recent[::3]:
        day = today - dt.timedelta(days=max(days_ago - rng.randrange(1, 14), 0))
        key = (hcp, day.isoformat())
        if key in seen:
            continue
        seen.add(key)
        stamp = f"{day.isoformat()} 12:00:00" + (
            "+00:00" if connection.vendor == "postgresql" else ""
        )
        rows.append((hcp, day.isoformat(), "Content Read", "", 1, 60.0, stamp))
    _bulk(
        "tracking_hcpdailyactivity",
        ["hcp_id", "day", "event", "channel", "count", "seconds", "last_at"],
        rows,
    )
    return len(rows)


def load(total: int) -> None:
    started = time.perf_counter()
    report: dict[str, object] = {}
    with transaction.atomic():
        report["reps_added"] = _split_territories()
        report["users_added"] = _users()
    report["tiers"] = _tiers()
    doctors = _rep_doctors()
    report["reps"] = len(doctors)
    report["doctors_per_rep"] = int(np.median([len(v) for v in doctors.values()]))
    with transaction.atomic():
        report["visits"], recent = _visits(total, doctors)
        report["tasks"] = _tasks(doctors)
        report["rollups"] = _engagement(recent)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report))


def plans() -> None:
    started = time.perf_counter()
    made = call_plans_generate(refresh=True)
    seconds = time.perf_counter() - started
    lines = CallPlanLine.objects.filter(plan__month=month_of(timezone.localdate())).count()
    print(json.dumps({"seconds": round(seconds, 1), "plans": made, "lines": lines}))


def judge() -> None:
    started = time.perf_counter()
    judged = visits_judge()
    print(json.dumps({"seconds": round(time.perf_counter() - started, 1), "judged": judged}))


def nba_refresh() -> None:
    started = time.perf_counter()
    reps = nba_lists_refresh()
    print(json.dumps({"seconds": round(time.perf_counter() - started, 1), "reps": reps}))


def pages(kind: str, n: int) -> None:
    if kind == "today-cold":  # no stored list: each page computes the rep's actions
        RepActionList.objects.all().delete()
        kind = "today"
    position = {"today": Role.REP, "team": Role.DISTRICT_MANAGER, "team-area": Role.AREA_MANAGER}
    users = list(
        Employee.objects.filter(position=position[kind], is_active=True, user__isnull=False)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )
    path = "/ff/today/" if kind == "today" else "/ff/team/"
    rng = random.Random(11)
    clients: dict[int, Client] = {}
    times = []
    for i in range(n + 5):
        user_id = rng.choice(users)
        if user_id not in clients:
            clients[user_id] = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
            clients[user_id].force_login(User.objects.get(pk=user_id))
        started = time.perf_counter()
        response = clients[user_id].get(path)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path} as {user_id}: {response.status_code}")
        if i >= 5:
            times.append(elapsed)
    print(json.dumps(times))


if __name__ == "__main__":
    step = sys.argv[1]
    if step == "load":
        load(int(sys.argv[2]))
    elif step == "plans":
        plans()
    elif step == "nba-refresh":
        nba_refresh()
    elif step == "judge":
        judge()
    else:
        pages(step, int(sys.argv[2]))

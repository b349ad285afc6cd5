"""Background jobs of field force (django-tasks), listed in ``config/schedule.py``."""

from __future__ import annotations

from django_tasks import task

from omnihcp.fieldforce.callplans import call_plans_generate
from omnihcp.fieldforce.handoffs import handoffs_from_signals
from omnihcp.fieldforce.reminders import dcr_outcomes_notify, task_reminders_send
from omnihcp.fieldforce.team import visits_judge
from omnihcp.fieldforce.territories import handovers_apply


@task()
def handoffs_from_signals_task() -> int:
    """Hot signals of the last minute as tasks and WeCom messages to the owning reps."""
    return handoffs_from_signals().tasks_opened


@task()
def call_plans_task() -> int:
    """This month's call plan of every rep who has none yet: plans generated."""
    return call_plans_generate()


@task()
def handovers_apply_task() -> int:
    """Territory changes whose day has come: tasks follow the doctors, the new rep is told."""
    return handovers_apply()


@task()
def dcr_outcomes_task() -> int:
    """Data stewards' decisions on reps' requests, as tasks and WeCom messages to the reps."""
    return dcr_outcomes_notify()


@task()
def task_reminders_task() -> int:
    """The morning WeCom reminder of the tasks due today (once a day)."""
    return task_reminders_send()


@task()
def visits_judge_task() -> int:
    """Call quality: the visits whose doctor has since engaged, or whose 14 days are over."""
    return visits_judge()

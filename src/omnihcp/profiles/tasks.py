"""Background jobs of profiles (django-tasks), listed in ``config/schedule.py``: rule tags
follow new activity within minutes, and are recomputed in full every night."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from omnihcp.engagement.selectors import hcp_ids_engaged_since
from omnihcp.profiles.adoption import adoption_propose
from omnihcp.profiles.interests import WINDOW_DAYS, interests_write
from omnihcp.profiles.models import RecomputeCursor, TierMatrix
from omnihcp.profiles.nba import nba_lists_refresh
from omnihcp.profiles.recommend import nbc_train, suggestions_follow_opens
from omnihcp.profiles.services import tags_follow_merges, tags_from_answers, tags_recompute_all
from omnihcp.profiles.tiers import tiers_compute
from omnihcp.tracking.selectors import hcp_ids_active_since

CURSOR = "rule-tags"
FIRST_LOOK_BACK = dt.timedelta(days=1)


def tags_follow_activity(*, now: dt.datetime | None = None) -> int:
    """Recompute the rule tags of doctors with activity since the last run, propose their
    adoption-stage moves, set the tags their survey answers carry, and mark the suggested
    content they opened; tags changed."""
    now = now or timezone.now()
    with transaction.atomic():
        cursor, _created = RecomputeCursor.objects.select_for_update().get_or_create(
            name=CURSOR, defaults={"at": now - FIRST_LOOK_BACK}
        )
        since = cursor.at
        cursor.at = now
        cursor.save(update_fields=["at"])
    moved = tags_from_answers(since=since, until=now) + tags_follow_merges()
    suggestions_follow_opens()
    hcp_ids = hcp_ids_active_since(since) | hcp_ids_engaged_since(since)
    if not hcp_ids:
        return moved
    adoption_propose(hcp_ids=hcp_ids)
    interests_write(hcp_ids=hcp_ids)
    return moved + tags_recompute_all(hcp_ids=hcp_ids)


@task()
def tags_follow_activity_task() -> int:
    """Rule tags of doctors who just read, answered or did anything else."""
    return tags_follow_activity()


@task()
def tags_recompute_all_task() -> int:
    """Every rule tag for every doctor (rules over time windows change without activity), and
    the interests of every doctor who engaged in their window (they decay day by day)."""
    engaged = hcp_ids_engaged_since(timezone.now() - dt.timedelta(days=WINDOW_DAYS))
    return tags_recompute_all() + interests_write(hcp_ids=engaged)


@task()
def tiers_compute_task() -> int:
    """Every product's tiers (stages and rules change during the day): doctors tiered."""
    return sum(sum(tiers_compute(matrix=m).values()) for m in TierMatrix.objects.all())


@task()
def nbc_train_task() -> int:
    """The next-best-content model, trained on all engagement: doctors in the model."""
    return nbc_train().doctors


@task()
def nba_lists_refresh_task() -> int:
    """Every rep's next-best-action list of today, computed again (the today page reads it)."""
    return nba_lists_refresh()

"""Background jobs of engagement (django-tasks), run by ``omnihcp scheduler`` as listed in
``config/schedule.py``; each is idempotent and works in bounded batches."""

from __future__ import annotations

from django_tasks import task

from omnihcp.engagement.campaigns import campaign_send_due
from omnihcp.engagement.services import content_expire_due


@task()
def expire_content_task() -> int:
    """Mark approved content past its validity as expired, so it can no longer be sent."""
    return content_expire_due()


@task()
def send_campaigns_task() -> int:
    """Send the next batch of every due campaign (nothing in quiet hours)."""
    return campaign_send_due()

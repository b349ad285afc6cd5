"""Every periodic job, listed once with the reason it runs (STYLE.md rule 9).

``omnihcp scheduler`` enqueues each task when ``every_seconds`` have passed since it was last
enqueued; ``omnihcp worker`` runs it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    task_path: str
    every_seconds: int
    reason: str


HOUR = 60 * 60
DAY = 24 * HOUR

MINUTE = 60

SCHEDULE: tuple[Schedule, ...] = (
    Schedule(
        "omnihcp.tracking.tasks.roll_up_activity_task",
        MINUTE,
        "pages read activity rollups, never raw events; newly matched identities' events "
        "join their HCP's timeline within a minute",
    ),
    Schedule(
        "omnihcp.tracking.tasks.rebuild_activity_windows_task",
        5 * MINUTE,
        "rules over events(days=N) read per-doctor windows that must end today: rebuilt "
        "within minutes of midnight (asking is cheap; the rebuild runs once a day)",
    ),
    Schedule(
        "omnihcp.fieldforce.tasks.handoffs_from_signals_task",
        15,
        "when a doctor shows interest the owning rep hears within a minute (a task and a WeCom "
        "message): every 15 s, so queueing and sending fit in the minute",
    ),
    Schedule(
        "omnihcp.fieldforce.tasks.handovers_apply_task",
        HOUR,
        "a territory change dated ahead takes effect on its day: the open tasks follow the "
        "doctors and the new rep gets the handover within the hour after midnight",
    ),
    Schedule(
        "omnihcp.fieldforce.tasks.dcr_outcomes_task",
        MINUTE,
        "a rep hears of a data steward's decision on their request within minutes (a task and "
        "a WeCom message), while the doctor is still on their mind",
    ),
    Schedule(
        "omnihcp.fieldforce.tasks.task_reminders_task",
        15 * MINUTE,
        "the morning reminder of the day's tasks reaches reps soon after 08:00 (sent once a "
        "day; asking is cheap)",
    ),
    Schedule(
        "omnihcp.profiles.tasks.nba_lists_refresh_task",
        15 * MINUTE,
        "a rep's today page reads the day's next best actions as last computed: every rep's "
        "list is computed again every 15 minutes (a page computes a list older than 20)",
    ),
    Schedule(
        "omnihcp.fieldforce.tasks.visits_judge_task",
        5 * MINUTE,
        "the team page counts call quality from judgments stored on the visits: a doctor's "
        "response shows there within minutes",
    ),
    Schedule(
        "omnihcp.engagement.tasks.send_campaigns_task",
        MINUTE,
        "a scheduled campaign goes out within a minute of its time, in batches, and resumes "
        "after quiet hours",
    ),
    Schedule(
        "omnihcp.profiles.tasks.tags_follow_activity_task",
        MINUTE,
        "a doctor's rule tags change within minutes of what they read or answer",
    ),
    Schedule(
        "omnihcp.profiles.tasks.tags_recompute_all_task",
        DAY,
        "rules over time windows (read in the last 30 days) change without new activity",
    ),
    Schedule(
        "omnihcp.profiles.tasks.tiers_compute_task",
        DAY,
        "tiers follow the day's adoption stages; call plans read them in the morning",
    ),
    Schedule(
        "omnihcp.profiles.tasks.nbc_train_task",
        DAY,
        "next best content learns from the day's reads; the model is trained on all of them",
    ),
    Schedule(
        "omnihcp.fieldforce.tasks.call_plans_task",
        DAY,
        "a rep opens the new month with its call plan (a plan already made is left alone)",
    ),
    Schedule(
        "omnihcp.engagement.tasks.expire_content_task",
        HOUR,
        "content past its approval's validity must stop being sendable the day it ends",
    ),
    Schedule(
        "omnihcp.masterdata.tasks.take_quality_snapshot_task",
        DAY,
        "the data-quality page shows a trend of daily snapshots",
    ),
    Schedule(
        "omnihcp.masterdata.tasks.expire_abandoned_uploads_task",
        HOUR,
        "uploads never mapped hold personal information in clear; discard them after 24 hours",
    ),
)

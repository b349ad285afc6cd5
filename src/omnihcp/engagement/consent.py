"""Recording and checking consent (PIPL); see ``models_consent`` for what is kept.

``consent_record`` writes one event per purpose × channel answered and the current state
beside it, in one transaction with its audit row; ``consent_allows`` is the check every send
and every profiling step makes first. No answer on file means no: nothing is sent or profiled
on a purpose and channel the HCP has not agreed to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core.errors import ApplicationError
from omnihcp.engagement.models_consent import (
    Consent,
    ConsentChannel,
    ConsentEvent,
    ConsentPurpose,
    ConsentSource,
)
from omnihcp.governance.services import Actor, audit_append

# The privacy notice the HCP's page shows; a new text gets a new version, kept with each answer.
NOTICE_VERSION = "2026-11"


def consent_record(
    *,
    hcp_id: int,
    answers: Iterable[tuple[str, str, bool]],
    source: str,
    actor: Actor | None = None,
    evidence: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> list[ConsentEvent]:
    """Record the HCP's answers, each ``(purpose, channel, granted)``; ``at``: when the doctor
    answered, for consent carried over from another system (now by default)."""
    answers = list(answers)
    if not answers:
        raise ApplicationError(_("Choose at least one purpose and channel."), field="purpose")
    for purpose, channel, _granted in answers:
        if purpose not in ConsentPurpose.values:
            raise ApplicationError(_("Unknown purpose."), field="purpose")
        if channel not in ConsentChannel.values:
            raise ApplicationError(_("Unknown channel."), field="channel")
    if source not in ConsentSource.values:
        raise ApplicationError(_("Unknown source."), field="source")
    if source == ConsentSource.REP and not (evidence or {}).get("note", "").strip():
        raise ApplicationError(
            _("Say how the doctor agreed (e.g. in person on 11-20, or by WeCom message)."),
            field="note",
        )
    events = []
    with transaction.atomic(durable=True):
        for purpose, channel, granted in answers:
            event = ConsentEvent.objects.create(
                hcp_id=hcp_id,
                purpose=purpose,
                channel=channel,
                granted=granted,
                source=source,
                notice_version=NOTICE_VERSION,
                evidence=evidence or {},
                recorded_by_id=getattr(actor, "pk", None),
                created_at=at or timezone.now(),
            )
            Consent.objects.update_or_create(
                hcp_id=hcp_id,
                purpose=purpose,
                channel=channel,
                defaults={"granted": granted, "event": event},
            )
            events.append(event)
        audit_append(
            actor=actor,
            action="consent.record",
            object_type="masterdata.hcp",
            object_id=hcp_id,
            after={
                "source": source,
                "answers": [[p, c, g] for p, c, g in answers],
                "notice": NOTICE_VERSION,
            },
        )
    return events


def consent_withdraw(
    *, hcp_id: int, channel: str, source: str, evidence: dict[str, Any] | None = None
) -> list[ConsentEvent]:
    """Withdraw marketing and profiling on ``channel`` (what a withdrawal link does)."""
    answers = [
        (purpose, channel, False)
        for purpose in (ConsentPurpose.MARKETING, ConsentPurpose.PROFILING)
    ]
    return consent_record(hcp_id=hcp_id, answers=answers, source=source, evidence=evidence)


def consent_allows(*, hcp_id: int, purpose: str, channel: str) -> bool:
    """Whether the HCP's current answer for this purpose and channel is yes."""
    return Consent.objects.filter(
        hcp_id=hcp_id, purpose=purpose, channel=channel, granted=True
    ).exists()


def consent_current(*, hcp_id: int) -> dict[tuple[str, str], bool]:
    return {
        (row.purpose, row.channel): row.granted
        for row in Consent.objects.filter(hcp_id=hcp_id).only("purpose", "channel", "granted")
    }


def consent_history(*, hcp_id: int) -> QuerySet[ConsentEvent]:
    return ConsentEvent.objects.filter(hcp_id=hcp_id).select_related("recorded_by")

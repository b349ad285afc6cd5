"""Identity resolution on ingest: a message's ``userId`` / ``anonymousId`` → the golden HCP.

Per batch, in a few queries: the identities the stream has sent before (``TrackedIdentity``),
and for those seen for the first time the master data's links (``ExternalIdentity`` of the
source's platform code for a ``userId``; the blind indexes of a phone, openid or unionid sent
as traits). A first-seen identity is resolved here or recorded as pending; a pending one is
resolved only by the attach job (``rollups.activity_rollup``), which also attaches its earlier
events, so an event is never counted twice in the HCP rollups.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from omnihcp.masterdata.selectors_identity import hcp_ids_by_external_id, hcp_ids_by_hash
from omnihcp.tracking.bulk import insert_ignoring
from omnihcp.tracking.messages import Message
from omnihcp.tracking.models import EventType, TrackedIdentity

USER = TrackedIdentity.Kind.USER
ANONYMOUS = TrackedIdentity.Kind.ANONYMOUS
_IDENTITY_COLUMNS = (
    "stream",
    "kind",
    "value",
    "hcp",
    "user_id",
    "phone_hash",
    "openid_hash",
    "unionid_hash",
    "first_seen",
    "resolved_at",
)
HASH_FIELDS = {"phone": "phone_hash", "openid": "openid_hash", "unionid": "unionid_hash"}


@dataclass
class Seen:
    """What one batch says about one identity."""

    user_id: str = ""  # an anonymousId's userId, from an identify call
    hashes: dict[str, str] | None = None


def _keys(messages: Iterable[Message]) -> dict[tuple[str, str], Seen]:
    seen: dict[tuple[str, str], Seen] = {}
    for message in messages:
        if message.user_id:
            entry = seen.setdefault((USER, message.user_id), Seen())
            if message.hashes:
                entry.hashes = {**(entry.hashes or {}), **message.hashes}
        if message.anonymous_id:
            entry = seen.setdefault((ANONYMOUS, message.anonymous_id), Seen())
            if message.type == EventType.IDENTIFY and message.user_id:
                entry.user_id = message.user_id
    return seen


def resolve_batch(stream: str, messages: list[Message]) -> dict[tuple[str, str], int | None]:
    """Each identity of the batch → its HCP id (None: pending); records what is new."""
    seen = _keys(messages)
    known = _known(stream, seen)
    resolved = dict(known)
    fresh = {key: entry for key, entry in seen.items() if key not in known}
    found = _from_master(stream, fresh)
    now = timezone.now()
    new_rows = []
    for (kind, value), entry in fresh.items():
        hcp_id = found.get((kind, value))
        if hcp_id is None and kind == ANONYMOUS and entry.user_id:
            hcp_id = resolved.get((USER, entry.user_id)) or found.get((USER, entry.user_id))
        resolved[(kind, value)] = hcp_id
        hashes = entry.hashes or {}
        new_rows.append(
            (
                stream,
                kind,
                value,
                hcp_id,
                entry.user_id,
                hashes.get("phone", ""),
                hashes.get("openid", ""),
                hashes.get("unionid", ""),
                now,
                now if hcp_id else None,
            )
        )
    # Two requests may see the same new identity at once: the first row wins.
    insert_ignoring(TrackedIdentity, _IDENTITY_COLUMNS, ("stream", "kind", "value"), new_rows)
    _remember_links(stream, [key for key, hcp_id in known.items() if hcp_id is None], seen)
    return resolved


def _known(stream: str, seen: dict[tuple[str, str], Seen]) -> dict[tuple[str, str], int | None]:
    """Identities the stream sent before → their HCP id (None: still pending)."""
    if not seen:
        return {}
    users = [value for kind, value in seen if kind == USER]
    anonymous = [value for kind, value in seen if kind == ANONYMOUS]
    query = TrackedIdentity.objects.filter(
        Q(kind=USER, value__in=users) | Q(kind=ANONYMOUS, value__in=anonymous), stream=stream
    ).values_list("kind", "value", "hcp_id")
    return {(kind, value): hcp_id for kind, value, hcp_id in query}


def _from_master(stream: str, fresh: dict[tuple[str, str], Seen]) -> dict[tuple[str, str], int]:
    users = [value for kind, value in fresh if kind == USER]
    found: dict[tuple[str, str], int] = {}
    if users:
        by_id = hcp_ids_by_external_id(source=stream, external_ids=users)
        found.update(((USER, value), hcp_id) for value, hcp_id in by_id.items())
    for kind in HASH_FIELDS:
        wanted = {
            key: entry.hashes[kind]
            for key, entry in fresh.items()
            if key not in found and entry.hashes and kind in entry.hashes
        }
        if wanted:
            by_hash = hcp_ids_by_hash(kind=kind, hashes=set(wanted.values()))
            for key, value in wanted.items():
                if value in by_hash:
                    found[key] = by_hash[value]
    return found


def _remember_links(
    stream: str, pending: list[tuple[str, str]], seen: dict[tuple[str, str], Seen]
) -> None:
    """New traits or a new anonymousId → userId link of a pending identity, for the job."""
    news = [key for key in pending if seen[key].user_id or seen[key].hashes]
    if not news:
        return
    rows = TrackedIdentity.objects.filter(
        Q(kind=USER, value__in=[v for k, v in news if k == USER])
        | Q(kind=ANONYMOUS, value__in=[v for k, v in news if k == ANONYMOUS]),
        stream=stream,
        hcp__isnull=True,
    )
    changed = []
    for row in rows:
        entry = seen[(row.kind, row.value)]
        before = (row.user_id, row.phone_hash, row.openid_hash, row.unionid_hash)
        if entry.user_id:
            row.user_id = entry.user_id
        for kind, value in (entry.hashes or {}).items():
            setattr(row, HASH_FIELDS[kind], value)
        if (row.user_id, row.phone_hash, row.openid_hash, row.unionid_hash) != before:
            changed.append(row)
    if changed:
        TrackedIdentity.objects.bulk_update(changed, ["user_id", *HASH_FIELDS.values()])

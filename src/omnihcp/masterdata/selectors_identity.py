"""Identity resolution for other modules: which HCP an outside id or a hashed trait names.

Tracking asks here on every ingested batch, so each function answers many ids in one query.
A merged-away HCP resolves to its survivor, and a hash shared by several HCPs names none.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db.models import Count

from omnihcp.masterdata.models import HCP, ExternalIdentity, RecordStatus
from omnihcp.masterdata.models_platform import PlatformUser

MAX_HOPS = 10
_BATCH = 500


def _chunks(values: Collection[str]) -> Iterable[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _BATCH):
        yield ordered[start : start + _BATCH]


def hcp_survivor_ids(hcp_ids: Collection[int]) -> dict[int, int]:
    """Each id → the id of the HCP that now stands for it (itself unless merged away)."""
    result = {pk: pk for pk in hcp_ids}
    pending = set(hcp_ids)
    for _hop in range(MAX_HOPS):
        moved = dict(
            HCP.objects.filter(pk__in=pending, merged_into__isnull=False).values_list(
                "id", "merged_into_id"
            )
        )
        if not moved:
            break
        for original, current in result.items():
            if current in moved:
                result[original] = moved[current]
        pending = set(moved.values())
    return result


def hcp_ids_by_external_id(*, source: str, external_ids: Collection[str]) -> dict[str, int]:
    """``ExternalIdentity(source, external_id)`` → HCP id, for the ids that have one."""
    found: dict[str, int] = {}
    for chunk in _chunks(external_ids):
        rows = ExternalIdentity.objects.filter(
            source=source, external_id__in=chunk, hcp__isnull=False
        ).values_list("external_id", "hcp_id")
        found.update((external_id, hcp_id) for external_id, hcp_id in rows if hcp_id)
    return _survivors(found)


def hcp_ids_by_hash(*, kind: str, hashes: Collection[str]) -> dict[str, int]:
    """Blind indexes of a phone, an openid or a unionid → the one HCP they belong to.

    A phone is looked up on the HCPs' own mobile numbers and on matched platform users; an
    openid or unionid on matched platform users. A hash two different HCPs share names none.
    """
    field = {"phone": "phone_hash", "openid": "openid_hash", "unionid": "unionid_hash"}[kind]
    owners: dict[str, set[int]] = {}
    for chunk in _chunks(hashes):
        users = PlatformUser.objects.filter(**{f"{field}__in": chunk}, hcp__isnull=False)
        for value, hcp_id in users.values_list(field, "hcp_id"):
            owners.setdefault(value, set()).add(hcp_id)
        if kind == "phone":
            hcps = (
                HCP.objects.filter(mobile_hash__in=chunk, status=RecordStatus.ACTIVE)
                .values("mobile_hash")
                .annotate(n=Count("id"))
            )
            single = [row["mobile_hash"] for row in hcps if row["n"] == 1]
            rows = HCP.objects.filter(mobile_hash__in=single, status=RecordStatus.ACTIVE)
            for value, hcp_id in rows.values_list("mobile_hash", "id"):
                owners.setdefault(value, set()).add(hcp_id)
    return _survivors({value: ids.pop() for value, ids in owners.items() if len(ids) == 1})


def _survivors(found: dict[str, int]) -> dict[str, int]:
    if not found:
        return found
    survivors = hcp_survivor_ids(set(found.values()))
    return {key: survivors[hcp_id] for key, hcp_id in found.items()}


def hcp_with_merged_ids(hcp_id: int) -> list[int]:
    """The HCP and every HCP merged into it (at any depth): whose history it now carries."""
    ids = [hcp_id]
    frontier = [hcp_id]
    for _hop in range(MAX_HOPS):
        frontier = list(HCP.objects.filter(merged_into__in=frontier).values_list("id", flat=True))
        if not frontier:
            break
        ids.extend(frontier)
    return ids


def hcp_external_id(*, hcp_id: int, source: str) -> str:
    """The id ``source`` knows the HCP by (e.g. their WeCom external_userid), or ""."""
    return (
        ExternalIdentity.objects.filter(source=source, hcp_id=hcp_id)
        .order_by("-created_at")
        .values_list("external_id", flat=True)
        .first()
        or ""
    )

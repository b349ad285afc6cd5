"""Writes of third-party doctor-platform user lists: upload, column mapping, import, review.

A list is read with the file importer's reader (CSV or .xlsx, UTF-8 or GBK detected); its
columns are mapped to ``platform_rows.FIELDS``, suggested from Chinese and English headers.
The import goes:

1. read every row and check it (``platform_rows``); an error of the whole file (encoding,
   format, a required column missing from the mapping) records nothing but the failed list; a
   bad row is listed with its row number, field and reason, and the other rows go on;
2. place and match each row (``platform_matching``): hospital text → HCO, user → HCP (auto,
   review or unmatched). This reads only, so it runs before the write transaction and never
   holds the database's write lock while scoring;
3. write users, identity links and the audit row in one durable transaction.

A user is unique per platform: a later list updates it. A row equal to the one already stored
(same blind-indexed hash of its mapped values) is not matched again, so re-importing a list
is fast and keeps the stewards' decisions. Auto-matched and confirmed users own an
``ExternalIdentity(source=platform, external_id=user id)``; no other user does.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.importing.reader import FileError, read_table
from omnihcp.masterdata.models import HCP, ExternalIdentity, RecordStatus
from omnihcp.masterdata.models_platform import PlatformOutcome, PlatformUser, PlatformUserList
from omnihcp.masterdata.platform_matching import (
    HospitalResolver,
    Matcher,
    Outcome,
    Resolved,
    default_matcher,
    match_row,
)
from omnihcp.masterdata.platform_rows import (
    MAX_FILE_BYTES,
    PlatformRow,
    RowReader,
    check_mapping,
    mask_id,
    suggest_mapping,
)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_BATCH = 500
# --- services ------------------------------------------------------------------------------


def _user(actor: Actor | None) -> Any:
    # The CLI imports as "system"; only a signed-in user is recorded as the list's author.
    return actor if getattr(actor, "is_authenticated", False) else None


def _check_platform(code: str) -> str:
    code = code.strip()
    if not _CODE.match(code):
        raise ApplicationError(
            _("A platform code has up to 40 letters, digits, dots, dashes or underscores."),
            field="platform",
        )
    return code


def _fail(actor: Actor | None, user_list: PlatformUserList, error: Any) -> PlatformUserList:
    """Record a list that failed as a whole: the list and why, no user."""
    with transaction.atomic():
        user_list.status = PlatformUserList.Status.FAILED
        user_list.error = str(error)
        user_list.content = None
        user_list.rows_read = user_list.rejected = user_list.unchanged = 0
        user_list.auto = user_list.review = user_list.unmatched = 0
        user_list.rejected_rows = []
        user_list.finished_at = timezone.now()
        user_list.save()
        audit_append(
            actor=actor,
            action="platform_user_list.fail",
            object_type="platform_user_list",
            object_id=user_list.pk,
            after={
                "platform": user_list.platform,
                "file_name": user_list.file_name,
                "error": user_list.error,
            },
        )
    return user_list


def _last_mapping(platform: str) -> dict[str, str]:
    last = (
        PlatformUserList.objects.filter(platform=platform, status=PlatformUserList.Status.DONE)
        .order_by("-created_at", "-id")
        .values_list("mapping", flat=True)
        .first()
    )
    return dict(last or {})


def platform_list_stage(
    *, actor: Actor | None, platform: str, platform_name: str, file_name: str, content: bytes
) -> PlatformUserList:
    """Keep an uploaded list until its column mapping is confirmed.

    A file that cannot be read at all is recorded at once as a failed list; the same file
    uploaded again by the same person while still waiting reuses the waiting list.
    """
    code = _check_platform(platform)
    sha256 = hashlib.sha256(content).hexdigest()
    author = _user(actor)
    waiting = PlatformUserList.objects.filter(
        platform=code, sha256=sha256, status=PlatformUserList.Status.PENDING, created_by=author
    ).first()
    if waiting is not None:
        return waiting
    user_list = PlatformUserList(
        platform=code,
        platform_name=(platform_name.strip() or code)[:120],
        file_name=file_name[:255],
        sha256=sha256,
        created_by=author,
    )
    try:
        if len(content) > MAX_FILE_BYTES:
            raise FileError(
                _("The file is larger than %(size)s MB; split it and import the parts.")
                % {"size": MAX_FILE_BYTES // (1024 * 1024)}
            )
        table = read_table(file_name=file_name, content=content)
    except FileError as exc:
        return _fail(actor, user_list, exc.message)
    user_list.encoding = table.encoding
    user_list.columns = table.columns
    user_list.mapping = suggest_mapping(columns=table.columns, saved=_last_mapping(code))
    user_list.content = content
    user_list.save()
    return user_list


def platform_list_import(
    *,
    actor: Actor | None,
    platform: str,
    platform_name: str = "",
    file_name: str,
    content: bytes,
    mapping: dict[str, str] | None = None,
    matcher: Matcher | None = None,
) -> PlatformUserList:
    """Import one platform list at once (CLI, tests), with the suggested mapping unless given."""
    user_list = platform_list_stage(
        actor=actor,
        platform=platform,
        platform_name=platform_name,
        file_name=file_name,
        content=content,
    )
    if user_list.status != PlatformUserList.Status.PENDING:
        return user_list
    chosen = dict(user_list.mapping) if mapping is None else mapping
    return platform_list_run(actor=actor, user_list=user_list, mapping=chosen, matcher=matcher)


def platform_list_run(
    *,
    actor: Actor | None,
    user_list: PlatformUserList,
    mapping: dict[str, str],
    matcher: Matcher | None = None,
) -> PlatformUserList:
    """Import a staged list with the confirmed mapping: match its users and link them."""
    if user_list.status != PlatformUserList.Status.PENDING or user_list.content is None:
        raise ApplicationError(_("This list has already been imported."), field="file")
    started = time.perf_counter()
    content = bytes(user_list.content)
    try:
        table = read_table(file_name=user_list.file_name, content=content)
        used = check_mapping(mapping=mapping, columns=table.columns)
        reader = RowReader(table.columns, used)
        for number, values in table.rows:
            reader.add(number, values)
    except ApplicationError as exc:
        return _fail(actor, user_list, exc.message)
    run = reader.run
    existing = _stored(user_list.platform, [r.user_id for r in run.rows])
    hospitals = HospitalResolver()
    match = matcher or default_matcher
    outcomes: dict[str, tuple[Resolved, Outcome]] = {}
    for row in run.rows:
        known = existing.get(row.user_id)
        if known is None or known.row_hash != row.row_hash:
            place = hospitals.resolve(row)
            outcomes[row.user_id] = (place, match_row(row, place, match))
    with transaction.atomic(durable=True):
        # Lock order: the list row first, so a retried request finds it imported and stops;
        # then users and identities; the audit head last (governance).
        locked = PlatformUserList.objects.select_for_update().filter(pk=user_list.pk).first()
        if locked is None or locked.status != PlatformUserList.Status.PENDING:
            raise ApplicationError(_("This list has already been imported."), field="file")
        user_list.mapping = used
        user_list.rows_read = run.rows_read
        user_list.rejected_rows = run.rejected
        user_list.rejected = len({entry["row"] for entry in run.rejected})
        links = _write_users(user_list, run.rows, existing, outcomes)
        counts = _count(user_list)
        user_list.auto = counts.get(PlatformOutcome.AUTO, 0) + counts.get(
            PlatformOutcome.CONFIRMED, 0
        )
        user_list.review = counts.get(PlatformOutcome.REVIEW, 0)
        user_list.unmatched = counts.get(PlatformOutcome.UNMATCHED, 0)
        user_list.unchanged = len(run.rows) - len(outcomes)
        user_list.status = PlatformUserList.Status.DONE
        user_list.content = None  # a clear phone number may be in it: not kept once imported
        user_list.finished_at = timezone.now()
        user_list.seconds = round(time.perf_counter() - started, 2)
        user_list.save()
        audit_append(
            actor=actor,
            action="platform_user_list.done",
            object_type="platform_user_list",
            object_id=user_list.pk,
            after={
                "platform": user_list.platform,
                "file_name": user_list.file_name,
                "sha256": user_list.sha256,
                "rows_read": user_list.rows_read,
                "rejected": user_list.rejected,
                "unchanged": user_list.unchanged,
                "auto": user_list.auto,
                "review": user_list.review,
                "unmatched": user_list.unmatched,
                **links,
            },
        )
    return user_list


def _stored(platform: str, user_ids: list[str]) -> dict[str, PlatformUser]:
    """The platform's stored users among ``user_ids``, asked in chunks (SQL parameter limits)."""
    found: dict[str, PlatformUser] = {}
    for start in range(0, len(user_ids), _BATCH):
        chunk = user_ids[start : start + _BATCH]
        users = PlatformUser.objects.filter(platform=platform, platform_user_id__in=chunk)
        found.update((user.platform_user_id, user) for user in users)
    return found


def _count(user_list: PlatformUserList) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in PlatformUser.objects.filter(user_list=user_list).values_list(
        "outcome", flat=True
    ):
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


_MATCH_FIELDS = (
    "user_list",
    "row_number",
    "row_hash",
    "openid_hash",
    "openid_masked",
    "unionid_hash",
    "unionid_masked",
    "phone_hash",
    "name",
    "hospital",
    "department",
    "title",
    "province",
    "city",
    "hco",
    "hospital_level",
    "outcome",
    "best_probability",
    "candidates",
    "hcp",
    "decided_by",
    "decided_at",
    "updated_at",
)


def _fill(user: PlatformUser, row: PlatformRow, place: Resolved, found: Outcome) -> None:
    user.row_hash = row.row_hash
    user.openid_hash = pi.blind_index(row.openid)
    user.openid_masked = mask_id(row.openid)
    user.unionid_hash = pi.blind_index(row.unionid)
    user.unionid_masked = mask_id(row.unionid)
    user.phone_hash = row.phone_hash
    user.name, user.hospital = row.name, row.hospital
    user.department, user.title = row.department, row.title
    user.province, user.city = place.province, place.city
    user.hco_id = place.hco_id
    user.hospital_level = place.level
    user.outcome = found.outcome
    user.best_probability = found.best
    user.candidates = found.candidates
    user.hcp_id = found.hcp_id
    user.decided_by = None
    user.decided_at = None
    user.updated_at = timezone.now()


def _write_users(
    user_list: PlatformUserList,
    rows: list[PlatformRow],
    existing: dict[str, PlatformUser],
    outcomes: dict[str, tuple[Resolved, Outcome]],
) -> dict[str, int]:
    new: list[PlatformUser] = []
    changed: list[PlatformUser] = []
    moved: list[PlatformUser] = []
    before: dict[str, int | None] = {}
    for row in rows:
        user = existing.get(row.user_id)
        if row.user_id not in outcomes:
            assert user is not None  # noqa: S101  (unchanged rows are stored users)
            user.user_list, user.row_number = user_list, row.number
            moved.append(user)
            continue
        place, found = outcomes[row.user_id]
        if user is None:
            user = PlatformUser(platform=user_list.platform, platform_user_id=row.user_id)
            new.append(user)
        else:
            before[row.user_id] = user.hcp_id
            changed.append(user)
        user.user_list, user.row_number = user_list, row.number
        _fill(user, row, place, found)
    if _stored(user_list.platform, [user.platform_user_id for user in new]):
        # Another list of this platform brought some of these users while this one was being
        # matched: nothing is written, and the list waits to be imported again.
        raise ApplicationError(
            _("Another list of this platform was imported meanwhile; import this one again."),
            field="mapping",
        )
    PlatformUser.objects.bulk_create(new, batch_size=_BATCH)
    PlatformUser.objects.bulk_update(changed, _MATCH_FIELDS, batch_size=_BATCH)
    PlatformUser.objects.bulk_update(moved, ["user_list", "row_number"], batch_size=_BATCH)
    return _link(user_list.platform, [*new, *changed], before)


def _link(
    platform: str, users: Iterable[PlatformUser], before: dict[str, int | None]
) -> dict[str, int]:
    """Make the platform's identity links follow the users' HCPs; counts of what changed."""
    users = list(users)
    ids = [user.platform_user_id for user in users]
    identities: dict[str, ExternalIdentity] = {}
    for start in range(0, len(ids), _BATCH):
        found = ExternalIdentity.objects.filter(
            source=platform, external_id__in=ids[start : start + _BATCH]
        )
        identities.update((row.external_id, row) for row in found)
    create: list[ExternalIdentity] = []
    update: list[ExternalIdentity] = []
    remove: list[int] = []
    for user in users:
        link = identities.get(user.platform_user_id)
        if user.hcp_id is not None:
            if link is None:
                create.append(
                    ExternalIdentity(
                        source=platform, external_id=user.platform_user_id, hcp_id=user.hcp_id
                    )
                )
            elif link.hcp_id != user.hcp_id:
                link.hcp_id = user.hcp_id
                update.append(link)
        elif (
            link is not None
            and link.hcp_id is not None
            and link.hcp_id == before.get(user.platform_user_id)
        ):
            # Our own earlier link, now doubtful: removed. Another module's link stays.
            remove.append(link.pk)
    ExternalIdentity.objects.bulk_create(create, batch_size=_BATCH)
    ExternalIdentity.objects.bulk_update(update, ["hcp"], batch_size=_BATCH)
    ExternalIdentity.objects.filter(pk__in=remove).delete()
    return {"links_created": len(create), "links_moved": len(update), "links_removed": len(remove)}


def platform_user_decide(*, actor: Actor, user_id: int, hcp_id: int | None) -> PlatformUser:
    """A steward's answer to a review row: one of its candidates (linked), or none of them."""
    with transaction.atomic(durable=True):
        user = PlatformUser.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFoundError(_("No such platform user."))
        if user.outcome != PlatformOutcome.REVIEW:
            # A retried or second click: the first decision stands and nothing is written.
            raise ApplicationError(_("This user has already been decided."), field="decision")
        offered = {int(c["hcp_id"]) for c in user.candidates}
        if hcp_id is not None:
            if hcp_id not in offered:
                raise ApplicationError(
                    _("Choose one of the doctors offered for this user."), field="hcp"
                )
            if not HCP.objects.filter(pk=hcp_id, status=RecordStatus.ACTIVE).exists():
                raise ApplicationError(
                    _("This doctor is no longer active in the master data."), field="hcp"
                )
        before = {"outcome": user.outcome, "hcp_id": user.hcp_id}
        user.outcome = PlatformOutcome.CONFIRMED if hcp_id else PlatformOutcome.UNMATCHED
        user.hcp_id = hcp_id
        user.decided_by = actor  # type: ignore[assignment]
        user.decided_at = timezone.now()
        user.save(update_fields=["outcome", "hcp", "decided_by", "decided_at", "updated_at"])
        links = _link(user.platform, [user], {user.platform_user_id: None})
        audit_append(
            actor=actor,
            action="platform_user.confirm" if hcp_id else "platform_user.reject",
            object_type="platform_user",
            object_id=user.pk,
            before=before,
            after={"outcome": user.outcome, "hcp_id": hcp_id, **links},
        )
    return user

"""Writes of third-party doctor-platform user lists: upload, column mapping, import, review.

A list is read with the file importer's reader (CSV or .xlsx, UTF-8 or GBK detected); its
columns are mapped to ``FIELDS``, suggested from Chinese and English headers. The import goes:

1. read every row and check it; an error of the whole file (encoding, format, a required column
   missing from the mapping) records nothing but the failed list; a bad row is listed with its
   row number, field and reason, and the other rows go on;
2. resolve each hospital text to an HCO with ``hco_lookup.HospitalIndex`` (so province and
   hospital level are known even for doctors not found) and match each user with
   ``matching.online.match_hcp``: auto, review or unmatched. This reads only, so it runs before
   the write transaction and never holds the database's write lock while scoring;
3. write users, identity links and the audit row in one durable transaction.

A user is unique per platform: a later list updates it. A row equal to the one already stored
(same blind-indexed hash of its mapped values) is not matched again, so re-importing a list
is fast and keeps the stewards' decisions. Auto-matched and confirmed users own an
``ExternalIdentity(source=platform, external_id=user id)``; no other user does.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from omnihcp.core import pi
from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.governance.services import Actor, audit_append
from omnihcp.masterdata.hco_lookup import HcoRow, HospitalIndex
from omnihcp.masterdata.importing.mapping import ImportField
from omnihcp.masterdata.importing.reader import FileError, read_table
from omnihcp.masterdata.matching.online import AUTO, REVIEW, HCPQuery, Suggestion, match_hcp
from omnihcp.masterdata.models import HCO, HCP, ExternalIdentity, RecordStatus
from omnihcp.masterdata.models_platform import PlatformOutcome, PlatformUser, PlatformUserList
from omnihcp.masterdata.standardise import clean_text, parse_address, phone_digits
from omnihcp.masterdata.validation import normalise_mobile

MAX_FILE_BYTES = 50 * 1024 * 1024
CANDIDATES_KEPT = 3
# A hospital text resolved at this score or better counts as that HCO for the report and is
# given to the matcher as the HCO; below it the matcher gets the text and looks it up itself.
HOSPITAL_MIN_SCORE = 0.7
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
_BLIND_INDEX = re.compile(r"^[0-9a-f]{40}$")
_HEX = re.compile(r"^[0-9a-f]+$")
_FOLD = re.compile(r"[\s_\-./:：()（）]+")
_BATCH = 500

# Our field, its label, whether required, and header synonyms (compared case- and
# punctuation-insensitively), most specific first.
_SPECS = (
    (
        "user_id",
        gettext_lazy("Platform user id"),
        True,
        "用户ID 用户编号 平台用户ID 会员ID 会员编号 医生ID userid uid memberid id",
    ),
    ("name", gettext_lazy("Name"), True, "姓名 医生姓名 名字 医生 name"),
    (
        "hospital",
        gettext_lazy("Hospital"),
        True,
        "医院 医院名称 所在医院 执业机构 工作单位 单位 机构 机构名称 hospital institution hco",
    ),
    ("department", gettext_lazy("Department"), False, "科室 所在科室 department dept"),
    ("title", gettext_lazy("Title"), False, "职称 技术职称 title"),
    ("province", gettext_lazy("Province"), False, "省份 省 所在省 province"),
    ("city", gettext_lazy("City"), False, "城市 市 所在城市 地市 city"),
    (
        "phone_hash",
        gettext_lazy("Mobile phone (hash)"),
        False,
        "手机号(哈希) 手机号哈希 手机哈希 手机号hash phonehash mobilehash 手机号 手机 手机号码 "
        "mobile phone",
    ),
    ("openid", gettext_lazy("WeChat openid"), False, "openid 微信openid"),
    ("unionid", gettext_lazy("WeChat unionid"), False, "unionid 微信unionid"),
)
FIELDS = tuple(
    ImportField(name, label, required, tuple(words.split()))
    for name, label, required, words in _SPECS
)
FIELD_NAMES = {spec.name: spec for spec in FIELDS}


# --- column mapping ----------------------------------------------------------------------------


def _fold(header: str) -> str:
    return _FOLD.sub("", unicodedata.normalize("NFKC", header).lower())


def suggest_mapping(*, columns: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """The platform's last mapping where its columns are in this file, else header synonyms."""
    present = {f: c for f, c in (saved or {}).items() if f in FIELD_NAMES and c in columns}
    if present:
        return present
    by_fold = {_fold(column): column for column in columns}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for spec in FIELDS:
        for synonym in (spec.name, *spec.synonyms):
            column = by_fold.get(_fold(synonym))
            if column is not None and column not in used:
                mapping[spec.name] = column
                used.add(column)
                break
    return mapping


def check_mapping(*, mapping: dict[str, str], columns: list[str]) -> dict[str, str]:
    """The mapping without blanks; an error names the field whose column is missing."""
    cleaned = {name: column for name, column in mapping.items() if column}
    for name, column in cleaned.items():
        if name not in FIELD_NAMES:
            raise ApplicationError(
                _('"%(field)s" is not a field of a platform list.') % {"field": name}, field=name
            )
        if column not in columns:
            raise ApplicationError(
                _('The file has no column "%(column)s" (mapped to %(field)s).')
                % {"column": column, "field": FIELD_NAMES[name].label},
                field=name,
            )
    values = list(cleaned.values())
    doubled = sorted({c for c in values if values.count(c) > 1})
    if doubled:
        raise ApplicationError(
            _('The column "%(column)s" is mapped to more than one field.') % {"column": doubled[0]},
            field="mapping",
        )
    for spec in FIELDS:
        if spec.required and spec.name not in cleaned:
            raise ApplicationError(
                _("The file has no column for the required field %(field)s.")
                % {"field": spec.label},
                field=spec.name,
            )
    return cleaned


# --- rows ------------------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    user_id: str
    name: str
    hospital: str
    department: str
    title: str
    province: str
    city: str
    phone_hash: str
    openid: str  # clear only in memory: stored as blind index and masked form
    unionid: str
    row_hash: str


@dataclass
class _Resolved:
    hco_id: int | None
    level: str
    province: str
    city: str


@dataclass
class _Outcome:
    outcome: str
    hcp_id: int | None
    best: float | None
    candidates: list[dict[str, Any]]


@dataclass
class _Run:
    """What one import found, before anything is written."""

    rows: list[_Row] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0


def _mask_id(value: str) -> str:
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}****{value[-4:]}"


def _phone_hash(raw: str) -> str:
    """A platform's phone value → our blind index: kept if it is one, made if it is a number."""
    text = raw.strip()
    if not text:
        return ""
    lowered = text.lower()
    if _BLIND_INDEX.match(lowered):
        return lowered
    if _HEX.match(lowered) and len(lowered) >= 32:
        raise ApplicationError(
            _(
                "This is not the OmniHCP phone hash (40 hexadecimal characters); "
                "ask the platform to hash the number with the key it was given."
            ),
            field="phone_hash",
        )
    digits = phone_digits(text)
    if not digits:
        raise ApplicationError(
            _("Neither a phone hash nor a mobile phone number."), field="phone_hash"
        )
    # A clear number is turned into its blind index at once; the number itself is not kept.
    return pi.blind_index(normalise_mobile(digits, field="phone_hash"))


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _row_hash(raw: dict[str, str]) -> str:
    # Keyed, not a bare SHA-256: the row may hold a phone number or an openid.
    return pi.blind_index(json.dumps(raw, sort_keys=True, ensure_ascii=False))


class _Reader:
    """Checks the rows of one file, collecting good rows and per-row reasons."""

    def __init__(self, columns: list[str], mapping: dict[str, str]) -> None:
        self.columns = columns
        self.mapping = mapping
        self.run = _Run()
        self.seen: dict[str, int] = {}

    def refuse(self, number: int, name: str, reason: str) -> None:
        column = self.mapping.get(name, "")
        self.run.rejected.append({"row": number, "field": name, "column": column, "reason": reason})

    def add(self, number: int, values: list[str]) -> None:
        if not any(value.strip() for value in values):
            return  # a blank line is not a user
        self.run.rows_read += 1
        width = len(self.columns)
        if len(values) < width or any(v.strip() for v in values[width:]):
            self.refuse(
                number,
                "",
                _("This row has %(found)s values; the header has %(width)s columns.")
                % {"found": len(values), "width": width},
            )
            return
        cells = dict(zip(self.columns, values, strict=False))
        raw = {name: cells.get(column, "").strip() for name, column in self.mapping.items()}
        errors = [
            (spec.name, _("%(field)s is empty.") % {"field": spec.label})
            for spec in FIELDS
            if spec.required and not raw.get(spec.name)
        ]
        user_id = raw.get("user_id", "")
        if len(user_id) > 128:
            errors.append(("user_id", _("A user id has at most 128 characters.")))
        elif user_id in self.seen:
            errors.append(
                (
                    "user_id",
                    _("The user id %(id)s is also in row %(row)s.")
                    % {"id": user_id, "row": self.seen[user_id]},
                )
            )
        name = _plain(raw.get("name", ""))
        if len(name) > 40:
            errors.append(("name", _("A name has at most 40 characters.")))
        phone_hash = ""
        try:
            phone_hash = _phone_hash(raw.get("phone_hash", ""))
        except ApplicationError as exc:
            errors.append(("phone_hash", exc.message))
        if errors:
            for name_, reason in errors:
                self.refuse(number, name_, reason)
            return
        self.seen[user_id] = number
        self.run.rows.append(
            _Row(
                number=number,
                user_id=user_id,
                name=name,
                hospital=_plain(raw["hospital"])[:120],
                department=_plain(raw.get("department", ""))[:60],
                title=_plain(raw.get("title", ""))[:40],
                province=_plain(raw.get("province", "")),
                city=_plain(raw.get("city", "")),
                phone_hash=phone_hash,
                openid=raw.get("openid", ""),
                unionid=raw.get("unionid", ""),
                row_hash=_row_hash(raw),
            )
        )


# --- hospitals and matching ----------------------------------------------------------------


class _Hospitals:
    """Hospital texts → HCOs, each distinct text looked up once per import."""

    def __init__(self) -> None:
        rows = HCO.objects.filter(status=RecordStatus.ACTIVE).values_list(
            "id", "name", "short_name", "province", "city", "level"
        )
        self.facts: dict[int, tuple[str, str, str]] = {}
        hcos: list[HcoRow] = []
        for pk, name, short, province, city, level in rows:
            hcos.append(HcoRow(pk, name, short or "", province, city))
            self.facts[pk] = (level, province, city)
        self.index = HospitalIndex.from_rows(hcos)
        self.found: dict[tuple[str, str, str], _Resolved] = {}

    def resolve(self, row: _Row) -> _Resolved:
        province, city = row.province, row.city
        if province or city:
            parsed = parse_address(clean_text(province) + clean_text(city))
            province, city = parsed.province or province, parsed.city or city
        key = (row.hospital, province, city)
        if key not in self.found:
            found = self.index.lookup(
                row.hospital, city=city or None, province=province or None, limit=1
            )
            if found and found[0].score >= HOSPITAL_MIN_SCORE:
                level, hco_province, hco_city = self.facts[found[0].hco_id]
                self.found[key] = _Resolved(found[0].hco_id, level, hco_province, hco_city)
            else:
                if not city:
                    parsed = parse_address(row.hospital)
                    province, city = province or parsed.province, parsed.city
                self.found[key] = _Resolved(None, "", province[:20], city[:30])
        return self.found[key]


Matcher = Callable[[HCPQuery], list[Suggestion]]


def _match(row: _Row, place: _Resolved, matcher: Matcher) -> _Outcome:
    query = HCPQuery(
        name=row.name,
        hospital="" if place.hco_id else row.hospital,
        hco_id=place.hco_id,
        province=place.province,
        city=place.city,
        department=row.department,
        title=row.title,
        mobile_hash=row.phone_hash,
    )
    suggestions = [s for s in matcher(query) if s.outcome in {AUTO, REVIEW}]
    if not suggestions:
        return _Outcome(PlatformOutcome.UNMATCHED, None, None, [])
    best = suggestions[0]
    # The comparisons are kept so that pages word the evidence in the reader's language.
    kept = [
        {
            "hcp_id": s.hcp_id,
            "probability": round(s.probability, 4),
            "reasons": list(s.reasons),
            "comparisons": s.explanation.get("comparisons", {}),
        }
        for s in suggestions[:CANDIDATES_KEPT]
    ]
    if best.outcome == AUTO:
        return _Outcome(PlatformOutcome.AUTO, best.hcp_id, best.probability, kept)
    return _Outcome(PlatformOutcome.REVIEW, None, best.probability, kept)


def _default_matcher(query: HCPQuery) -> list[Suggestion]:
    return match_hcp(query, limit=CANDIDATES_KEPT)


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
        reader = _Reader(table.columns, used)
        for number, values in table.rows:
            reader.add(number, values)
    except ApplicationError as exc:
        return _fail(actor, user_list, exc.message)
    run = reader.run
    existing = _stored(user_list.platform, [r.user_id for r in run.rows])
    hospitals = _Hospitals()
    match = matcher or _default_matcher
    outcomes: dict[str, tuple[_Resolved, _Outcome]] = {}
    for row in run.rows:
        known = existing.get(row.user_id)
        if known is None or known.row_hash != row.row_hash:
            place = hospitals.resolve(row)
            outcomes[row.user_id] = (place, _match(row, place, match))
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


def _fill(user: PlatformUser, row: _Row, place: _Resolved, found: _Outcome) -> None:
    user.row_hash = row.row_hash
    user.openid_hash = pi.blind_index(row.openid)
    user.openid_masked = _mask_id(row.openid)
    user.unionid_hash = pi.blind_index(row.unionid)
    user.unionid_masked = _mask_id(row.unionid)
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
    rows: list[_Row],
    existing: dict[str, PlatformUser],
    outcomes: dict[str, tuple[_Resolved, _Outcome]],
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

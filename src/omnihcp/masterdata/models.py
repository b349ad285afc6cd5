"""Master data: HCOs, departments, HCPs, affiliations, external identities, source records.

Personal information (mobile phone, practising licence number) is stored three ways: AES-GCM
ciphertext (revealed only to allowed roles, with a log row), an HMAC blind index (for exact
matching and look-ups) and a masked form for display. ``name_pinyin``/``name_initials`` are
search keys derived from the name by ``masterdata.textkeys``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from omnihcp.core.models import TimeStampedModel


class HCOType(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital")
    COMMUNITY = "community", _("Community health centre")
    CLINIC = "clinic", _("Clinic")
    PHARMACY = "pharmacy", _("Pharmacy")
    DISTRIBUTOR = "distributor", _("Distributor")


class HospitalLevel(models.TextChoices):
    L3A = "3A", _("Tier 3A")
    L3B = "3B", _("Tier 3B")
    L3C = "3C", _("Tier 3C")
    L2A = "2A", _("Tier 2A")
    L2B = "2B", _("Tier 2B")
    L2C = "2C", _("Tier 2C")
    L1 = "1", _("Tier 1")
    UNRATED = "", _("Unrated")


class RecordStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")
    MERGED = "merged", _("Merged")


class HCO(TimeStampedModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    name_pinyin = models.CharField(max_length=400, editable=False)
    name_initials = models.CharField(max_length=120, editable=False)
    hco_type = models.CharField(_("type"), max_length=16, choices=HCOType.choices)
    level = models.CharField(
        _("hospital level"), max_length=4, choices=HospitalLevel.choices, blank=True
    )
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=30)
    district = models.CharField(_("district"), max_length=30, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    uscc = models.CharField(_("USCC"), max_length=18, null=True, blank=True, unique=True)
    beds = models.PositiveIntegerField(_("beds"), null=True, blank=True)
    # WGS-84, for the distance of a visit's check-in to the hospital
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.ACTIVE
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campuses",
        verbose_name=_("parent institution"),
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("HCO")
        verbose_name_plural = _("HCOs")
        indexes = [
            models.Index(fields=["name"], name="hco_name_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["name_pinyin"], name="hco_pinyin_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["name_initials"], name="hco_initials_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["province", "city"], name="hco_city_idx"),
            models.Index(fields=["hco_type", "level"], name="hco_type_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class StandardDepartment(models.Model):
    """The standard department dictionary (科室字典)."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=40, unique=True)
    name_en = models.CharField(_("English name"), max_length=80)
    synonyms = models.JSONField(_("synonyms"), default=list, blank=True)
    therapy_area = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("standard department")

    def __str__(self) -> str:
        return self.name


class HCODepartment(models.Model):
    hco = models.ForeignKey(HCO, on_delete=models.CASCADE, related_name="departments")
    name = models.CharField(_("name"), max_length=60)
    standard = models.ForeignKey(
        StandardDepartment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hco", "name"], name="hco_department_unique")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class Title(models.TextChoices):
    CHIEF_PHYSICIAN = "chief_physician", _("Chief physician")
    ASSOCIATE_CHIEF = "associate_chief", _("Associate chief physician")
    ATTENDING = "attending", _("Attending physician")
    RESIDENT = "resident", _("Resident physician")
    CHIEF_PHARMACIST = "chief_pharmacist", _("Chief pharmacist")
    PHARMACIST = "pharmacist", _("Pharmacist")
    NURSE = "nurse", _("Nurse")
    OTHER = "other", _("Other")


class Position(models.TextChoices):
    DEAN = "dean", _("Hospital director")
    DEPARTMENT_HEAD = "department_head", _("Head of department")
    DEPUTY_HEAD = "deputy_head", _("Deputy head of department")
    PHARMACY_HEAD = "pharmacy_head", _("Head of pharmacy")
    NONE = "", _("None")


class HCP(TimeStampedModel):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=40)
    name_pinyin = models.CharField(max_length=200, editable=False)
    name_initials = models.CharField(max_length=40, editable=False)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN
    )
    title = models.CharField(_("title"), max_length=20, choices=Title.choices)
    position = models.CharField(_("position"), max_length=20, choices=Position.choices, blank=True)
    specialty = models.CharField(_("specialty"), max_length=60, blank=True)
    primary_hco = models.ForeignKey(
        HCO, on_delete=models.PROTECT, related_name="hcps", verbose_name=_("primary HCO")
    )
    department = models.ForeignKey(
        HCODepartment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hcps",
        verbose_name=_("department"),
    )
    mobile_encrypted = models.CharField(max_length=120, blank=True, editable=False)
    mobile_hash = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    mobile_masked = models.CharField(_("mobile phone"), max_length=20, blank=True, editable=False)
    email_encrypted = models.CharField(max_length=400, blank=True, editable=False)
    email_masked = models.CharField(_("email"), max_length=120, blank=True, editable=False)
    licence_encrypted = models.CharField(max_length=120, blank=True, editable=False)
    licence_hash = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    licence_masked = models.CharField(
        _("practising licence no."), max_length=40, blank=True, editable=False
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.ACTIVE
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("HCP")
        verbose_name_plural = _("HCPs")
        indexes = [
            models.Index(fields=["name"], name="hcp_name_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["name_pinyin"], name="hcp_pinyin_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["name_initials"], name="hcp_initials_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["primary_hco", "name_pinyin"], name="hcp_hco_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Affiliation(models.Model):
    """An HCP's place of work; the primary one mirrors ``HCP.primary_hco``."""

    hcp = models.ForeignKey(HCP, on_delete=models.CASCADE, related_name="affiliations")
    hco = models.ForeignKey(HCO, on_delete=models.PROTECT, related_name="affiliations")
    department = models.ForeignKey(
        HCODepartment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    role = models.CharField(_("role"), max_length=40, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hcp", "hco"], name="affiliation_unique")]

    def __str__(self) -> str:
        return f"{self.hcp_id}@{self.hco_id}"


class ExternalIdentity(models.Model):
    """An id a source system uses for one of our HCPs or HCOs (CRM id, platform user, openid)."""

    source = models.CharField(_("source"), max_length=40)
    external_id = models.CharField(_("external id"), max_length=128)
    hcp = models.ForeignKey(
        HCP, null=True, blank=True, on_delete=models.CASCADE, related_name="identities"
    )
    hco = models.ForeignKey(
        HCO, null=True, blank=True, on_delete=models.CASCADE, related_name="identities"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="identity_unique"),
            models.CheckConstraint(
                condition=models.Q(hcp__isnull=False) | models.Q(hco__isnull=False),
                name="identity_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class SourceRecord(models.Model):
    """A record as a source delivered it, kept whatever matching decides (lineage)."""

    class EntityType(models.TextChoices):
        HCP = "hcp", _("HCP")
        HCO = "hco", _("HCO")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        MATCHED = "matched", _("Matched")
        NEW = "new", _("New entity")
        REVIEW = "review", _("In review")
        REJECTED = "rejected", _("Rejected")

    source = models.CharField(_("source"), max_length=40)
    source_key = models.CharField(_("source key"), max_length=128)
    entity_type = models.CharField(max_length=4, choices=EntityType.choices)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    hcp = models.ForeignKey(
        HCP, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_records"
    )
    hco = models.ForeignKey(
        HCO, null=True, blank=True, on_delete=models.SET_NULL, related_name="source_records"
    )
    # Lineage of a file import: which batch and row delivered the record, and a hash of the
    # mapped row so that importing the same row again writes nothing new.
    batch = models.ForeignKey(
        "ImportBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="source_records",
    )
    row_number = models.PositiveIntegerField(null=True, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["source", "source_key"], name="source_record_key_idx"),
            models.Index(fields=["source", "row_hash"], name="source_record_hash_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.source_key}"


class ImportSource(TimeStampedModel):
    """A source of files (a CRM export, a doctor platform, a distributor) and its column mapping."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    entity_type = models.CharField(
        _("entity type"), max_length=4, choices=SourceRecord.EntityType.choices
    )
    # Our field → the file's column header, saved once and reused for the next file.
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    # Survivorship: when two records hold different values, the one from the source with the
    # higher priority survives a merge.
    priority = models.IntegerField(_("priority"), default=0)

    class Meta:
        ordering = ["code"]
        verbose_name = _("import source")

    def __str__(self) -> str:
        return self.code


class ImportBatch(models.Model):
    """One file imported from a source, with its report."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the column mapping")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    source = models.ForeignKey(ImportSource, on_delete=models.PROTECT, related_name="batches")
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    columns = models.JSONField(default=list, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    # The uploaded file, kept only between the upload and the mapping step of the pages;
    # cleared once imported, since it holds personal information in clear.
    content = models.BinaryField(null=True, blank=True, editable=False)
    rows_read = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    new = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    review = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # [{"row": 7, "field": "mobile", "reason": "..."}], row numbers as a spreadsheet shows them.
    rejected_rows = models.JSONField(default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.source_id}:{self.file_name}"


class MatchCandidate(models.Model):
    """A question for the data steward: are these two records the same HCP (or HCO)?

    One pair per row. The left side is either an imported source record that went to review or
    a golden record; the right side is a golden record it may be. The deterministic matcher
    gives no probability, only its rule in ``explanation``; the probabilistic one gives both.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        DEFERRED = "deferred", _("Deferred")

    entity_type = models.CharField(
        _("entity type"), max_length=4, choices=SourceRecord.EntityType.choices
    )
    source_record = models.ForeignKey(
        SourceRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="candidates"
    )
    left_hcp = models.ForeignKey(
        HCP, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    right_hcp = models.ForeignKey(
        HCP, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    left_hco = models.ForeignKey(
        HCO, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    right_hco = models.ForeignKey(
        HCO, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    probability = models.FloatField(_("match probability"), null=True, blank=True)
    # {"name": "exact", "hospital": "same", "mobile": "missing", "rule": "..."}
    explanation = models.JSONField(_("explanation"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("match candidate")
        indexes = [
            models.Index(fields=["status", "entity_type"], name="candidate_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source_record__isnull=False)
                | models.Q(left_hcp__isnull=False)
                | models.Q(left_hco__isnull=False),
                name="candidate_has_left",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entity_type}:{self.pk}"


class MergeEvent(models.Model):
    """One merge of two golden records, with everything needed to undo it exactly."""

    entity_type = models.CharField(max_length=4, choices=SourceRecord.EntityType.choices)
    survivor_hcp = models.ForeignKey(
        HCP, null=True, blank=True, on_delete=models.PROTECT, related_name="merge_events"
    )
    merged_hcp = models.ForeignKey(
        HCP, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    survivor_hco = models.ForeignKey(
        HCO, null=True, blank=True, on_delete=models.PROTECT, related_name="merge_events"
    )
    merged_hco = models.ForeignKey(
        HCO, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Both records, their affiliations, identities and source-record links before the merge;
    # for HCOs also every row the merge moved (``merging_hco``).
    snapshot = models.JSONField(default=dict)
    # {field: {"from": "survivor"|"merged", "rule": "..."}}
    choices = models.JSONField(default=dict)
    candidate = models.ForeignKey(
        MatchCandidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    merged_at = models.DateTimeField(auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("merge")

    def __str__(self) -> str:
        if self.entity_type == SourceRecord.EntityType.HCO:
            return f"{self.merged_hco_id}→{self.survivor_hco_id}"
        return f"{self.merged_hcp_id}→{self.survivor_hcp_id}"


class FieldLineage(models.Model):
    """Which source gave the value a golden record holds in one field, and by which rule."""

    class Rule(models.TextChoices):
        STEWARD = "steward", _("Steward's choice")
        SOURCE_PRIORITY = "source_priority", _("Source priority")
        COMPLETENESS = "completeness", _("Completeness")
        RECENCY = "recency", _("Most recent")
        SAME = "same", _("Same value")

    hcp = models.ForeignKey(
        HCP, null=True, blank=True, on_delete=models.CASCADE, related_name="lineage"
    )
    hco = models.ForeignKey(
        HCO, null=True, blank=True, on_delete=models.CASCADE, related_name="lineage"
    )
    field = models.CharField(_("field"), max_length=40)
    source = models.CharField(_("source"), max_length=40, blank=True)
    source_record = models.ForeignKey(
        SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_hcp = models.ForeignKey(HCP, null=True, on_delete=models.SET_NULL, related_name="+")
    from_hco = models.ForeignKey(HCO, null=True, on_delete=models.SET_NULL, related_name="+")
    # Never a clear personal-information value: its masked form, else the plain value.
    value = models.CharField(_("value"), max_length=200, blank=True)
    rule = models.CharField(_("rule"), max_length=16, choices=Rule.choices)
    merge_event = models.ForeignKey(
        MergeEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="lineage"
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    chosen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["field", "-chosen_at"]
        indexes = [
            models.Index(fields=["hcp", "field"], name="lineage_hcp_field_idx"),
            models.Index(fields=["hco", "field"], name="lineage_hco_field_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hcp__isnull=False) | models.Q(hco__isnull=False),
                name="lineage_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hcp_id or self.hco_id}.{self.field}"


# Each subject's tables live in their own module; Django finds them through this one.
from omnihcp.masterdata.models_dcr import *  # noqa: E402, F403
from omnihcp.masterdata.models_matching import *  # noqa: E402, F403
from omnihcp.masterdata.models_platform import *  # noqa: E402, F403
from omnihcp.masterdata.models_quality import *  # noqa: E402, F403

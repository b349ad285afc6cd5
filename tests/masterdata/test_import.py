"""The data steward's file import, service level: encodings, formats, bad input, matching,
lineage and re-imports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from omnihcp.core import pi
from omnihcp.masterdata import services
from omnihcp.masterdata.importing.selectors import import_batch_earlier
from omnihcp.masterdata.importing.services import import_file, import_source_create
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    ExternalIdentity,
    HCOType,
    ImportBatch,
    ImportSource,
    RecordStatus,
    SourceRecord,
)
from omnihcp.masterdata.standardise import hospital_name

pytestmark = pytest.mark.django_db

HCO_HEADER = ["编号", "机构名称", "类型", "等级", "省份", "城市", "统一社会信用代码", "床位数"]
HCP_HEADER = ["医生编号", "姓名", "性别", "职称", "科室", "医院", "城市", "手机", "执业证书编码"]
NEW_USCC = "12330100MB0000001N"  # a valid check character, not in the demo company


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def source(code: str, entity_type: str, actor: Any = None) -> ImportSource:
    return import_source_create(actor=actor, code=code, name=code, entity_type=entity_type)


def counts(batch: ImportBatch) -> dict[str, int]:
    names = ("rows_read", "accepted", "rejected", "new", "matched", "review", "unchanged")
    return {name: getattr(batch, name) for name in names}


def totals() -> tuple[int, int, int, int]:
    return (
        HCO.objects.count(),
        HCP.objects.count(),
        SourceRecord.objects.count(),
        ExternalIdentity.objects.count(),
    )


def unique_hangzhou_hospital() -> HCO:
    """A Hangzhou hospital of the demo company whose standardised name no other HCO there has."""
    hcos = list(HCO.objects.filter(city="杭州市", status=RecordStatus.ACTIVE))
    keys: dict[tuple[str, str], int] = {}
    for hco in hcos:
        name = hospital_name(hco.name)
        keys[(name.key, name.campus)] = keys.get((name.key, name.campus), 0) + 1
    for hco in hcos:
        name = hospital_name(hco.name)
        if hco.hco_type == HCOType.HOSPITAL and keys[(name.key, name.campus)] == 1:
            return hco
    raise AssertionError("no Hangzhou hospital with a unique name")


@pytest.fixture(autouse=True)
def english() -> Any:
    """Reasons are written in the importing user's language: English here."""
    with translation.override("en"):
        yield


@pytest.fixture
def steward(cast_user: Callable[[str], Any]) -> Any:
    return cast_user("steward")


def test_a_gbk_hco_file_is_detected_and_matched_new_matched_and_review(steward: Any) -> None:
    # given: a known hospital (by name), one known by USCC, one new, and a name two HCOs share
    known = unique_hangzhou_hospital()
    by_uscc = HCO.objects.exclude(uscc=None).exclude(pk=known.pk).first()
    assert by_uscc is not None
    for _ in range(2):
        services.hco_create(
            actor=None,
            data={
                "name": "杭州市双名医院",
                "hco_type": HCOType.HOSPITAL,
                "province": "浙江省",
                "city": "杭州市",
            },
        )
    content = csv_bytes(
        [
            HCO_HEADER,
            ["S-1", known.name, "医院", "", "浙江", "杭州", "", ""],
            ["S-2", "随便写的名字", "医院", "", "浙江", "杭州", by_uscc.uscc, ""],
            ["S-3", "杭州市第九十九人民医院", "医院", "三甲", "浙江省", "杭州市", NEW_USCC, "800"],
            ["S-4", "杭州市双名医院", "医院", "", "浙江省", "杭州市", "", ""],
        ],
        encoding="gbk",
    )
    # when
    batch = import_file(
        actor=steward, source=source("his", "hco"), file_name="机构.csv", content=content
    )
    # then
    assert batch.status == ImportBatch.Status.DONE
    assert batch.encoding == "gb18030"
    assert counts(batch) == {
        "rows_read": 4,
        "accepted": 4,
        "rejected": 0,
        "new": 1,
        "matched": 2,
        "review": 1,
        "unchanged": 0,
    }
    created = HCO.objects.get(uscc=NEW_USCC)
    assert (created.name, created.level, created.beds, created.city) == (
        "杭州市第九十九人民医院",
        "3A",
        800,
        "杭州市",
    )
    identities = dict(
        ExternalIdentity.objects.filter(source="his").values_list("external_id", "hco_id")
    )
    assert identities == {"S-1": known.pk, "S-2": by_uscc.pk, "S-3": created.pk}
    statuses = dict(SourceRecord.objects.filter(batch=batch).values_list("source_key", "status"))
    assert statuses == {"S-1": "matched", "S-2": "matched", "S-3": "new", "S-4": "review"}
    review = SourceRecord.objects.get(batch=batch, source_key="S-4")
    assert len(review.payload["candidates"]) == 2
    assert review.row_number == 5


def test_a_utf8_hcp_file_with_bom_finds_doctors_by_licence_and_by_name_at_their_hospital(
    steward: Any,
) -> None:
    hospital = unique_hangzhou_hospital()
    with_licence = HCP.objects.exclude(licence_hash="").filter(primary_hco=hospital).first()
    assert with_licence is not None
    others = HCP.objects.filter(primary_hco=hospital).exclude(pk=with_licence.pk)
    by_name = next(h for h in others if others.filter(name=h.name).count() == 1)
    licence = pi.decrypt(with_licence.licence_encrypted)
    content = "\ufeff".encode() + csv_bytes(
        [
            HCP_HEADER,
            ["D1", "另一个写法", "", "主任医师", "", hospital.name, "杭州", "", licence],
            ["D2", by_name.name, "", "主治医师", "", hospital.name, "杭州", "", ""],
            [
                "D3",
                "欧阳新医",
                "女",
                "副主任医师",
                "心内科",
                hospital.name,
                "杭州",
                "13912345678",
                "",
            ],
        ]
    )
    batch = import_file(
        actor=steward, source=source("platform", "hcp"), file_name="doctors.csv", content=content
    )
    assert batch.encoding == "utf-8-sig", batch.error
    assert (batch.new, batch.matched, batch.review, batch.rejected) == (1, 2, 0, 0)
    identities = dict(
        ExternalIdentity.objects.filter(source="platform").values_list("external_id", "hcp_id")
    )
    new = HCP.objects.get(name="欧阳新医")
    assert identities == {"D1": with_licence.pk, "D2": by_name.pk, "D3": new.pk}
    assert (new.primary_hco_id, new.title, new.gender, new.mobile_masked) == (
        hospital.pk,
        "associate_chief",
        "F",
        "139****5678",
    )
    assert new.department is not None
    assert new.department.name == "心内科"
    # The lineage keeps the row, its personal information masked and encrypted, never in clear.
    record = SourceRecord.objects.get(batch=batch, source_key="D3")
    assert record.payload["row"]["手机"]["masked"] == "139****5678"
    assert "13912345678" not in str(record.payload)
    assert pi.decrypt(record.payload["row"]["手机"]["encrypted"]) == "13912345678"


def test_an_excel_file_built_in_excel_is_imported(steward: Any) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Name", "Type", "Province", "City", "Beds"])
    # Names nothing in the demo master resembles (a near name would go to the steward).
    sheet.append(["X-1", "宁波市滨海康复医院", "hospital", "浙江省", "宁波市", 1200])
    sheet.append(["X-2", "同仁堂药店（宁波鼓楼店）", "药店", "浙江省", "宁波市", None])
    out = io.BytesIO()
    workbook.save(out)
    batch = import_file(
        actor=steward, source=source("erp", "hco"), file_name="hcos.xlsx", content=out.getvalue()
    )
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert (batch.rows_read, batch.new, batch.rejected) == (2, 2, 0)
    assert HCO.objects.get(name="宁波市滨海康复医院").beds == 1200
    assert HCO.objects.get(name="同仁堂药店(宁波鼓楼店)").hco_type == HCOType.PHARMACY


def test_a_missing_required_column_fails_the_file_and_writes_nothing(steward: Any) -> None:
    before = totals()
    content = csv_bytes([["编号", "机构名称", "省份", "城市"], ["A", "某医院", "浙江", "杭州"]])
    batch = import_file(
        actor=steward, source=source("crm-x", "hco"), file_name="x.csv", content=content
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error == "The file has no column for the required field Type."
    assert totals() == before
    assert ImportSource.objects.get(code="crm-x").mapping == {}


@pytest.mark.parametrize(
    ("tail", "row"),
    [
        ("S-3,杭州市某医院,医院,,浙江", 4),  # cut off after the fifth value
        ('S-3,"杭州市某医院,医院,,浙江,杭州,,\r\n', 4),  # a quote that never closes
    ],
)
def test_a_file_cut_off_mid_row_fails_naming_the_row(steward: Any, tail: str, row: int) -> None:
    before = totals()
    head = csv_bytes(
        [
            HCO_HEADER,
            ["S-1", "杭州市测试一院", "医院", "", "浙江", "杭州", "", ""],
            ["S-2", "杭州市测试二院", "医院", "", "浙江", "杭州", "", ""],
        ]
    )
    batch = import_file(
        actor=steward,
        source=source("cut", "hco"),
        file_name="cut.csv",
        content=head + tail.encode(),
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error.startswith(f"Row {row}: ")
    assert totals() == before


def test_a_file_in_neither_utf8_nor_gbk_fails_naming_the_row(steward: Any) -> None:
    content = "ID,Name\nA,ok\nB,caf\u00e9\n".encode("latin-1")
    batch = import_file(
        actor=steward, source=source("latin", "hco"), file_name="l.csv", content=content
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error.startswith("Row 3: the file is neither UTF-8 nor GBK/GB18030 text.")


def test_an_old_xls_file_is_refused_with_advice(steward: Any) -> None:
    content = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100
    batch = import_file(
        actor=steward, source=source("xls", "hco"), file_name="old.xls", content=content
    )
    assert batch.status == ImportBatch.Status.FAILED
    assert ".xlsx" in batch.error


def test_duplicate_rows_are_rejected_naming_the_first(steward: Any) -> None:
    row = ["S-1", "杭州市重复医院", "医院", "", "浙江", "杭州", "", ""]
    content = csv_bytes(
        [HCO_HEADER, row, row, ["S-1", "杭州市另一家", "医院", "", "浙江", "杭州", "", ""]]
    )
    batch = import_file(
        actor=steward, source=source("dup", "hco"), file_name="d.csv", content=content
    )
    assert (batch.rows_read, batch.new, batch.rejected) == (3, 1, 2)
    assert batch.rejected_rows == [
        {"row": 3, "field": "", "column": "", "reason": "Same as row 2."},
        {
            "row": 4,
            "field": "source_key",
            "column": "编号",
            "reason": "The source key S-1 is also in row 2.",
        },
    ]
    assert HCO.objects.filter(name="杭州市重复医院").count() == 1


def test_bad_mobile_licence_and_title_are_rejected_with_row_and_field(steward: Any) -> None:
    hospital = unique_hangzhou_hospital()
    content = csv_bytes(
        [
            HCP_HEADER,
            ["B1", "甲医生", "", "主任医师", "", hospital.name, "杭州", "12345", ""],
            ["B2", "乙医生", "", "主任医师", "", hospital.name, "杭州", "", "12AB"],
            ["B3", "丙医生", "", "院长助理", "", hospital.name, "杭州", "", ""],
            ["B4", "丁医生", "", "住院医师", "", hospital.name, "杭州", "", ""],
            ["B5", "戊医生", "", "住院医师", "", "不存在的医院", "杭州", "", ""],
        ]
    )
    batch = import_file(
        actor=steward, source=source("bad", "hcp"), file_name="b.csv", content=content
    )
    assert (batch.rows_read, batch.accepted, batch.rejected, batch.new) == (5, 1, 4, 1)
    assert [(r["row"], r["field"], r["column"]) for r in batch.rejected_rows] == [
        (2, "mobile", "手机"),
        (3, "licence_no", "执业证书编码"),
        (4, "title", "职称"),
        (6, "hospital", "医院"),
    ]
    reasons = [r["reason"] for r in batch.rejected_rows]
    assert reasons[:3] == [
        "Enter a mainland China mobile number of 11 digits, e.g. 13812345678.",
        "A practising licence number has 15 digits.",
        '"院长助理" is not a title we know.',
    ]
    assert reasons[3].startswith("No institution named 不存在的医院 in 杭州市")
    # Rejected rows are kept too (lineage), with their reasons.
    rejected = SourceRecord.objects.filter(batch=batch, status=SourceRecord.Status.REJECTED)
    assert sorted(rejected.values_list("row_number", flat=True)) == [2, 3, 4, 6]
    assert SourceRecord.objects.filter(batch=batch).count() == 5


def test_reimporting_the_same_file_creates_nothing_new(steward: Any) -> None:
    hospital = unique_hangzhou_hospital()
    content = csv_bytes(
        [
            HCP_HEADER,
            ["R1", "复导一", "男", "主治医师", "", hospital.name, "杭州", "", ""],
            ["R2", "复导二", "女", "住院医师", "", hospital.name, "杭州", "", ""],
            ["R3", "复导三", "女", "不知道", "", hospital.name, "杭州", "", ""],
        ]
    )
    platform = source("again", "hcp")
    first = import_file(actor=steward, source=platform, file_name="a.csv", content=content)
    assert (first.new, first.rejected) == (2, 1)
    before = totals()
    second = import_file(actor=steward, source=platform, file_name="a.csv", content=content)
    assert second.status == ImportBatch.Status.DONE
    assert counts(second) == {
        "rows_read": 3,
        "accepted": 2,
        "rejected": 1,
        "new": 0,
        "matched": 0,
        "review": 0,
        "unchanged": 2,
    }
    assert totals() == before
    assert import_batch_earlier(batch=second) == first


def test_the_mapping_is_saved_on_the_source_and_reused(steward: Any) -> None:
    header = ["Kunden-ID", "Bezeichnung", "Art", "Land", "Stadt"]
    mapping = {
        "source_key": "Kunden-ID",
        "name": "Bezeichnung",
        "hco_type": "Art",
        "province": "Land",
        "city": "Stadt",
    }
    odd = source("odd", "hco")
    first = import_file(
        actor=steward,
        source=odd,
        file_name="1.csv",
        content=csv_bytes([header, ["K1", "温州市测试医院", "医院", "浙江", "温州"]]),
        mapping=mapping,
    )
    assert first.new == 1
    assert ImportSource.objects.get(code="odd").mapping == mapping
    second = import_file(
        actor=steward,
        source=ImportSource.objects.get(code="odd"),
        file_name="2.csv",
        content=csv_bytes([header, ["K2", "温州市另一测试医院", "医院", "浙江", "温州"]]),
    )
    assert second.status == ImportBatch.Status.DONE, second.error
    assert (second.new, second.mapping) == (1, mapping)


def test_the_command_imports_a_file_and_prints_the_report(tmp_path: Any) -> None:
    path = tmp_path / "hcos.csv"
    path.write_bytes(
        csv_bytes(
            [HCO_HEADER, ["C-1", "台州市命令行医院", "医院", "", "浙江", "台州", "", "abc"]],
            encoding="gb18030",
        )
    )
    out = io.StringIO()
    with translation.override("en"):
        call_command("mdm", "import", str(path), "--source", "cli", "--entity", "hco", stdout=out)
    report = out.getvalue()
    assert "rows read 1, accepted 0, rejected 1" in report
    assert "row 2, 床位数: Beds must be a whole number, e.g. 800." in report
    with pytest.raises(CommandError, match="--entity"):
        call_command("mdm", "import", str(path), "--source", "unknown-source")


def test_a_tab_separated_export_with_a_short_row_in_the_middle(steward: Any) -> None:
    content = (
        "ID\tName\tType\tProvince\tCity\n"
        "T-1\t湖州市制表符医院\t医院\t浙江\t湖州\n"
        "T-2\t湖州市短行医院\n"
        "T-3\t湖州市第二制表符医院\t医院\t浙江\t湖州\n"
    ).encode()
    batch = import_file(
        actor=steward, source=source("tabs", "hco"), file_name="t.txt", content=content
    )
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert (batch.rows_read, batch.new, batch.rejected) == (3, 2, 1)
    assert batch.rejected_rows == [
        {
            "row": 3,
            "field": "",
            "column": "",
            "reason": "This row has 2 values; the header has 5 columns.",
        }
    ]

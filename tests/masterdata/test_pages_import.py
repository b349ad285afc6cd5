"""The data steward's import pages: upload, map the columns, read the report."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from omnihcp.masterdata.models import HCO, ImportBatch, ImportSource

pytestmark = pytest.mark.django_db

GBK_FILE = (
    "机构编码,机构名称,机构类型,省份,城市,床位数\r\n"
    "P-1,杭州市页面测试医院,医院,浙江,杭州,600\r\n"
    "P-2,杭州市页面测试二院,医院,浙江,杭州,很多\r\n"
).encode("gbk")


def upload(client: Client, content: bytes = GBK_FILE, **fields: str) -> str:
    data = {"code": "his-web", "name": "HIS export", "entity_type": "hco", **fields}
    response = client.post(
        reverse("masterdata:import-new"),
        {**data, "file": SimpleUploadedFile("机构.csv", content, content_type="text/csv")},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


def selected(page: str, field: str) -> str:
    select = re.search(rf'<select name="map-{field}".*?</select>', page, re.S)
    assert select is not None
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def test_steward_uploads_maps_and_reads_the_report(client_as: Callable[..., Client]) -> None:
    client = client_as("steward")
    # given: the upload leads to the column mapping, suggested from the Chinese headers
    mapping_url = upload(client)
    page = client.get(mapping_url).content.decode()
    assert "机构.csv" in page
    assert "gb18030" in page
    assert (selected(page, "source_key"), selected(page, "name"), selected(page, "beds")) == (
        "机构编码",
        "机构名称",
        "床位数",
    )
    # when: the steward confirms it
    form = {
        f"map-{f}": c
        for f, c in {
            "source_key": "机构编码",
            "name": "机构名称",
            "hco_type": "机构类型",
            "province": "省份",
            "city": "城市",
            "beds": "床位数",
        }.items()
    }
    response = client.post(mapping_url, form)
    # then: the report shows the counts and the rejected row with its reason
    assert response.status_code == 302
    report = client.get(response["Location"]).content.decode()
    counts = dict(re.findall(r'data-count="(\w+)">(\d+)<', report))
    assert counts == {
        "rows_read": "2",
        "accepted": "1",
        "rejected": "1",
        "new": "1",
        "matched": "0",
        "review": "0",
        "unchanged": "0",
    }
    assert 'data-rejected-row="3" data-field="beds"' in report
    assert "Beds must be a whole number, e.g. 800." in report
    assert HCO.objects.filter(name="杭州市页面测试医院", beds=600).exists()
    assert ImportSource.objects.get(code="his-web").mapping["beds"] == "床位数"
    # and the rejected rows download as CSV that Excel opens
    batch = ImportBatch.objects.get(source__code="his-web")
    download = client.get(reverse("masterdata:import-rejected", args=[batch.pk]))
    lines = download.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "Row,Column,Field,Reason",
        '3,床位数,Beds,"Beds must be a whole number, e.g. 800."',
    ]
    # and the list of imports shows the batch
    listing = client.get(reverse("masterdata:import-list")).content.decode()
    assert f'data-batch="{batch.pk}"' in listing


def test_the_saved_mapping_is_chosen_for_the_next_file(client_as: Callable[..., Client]) -> None:
    client = client_as("steward")
    source = ImportSource.objects.create(
        code="renamed",
        name="Renamed columns",
        entity_type="hco",
        mapping={"source_key": "A", "name": "B", "hco_type": "C", "province": "D", "city": "E"},
    )
    content = "A,B,C,D,E\r\nR1,绍兴市映射医院,医院,浙江,绍兴\r\n".encode()
    page = client.get(upload(client, content, source=str(source.pk), code="")).content.decode()
    assert (selected(page, "name"), selected(page, "city")) == ("B", "E")


def test_a_missing_required_column_is_shown_on_the_mapping_step(
    client_as: Callable[..., Client],
) -> None:
    client = client_as("steward")
    mapping_url = upload(client)
    response = client.post(mapping_url, {"map-source_key": "机构编码", "map-name": "机构名称"})
    assert response.status_code == 200
    assert "The file has no column for the required field Type." in response.content.decode()
    assert not HCO.objects.filter(name="杭州市页面测试医院").exists()


def test_an_unreadable_file_gets_a_report_saying_why(client_as: Callable[..., Client]) -> None:
    client = client_as("steward")
    report_url = upload(client, "ID,Name\nA,caf\u00e9\n".encode("latin-1"))
    report = client.get(report_url).content.decode()
    assert 'data-status="failed"' in report
    assert "Row 2: the file is neither UTF-8 nor GBK/GB18030 text." in report


def test_a_rep_may_not_import(client_as: Callable[..., Client]) -> None:
    client = client_as("rep_hangzhou")
    assert client.get(reverse("masterdata:import-list")).status_code == 403
    assert client.get(reverse("masterdata:import-new")).status_code == 403
    response = client.post(
        reverse("masterdata:import-new"),
        {"code": "x", "entity_type": "hco", "file": SimpleUploadedFile("a.csv", GBK_FILE)},
    )
    assert response.status_code == 403
    assert not ImportSource.objects.filter(code="x").exists()


def test_the_steward_finds_imports_in_the_menu(client_as: Callable[..., Client]) -> None:
    home = client_as("steward").get(reverse("org:home")).content.decode()
    assert f'href="{reverse("masterdata:import-list")}"' in home


def test_the_chinese_mapping_page_speaks_chinese(client_as: Callable[..., Client]) -> None:
    client = client_as("steward", language="zh-hans")
    page = client.get(upload(client)).content.decode()
    assert '<html lang="zh-Hans">' in page
    for label in ("类型", "医院等级", "城市", "统一社会信用代码", "床位数"):
        assert label in page

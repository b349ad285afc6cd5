"""The Django admin for data stewards: edits go through the services and the audit chain."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata.models import HCO, HCP

pytestmark = pytest.mark.django_db


def _form(hcp: HCP, **changes: Any) -> dict[str, Any]:
    data = {
        "code": hcp.code,
        "name": hcp.name,
        "gender": hcp.gender,
        "title": hcp.title,
        "position": hcp.position,
        "specialty": hcp.specialty,
        "primary_hco": hcp.primary_hco_id,
        "department": hcp.department_id or "",
        "status": hcp.status,
        "merged_into": "",
        "affiliations-TOTAL_FORMS": "0",
        "affiliations-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


def test_steward_searches_doctors_by_pinyin_in_admin(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    response = client_as("steward").get(
        reverse("admin:masterdata_hcp_changelist"), {"q": hangzhou_hcp.name_pinyin}
    )
    assert response.status_code == 200
    assert hangzhou_hcp.code in response.content.decode()


def test_admin_rename_rekeys_pinyin_and_is_audited(
    client_as: Callable[..., Client], hangzhou_hcp: Any
) -> None:
    url = reverse("admin:masterdata_hcp_change", args=[hangzhou_hcp.pk])
    response = client_as("steward").post(url, _form(hangzhou_hcp, name="欧阳修"))
    assert response.status_code == 302, response.content.decode()[:2000]
    hcp = HCP.objects.get(pk=hangzhou_hcp.pk)
    assert (hcp.name, hcp.name_pinyin, hcp.name_initials) == ("欧阳修", "ouyangxiu", "oyx")
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.action == "hcp.update"
    assert event.actor == "steward"


def test_admin_refuses_bad_uscc_with_a_form_error(client_as: Callable[..., Client]) -> None:
    hco = HCO.objects.filter(hco_type="pharmacy").first()
    url = reverse("admin:masterdata_hco_change", args=[hco.pk])
    data = {
        "code": hco.code,
        "name": hco.name,
        "short_name": hco.short_name,
        "hco_type": hco.hco_type,
        "level": hco.level,
        "province": hco.province,
        "city": hco.city,
        "district": hco.district,
        "address": hco.address,
        "uscc": "12345",
        "beds": "",
        "status": hco.status,
        "parent": "",
        "merged_into": "",
        "departments-TOTAL_FORMS": "0",
        "departments-INITIAL_FORMS": "0",
    }
    response = client_as("steward").post(url, data)
    assert response.status_code == 200
    assert "A USCC has 18 characters" in response.content.decode()
    hco.refresh_from_db()
    assert hco.uscc != "12345"


def test_admin_lists_import_sources_and_batches_read_only(
    client_as: Callable[..., Client],
) -> None:
    from omnihcp.masterdata.importing import services as import_services
    from omnihcp.org.models import User

    steward = User.objects.get(username="steward")
    source = import_services.import_source_create(
        actor=steward, code="crm-admin", name="CRM east", entity_type="hco"
    )
    batch = import_services.import_file(
        actor=steward,
        source=source,
        file_name="east.csv",
        content="编码,机构名称\nE-1,湖州市管理医院\n".encode(),
    )
    client = client_as("admin")
    sources = client.get(reverse("admin:masterdata_importsource_changelist"), {"q": "crm-admin"})
    assert "CRM east" in sources.content.decode()
    batches = client.get(reverse("admin:masterdata_importbatch_changelist"))
    assert "east.csv" in batches.content.decode()
    change = client.get(reverse("admin:masterdata_importbatch_change", args=[batch.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert client.get(reverse("admin:masterdata_importbatch_add")).status_code == 403

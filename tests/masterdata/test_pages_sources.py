"""The sources page: each import source's files and its survivorship priority, edited in place."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata.models import ImportBatch, ImportSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def source() -> ImportSource:
    source = ImportSource.objects.create(code="qa-crm", name="QA CRM", entity_type="hcp")
    for i in range(3):
        ImportBatch.objects.create(source=source, file_name=f"{i}.csv", sha256=str(i))
    return source


def priority_url(source: ImportSource) -> str:
    return reverse("masterdata:source-priority", args=[source.pk])


def test_steward_sees_each_source_with_its_files_and_priority(
    client_as: Callable[..., Client], source: ImportSource
) -> None:
    page = client_as("steward").get(reverse("masterdata:source-list")).content.decode()

    row = page[page.index('data-source="qa-crm"') :]
    row = row[: row.index("</tr>")]
    assert "QA CRM" in row
    assert "<td data-batches>3</td>" in row
    assert 'name="priority"' in row
    assert 'value="0"' in row


def test_steward_changes_a_priority_once_even_if_the_form_is_sent_twice(
    client_as: Callable[..., Client], source: ImportSource
) -> None:
    client = client_as("steward")

    first = client.post(priority_url(source), {"priority": " 50 "})
    second = client.post(priority_url(source), {"priority": "50"})

    assert first.status_code == second.status_code == 302
    assert first["Location"] == f"{reverse('masterdata:source-list')}#source-{source.pk}"
    source.refresh_from_db()
    assert source.priority == 50
    event = AuditEvent.objects.get(action="import_source.update", object_id=str(source.pk))
    assert (event.before, event.after) == ({"priority": 0}, {"priority": 50})
    assert event.actor == "steward"


@pytest.mark.parametrize("value", ["abc", "1001", "-1001", "1.5", ""])
def test_a_bad_priority_is_refused_naming_the_field(
    client_as: Callable[..., Client], source: ImportSource, value: str
) -> None:
    response = client_as("steward").post(priority_url(source), {"priority": value})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-error="priority"' in page
    assert "Priority must be a whole number from -1000 to 1000." in page
    source.refresh_from_db()
    assert source.priority == 0
    assert not AuditEvent.objects.filter(action="import_source.update").exists()


def test_the_page_works_in_chinese(client_as: Callable[..., Client], source: ImportSource) -> None:
    response = client_as("steward", "zh-hans").get(reverse("masterdata:source-list"))

    assert response.status_code == 200
    assert 'lang="zh-Hans"' in response.content.decode()


def test_an_unknown_source_is_404(client_as: Callable[..., Client]) -> None:
    url = reverse("masterdata:source-priority", args=[999_999])

    assert client_as("admin").post(url, {"priority": "1"}).status_code == 404


@pytest.mark.parametrize("username", ["rep_hangzhou", "exec"])
def test_other_roles_may_neither_see_nor_change_priorities(
    client_as: Callable[..., Client], source: ImportSource, username: str
) -> None:
    client = client_as(username)

    assert client.get(reverse("masterdata:source-list")).status_code == 403
    assert client.post(priority_url(source), {"priority": "9"}).status_code == 403
    source.refresh_from_db()
    assert source.priority == 0

"""Doctor-platform user lists: import, re-import, file errors, the match-rate report, review
decisions and their identity links, personal information, and the pages in both languages.

Most tests give the import a stand-in matcher (``matcher=``) so that outcomes are exact; one
runs the real online matcher on a noisy list made from the demo master.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from omnihcp.core import pi
from omnihcp.demo.platform_list import platform_csv, platform_rows
from omnihcp.governance.models import AuditEvent
from omnihcp.masterdata import platform_report, platform_users
from omnihcp.masterdata.matching import online
from omnihcp.masterdata.matching.online import AUTO, REVIEW, HCPQuery, Suggestion
from omnihcp.masterdata.models import HCO, HCP, ExternalIdentity, HospitalLevel, RecordStatus
from omnihcp.masterdata.models_platform import PlatformOutcome, PlatformUser, PlatformUserList

pytestmark = pytest.mark.django_db

HEADER = "用户ID,姓名,医院,科室,职称,省份,城市,手机号(哈希),openid"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    online.SCORER.reset()
    with translation.override("en"):
        yield
    online.SCORER.reset()


class FakeMatcher:
    """Answers by name: AUTO for ``auto`` names, REVIEW with two candidates for ``review``."""

    def __init__(
        self, auto: dict[str, int] | None = None, review: dict[str, list[int]] | None = None
    ) -> None:
        self.auto = auto or {}
        self.review = review or {}
        self.queries: list[HCPQuery] = []

    def __call__(self, query: HCPQuery) -> list[Suggestion]:
        self.queries.append(query)
        if query.name in self.auto:
            return [Suggestion(self.auto[query.name], 0.99, AUTO, ("same name",))]
        return [
            Suggestion(hcp_id, 0.8 - i / 10, REVIEW, ("same name", "other hospital"))
            for i, hcp_id in enumerate(self.review.get(query.name, []))
        ]


def hospitals(level: str, count: int) -> list[HCO]:
    return list(
        HCO.objects.filter(status=RecordStatus.ACTIVE, hco_type="hospital", level=level).order_by(
            "id"
        )[:count]
    )


def doctors_at(hco: HCO, count: int) -> list[HCP]:
    return list(
        HCP.objects.filter(primary_hco=hco, status=RecordStatus.ACTIVE).order_by("id")[:count]
    )


def csv_of(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def line(user_id: str, name: str, hco: HCO | str, **extra: str) -> str:
    hospital = hco if isinstance(hco, str) else hco.name
    values = {
        "department": "",
        "title": "",
        "province": "",
        "city": "",
        "phone": "",
        "openid": "",
        **extra,
    }
    out = io.StringIO()
    csv.writer(out).writerow([user_id, name, hospital, *values.values()])
    return out.getvalue().strip()


def run(content: bytes, matcher: Any, platform: str = "yimai", **kwargs: Any) -> PlatformUserList:
    return platform_users.platform_list_import(
        actor=None,
        platform=platform,
        platform_name="医脉通",
        file_name="users.csv",
        content=content,
        matcher=matcher,
        **kwargs,
    )


# --- import --------------------------------------------------------------------------------


def test_a_noisy_platform_list_links_known_doctors_and_never_an_unknown_one() -> None:
    rows = platform_rows(40, seed=11)
    user_list = run(platform_csv(rows), matcher=None)
    truth = {row.user_id: row.true_hcp_id for row in rows}
    users = list(PlatformUser.objects.filter(user_list=user_list))

    assert user_list.status == PlatformUserList.Status.DONE
    assert (user_list.rows_read, user_list.rejected, len(users)) == (40, 0, 40)
    auto = [u for u in users if u.outcome == PlatformOutcome.AUTO]
    assert len(auto) >= 0.7 * sum(1 for t in truth.values() if t)
    assert all(u.hcp_id == truth[u.platform_user_id] for u in auto)
    unknown = [u for u in users if truth[u.platform_user_id] is None]
    assert unknown
    assert all(u.hcp_id is None for u in unknown)
    identities = dict(
        ExternalIdentity.objects.filter(source="yimai").values_list("external_id", "hcp_id")
    )
    assert identities == {u.platform_user_id: u.hcp_id for u in auto}


def test_reimporting_a_list_updates_its_users_without_duplicates_or_matching_again() -> None:
    hco = hospitals(HospitalLevel.L3A, 1)[0]
    a, b = doctors_at(hco, 2)
    content = csv_of(line("u1", a.name, hco), line("u2", b.name, hco), line("u3", "路人甲", hco))
    first = run(content, FakeMatcher(auto={a.name: a.pk, b.name: b.pk}))
    # when: the same list arrives again, then once more with one user's department changed
    again_matcher = FakeMatcher(auto={a.name: a.pk, b.name: b.pk})
    again = run(content, again_matcher)
    changed = content.replace(
        f"u2,{b.name},{hco.name},".encode(), f"u2,{b.name},{hco.name},心内科".encode()
    )
    third_matcher = FakeMatcher(auto={a.name: a.pk})
    third = run(changed, third_matcher)

    assert (first.auto, first.unmatched, first.unchanged) == (2, 1, 0)
    assert (again.unchanged, again_matcher.queries) == (3, [])
    assert (again.auto, again.unmatched) == (2, 1)
    assert [q.name for q in third_matcher.queries] == [b.name]
    assert PlatformUser.objects.filter(platform="yimai").count() == 3
    assert set(PlatformUser.objects.values_list("user_list", flat=True)) == {third.pk}
    u2 = PlatformUser.objects.get(platform="yimai", platform_user_id="u2")
    assert (u2.department, u2.outcome, u2.hcp_id) == ("心内科", PlatformOutcome.UNMATCHED, None)
    # the doubtful link went with the match; the others stayed, once each
    assert dict(
        ExternalIdentity.objects.filter(source="yimai").values_list("external_id", "hcp_id")
    ) == {"u1": a.pk}


def test_a_gbk_excel_style_csv_is_read_and_the_hospital_gives_province_and_level() -> None:
    hco = hospitals(HospitalLevel.L3A, 1)[0]
    content = (f"{HEADER}\r\n" + line("g1", "王某某", hco) + "\r\n").encode("gbk")

    user_list = run(content, FakeMatcher())

    user = PlatformUser.objects.get(user_list=user_list)
    assert user_list.encoding == "gb18030"
    assert (user.hco_id, user.hospital_level, user.province) == (hco.pk, "3A", hco.province)
    assert user.outcome == PlatformOutcome.UNMATCHED


def test_a_file_in_no_known_encoding_records_only_a_failed_list() -> None:
    content = "用户ID,姓名,医院\n1,张三,医院\n".encode("utf-16")

    user_list = run(content, FakeMatcher())

    assert user_list.status == PlatformUserList.Status.FAILED
    assert "UTF-8" in user_list.error
    assert not PlatformUser.objects.exists()


def test_a_file_without_a_hospital_column_fails_naming_the_field() -> None:
    content = csv_of("1,张三", header="用户ID,姓名")

    user_list = run(content, FakeMatcher())

    assert user_list.status == PlatformUserList.Status.FAILED
    assert user_list.error == "The file has no column for the required field Hospital."
    assert not PlatformUser.objects.exists()
    assert AuditEvent.objects.filter(
        action="platform_user_list.fail", object_id=str(user_list.pk)
    ).exists()


def test_bad_rows_are_listed_with_row_field_and_reason_and_the_rest_imported() -> None:
    hco = hospitals(HospitalLevel.L3A, 1)[0]
    content = csv_of(
        line("r1", "张三", hco),
        line("r2", "", hco),
        line("r1", "李四", hco),
        line("r4", "王五", hco, phone="abc"),
        line("r5", "赵六", hco, phone="d41d8cd98f00b204e9800998ecf8427e"),
        line("r6", "钱七", hco, phone="13812345678"),
    )

    user_list = run(content, FakeMatcher())

    assert [(e["row"], e["field"], e["column"]) for e in user_list.rejected_rows] == [
        (3, "name", "姓名"),
        (4, "user_id", "用户ID"),
        (5, "phone_hash", "手机号(哈希)"),
        (6, "phone_hash", "手机号(哈希)"),
    ]
    assert user_list.rejected_rows[0]["reason"] == "Name is empty."
    assert user_list.rejected_rows[1]["reason"] == "The user id r1 is also in row 2."
    assert (user_list.rows_read, user_list.rejected) == (6, 4)
    assert sorted(PlatformUser.objects.values_list("platform_user_id", flat=True)) == ["r1", "r6"]


def test_a_changed_row_matching_another_doctor_moves_its_identity_link() -> None:
    hco = hospitals(HospitalLevel.L3A, 1)[0]
    a, b = doctors_at(hco, 2)
    run(csv_of(line("m1", a.name, hco)), FakeMatcher(auto={a.name: a.pk}))

    run(csv_of(line("m1", a.name, hco, title="主任医师")), FakeMatcher(auto={a.name: b.pk}))

    identity = ExternalIdentity.objects.get(source="yimai", external_id="m1")
    assert identity.hcp_id == b.pk
    assert PlatformUser.objects.get(platform_user_id="m1").hcp_id == b.pk


def test_the_cli_imports_a_list_and_prints_its_match_rate(tmp_path: Path) -> None:
    hcp = HCP.objects.filter(status=RecordStatus.ACTIVE).select_related("primary_hco").first()
    assert hcp is not None
    path = tmp_path / "users.csv"
    path.write_bytes(csv_of(line("c1", hcp.name, hcp.primary_hco), line("c2", "", "某医院")))
    out = io.StringIO()

    call_command("mdm", "platform-import", str(path), "--platform", "cli-platform", stdout=out)

    user = PlatformUser.objects.get(platform="cli-platform")
    assert (user.outcome, user.hcp_id) == ("auto", hcp.pk)
    assert out.getvalue().startswith("1 users (1 rows rejected): 1 matched automatically")
    assert "match rate 100.0 %" in out.getvalue()


def test_a_list_overtaken_by_another_list_of_the_platform_writes_nothing_and_waits() -> None:
    hco = hospitals(HospitalLevel.L3A, 1)[0]

    class Overtaken(FakeMatcher):
        def __call__(self, query: HCPQuery) -> list[Suggestion]:
            if not self.queries:  # another list brings the same user while this one matches
                run(csv_of(line("o1", "甲某", hco, title="主治医师")), FakeMatcher())
            return super().__call__(query)

    staged = platform_users.platform_list_stage(
        actor=None,
        platform="yimai",
        platform_name="",
        file_name="late.csv",
        content=csv_of(line("o1", "甲某", hco)),
    )
    with pytest.raises(platform_users.ApplicationError) as error:
        platform_users.platform_list_run(
            actor=None, user_list=staged, mapping=staged.mapping, matcher=Overtaken()
        )

    staged.refresh_from_db()
    assert error.value.field == "mapping"
    assert staged.status == PlatformUserList.Status.PENDING
    user = PlatformUser.objects.get(platform="yimai")
    assert (user.title, user.user_list_id != staged.pk) == ("主治医师", True)


# --- report --------------------------------------------------------------------------------


def test_the_report_counts_outcomes_by_province_and_hospital_level() -> None:
    top = hospitals(HospitalLevel.L3A, 1)[0]
    county = next(h for h in hospitals(HospitalLevel.L2A, 50) if h.province != top.province)
    a, b, c = doctors_at(top, 3)
    d, e = doctors_at(county, 2)
    content = csv_of(
        line("1", a.name, top),
        line("2", b.name, top),
        line("3", c.name, top),
        line("4", d.name, county),
        line("5", e.name, county),
        line("6", "不认识", "火星第一医院", province="浙江省", city="杭州市"),
    )
    matcher = FakeMatcher(auto={a.name: a.pk, b.name: b.pk, d.name: d.pk}, review={c.name: [c.pk]})

    user_list = run(content, matcher)
    report = platform_report.platform_report(user_list=user_list)

    overall = report.overall
    assert (overall.total, overall.auto, overall.review, overall.unmatched) == (6, 3, 1, 2)
    assert overall.match_rate == 50.0
    levels = {row.key: row.counts for row in report.by_level}
    assert list(levels) == ["3A", "2A", "none"]
    assert (levels["3A"].total, levels["3A"].auto, levels["3A"].review) == (3, 2, 1)
    assert (levels["2A"].total, levels["2A"].auto, levels["2A"].unmatched) == (2, 1, 1)
    assert (levels["none"].total, levels["none"].unmatched) == (1, 1)
    assert [row.label for row in report.by_level] == ["Tier 3A", "Tier 2A", "Hospital not found"]
    provinces = {row.key: row.counts.total for row in report.by_province}
    expected: Counter[str] = Counter()
    expected[top.province] += 3
    expected[county.province] += 2
    expected["浙江省"] += 1
    assert provinces == dict(expected)


# --- review --------------------------------------------------------------------------------


def review_user(cast_user: Callable[[str], Any]) -> tuple[PlatformUser, HCP, HCP]:
    hco = hospitals(HospitalLevel.L3A, 1)[0]
    a, b = doctors_at(hco, 2)
    run(csv_of(line("rv", a.name, hco)), FakeMatcher(review={a.name: [a.pk, b.pk]}))
    return PlatformUser.objects.get(platform_user_id="rv"), a, b


def test_confirming_a_candidate_links_the_user_and_is_audited(cast_user: Any) -> None:
    user, _a, b = review_user(cast_user)
    steward = cast_user("steward")

    platform_users.platform_user_decide(actor=steward, user_id=user.pk, hcp_id=b.pk)

    user.refresh_from_db()
    assert (user.outcome, user.hcp_id, user.decided_by) == ("confirmed", b.pk, steward)
    identity = ExternalIdentity.objects.get(source="yimai", external_id="rv")
    assert identity.hcp_id == b.pk
    event = AuditEvent.objects.get(action="platform_user.confirm", object_id=str(user.pk))
    assert event.before == {"outcome": "review", "hcp_id": None}
    assert event.after is not None
    assert event.after["hcp_id"] == b.pk
    assert platform_report.platform_report(user_list=user.user_list).overall.match_rate == 100.0


def test_none_of_these_leaves_the_user_unmatched_and_a_second_decision_is_refused(
    cast_user: Any,
) -> None:
    user, a, _b = review_user(cast_user)
    steward = cast_user("steward")

    platform_users.platform_user_decide(actor=steward, user_id=user.pk, hcp_id=None)
    with pytest.raises(platform_users.ApplicationError) as error:
        platform_users.platform_user_decide(actor=steward, user_id=user.pk, hcp_id=a.pk)

    user.refresh_from_db()
    assert (user.outcome, user.hcp_id) == ("unmatched", None)
    assert error.value.field == "decision"
    assert not ExternalIdentity.objects.filter(source="yimai").exists()
    assert AuditEvent.objects.filter(object_type="platform_user").count() == 1


def test_a_doctor_not_offered_cannot_be_confirmed(cast_user: Any) -> None:
    user, _a, _b = review_user(cast_user)
    other = HCP.objects.exclude(pk__in=[c["hcp_id"] for c in user.candidates]).first()
    assert other is not None

    with pytest.raises(platform_users.ApplicationError) as error:
        platform_users.platform_user_decide(
            actor=cast_user("steward"), user_id=user.pk, hcp_id=other.pk
        )
    assert error.value.field == "hcp"


# --- personal information ------------------------------------------------------------------


def test_phone_numbers_and_openids_are_never_stored_in_clear() -> None:
    hco = hospitals(HospitalLevel.L3A, 1)[0]
    openid = "oWx1Ab2Cd3Ef4Gh5Ij6Kl7Mn8"
    content = csv_of(line("p1", "孙八", hco, phone="138-1234-5678", openid=openid))

    user_list = run(content, FakeMatcher())

    user = PlatformUser.objects.get(user_list=user_list)
    assert user.phone_hash == pi.blind_index("13812345678")
    assert (user.openid_hash, user.openid_masked) == (pi.blind_index(openid), "oWx1****7Mn8")
    user_list.refresh_from_db()
    stored = json.dumps(
        [
            list(PlatformUser.objects.filter(pk=user.pk).values().get().values()),
            list(PlatformUserList.objects.filter(pk=user_list.pk).values().get().values()),
            list(AuditEvent.objects.values_list("before", "after")),
        ],
        default=str,
        ensure_ascii=False,
    )
    for clear in ("13812345678", "1234-5678", openid):
        assert clear not in stored


# --- pages ---------------------------------------------------------------------------------


def selected(page: str, field: str) -> str:
    select = re.search(rf'<select name="map-{field}".*?</select>', page, re.S)
    assert select is not None
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


def test_steward_uploads_maps_and_reads_the_report(client_as: Callable[..., Client]) -> None:
    client = client_as("steward")
    hco = hospitals(HospitalLevel.L3A, 1)[0]
    content = csv_of(line("w1", "网页测试", hco), line("w2", "", hco))
    # given: the upload leads to the mapping, suggested from the Chinese headers
    response = client.post(
        reverse("masterdata:platform-new"),
        {
            "platform": "web-platform",
            "platform_name": "好大夫",
            "file": SimpleUploadedFile("用户.csv", content, content_type="text/csv"),
        },
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert [selected(page, f) for f in ("user_id", "name", "hospital", "phone_hash")] == [
        "用户ID",
        "姓名",
        "医院",
        "手机号(哈希)",
    ]
    user_list = PlatformUserList.objects.get(platform="web-platform")
    form = {f"map-{f}": c for f, c in user_list.mapping.items()} | {"list": str(user_list.pk)}
    # when: the steward confirms it, twice (a retried POST)
    done = client.post(reverse("masterdata:platform-new"), form)
    retried = client.post(reverse("masterdata:platform-new"), form)
    # then: one import, and its report
    detail = reverse("masterdata:platform-detail", args=[user_list.pk])
    assert (done["Location"], retried["Location"]) == (detail, detail)
    assert PlatformUser.objects.filter(platform="web-platform").count() == 1
    report = client.get(detail).content.decode()
    assert 'data-count="total">1<' in report
    assert 'data-rejected-row="3" data-field="name"' in report
    assert "Tier 3A" in report


def test_marketing_reads_reports_and_exports_but_cannot_upload_or_decide(
    client_as: Callable[..., Client], cast_user: Any
) -> None:
    user, a, _b = review_user(cast_user)
    run(csv_of(line("gone", "无名氏", "火星医院")), FakeMatcher(), platform="yimai")
    user_list = PlatformUser.objects.get(platform_user_id="gone").user_list
    client = client_as("marketing")

    listing = client.get(reverse("masterdata:platform-list")).content.decode()
    review = client.get(reverse("masterdata:platform-review", args=[user.user_list_id]))
    export = client.get(reverse("masterdata:platform-unmatched", args=[user_list.pk]))
    upload = client.get(reverse("masterdata:platform-new"))
    decide = client.post(
        reverse("masterdata:platform-review", args=[user.user_list_id]),
        {"user": user.pk, "hcp": a.pk},
    )

    assert f'data-list="{user_list.pk}"' in listing
    assert review.status_code == 200
    assert a.name in review.content.decode()
    assert 'data-action="confirm"' not in review.content.decode()
    text = export.content.decode("utf-8")
    assert text.startswith("\ufeffRow,Platform user id,Name")
    assert "gone,无名氏,火星医院" in text
    assert (upload.status_code, decide.status_code) == (403, 403)
    assert client_as("rep_hangzhou").get(reverse("masterdata:platform-list")).status_code == 403


def test_steward_confirms_on_the_review_page(
    client_as: Callable[..., Client], cast_user: Any
) -> None:
    user, a, _b = review_user(cast_user)
    client = client_as("steward")
    url = reverse("masterdata:platform-review", args=[user.user_list_id])
    assert 'data-action="confirm"' in client.get(url).content.decode()

    response = client.post(url, {"user": user.pk, "hcp": a.pk})
    again = client.post(url, {"user": user.pk, "hcp": "none"}, follow=True)

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.outcome, user.hcp_id) == ("confirmed", a.pk)
    assert "This user has already been decided." in again.content.decode()
    assert "Nothing to review in this list." in again.content.decode()


def test_platform_pages_speak_chinese_and_fit_a_phone(
    client_as: Callable[..., Client], cast_user: Any
) -> None:
    user, _a, _b = review_user(cast_user)
    client = client_as("steward", language="zh-hans")

    for name, args in (
        ("masterdata:platform-list", []),
        ("masterdata:platform-new", []),
        ("masterdata:platform-detail", [user.user_list_id]),
        ("masterdata:platform-review", [user.user_list_id]),
    ):
        page = client.get(reverse(name, args=args)).content.decode()
        assert '<html lang="zh-Hans">' in page
        assert 'name="viewport"' in page
    detail = client.get(reverse("masterdata:platform-detail", args=[user.user_list_id]))
    assert "三级甲等" in detail.content.decode()
    assert "状态" in detail.content.decode()


def test_the_menu_leads_marketing_and_stewards_to_doctor_platforms(
    client_as: Callable[..., Client],
) -> None:
    url = reverse("masterdata:platform-list")
    for username in ("marketing", "steward", "admin"):
        assert f'href="{url}"' in client_as(username).get(reverse("org:home")).content.decode()
    assert (
        f'href="{url}"' not in client_as("rep_hangzhou").get(reverse("org:home")).content.decode()
    )

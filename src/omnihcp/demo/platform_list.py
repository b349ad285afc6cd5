"""A noisy doctor-platform user list made from the demo master, with its ground truth.

Most users are master doctors written the way a platform's sign-up form collects them:
homophone typos and traditional characters in names, short or city-less hospital names,
missing departments and titles, a phone hash for some (``core.pi.blind_index`` of the number,
as platforms send it). The rest are doctors the master does not know (no doctor of that name,
in pinyin, at their hospital), at master hospitals (so province and level still show in a
report) or at hospitals it does not know. Every row keeps its truth (``true_hcp_id``, None for
unknown doctors) outside the file. Same seed, same list.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass

from omnihcp.core import pi
from omnihcp.demo import noisy
from omnihcp.masterdata.models import HCP, RecordStatus
from omnihcp.masterdata.textkeys import pinyin_key

DEFAULT_SEED = 20261123
COLUMNS = ("用户ID", "姓名", "医院", "科室", "职称", "省份", "城市", "手机号(哈希)", "openid")
TITLE_TEXT = {
    "chief_physician": "主任医师",
    "associate_chief": "副主任医师",
    "attending": "主治医师",
    "resident": "住院医师",
    "chief_pharmacist": "主任药师",
    "pharmacist": "药师",
    "nurse": "护士",
}
UNKNOWN_HOSPITALS = ("仁心诊所", "康宁门诊部", "华夏健康体检中心", "瑞和私立医院")


@dataclass(frozen=True)
class PlatformRow:
    user_id: str
    name: str
    hospital: str
    department: str
    title: str
    province: str
    city: str
    phone_hash: str
    openid: str
    true_hcp_id: int | None
    noise: tuple[str, ...]

    def cells(self) -> tuple[str, ...]:
        return (
            self.user_id,
            self.name,
            self.hospital,
            self.department,
            self.title,
            self.province,
            self.city,
            self.phone_hash,
            self.openid,
        )


def _hospital(rng: random.Random, hcp: HCP, noise: list[str]) -> str:
    hco = hcp.primary_hco
    roll = rng.random()
    if roll < 0.3 and hco.short_name:
        noise.append("hospital_short")
        return hco.short_name
    if roll < 0.5 and hco.name.startswith(hco.city) and len(hco.name) > len(hco.city) + 3:
        noise.append("hospital_no_city")
        return hco.city.removesuffix("市") + hco.name[len(hco.city) :]
    if roll < 0.55:
        noise.append("hospital_traditional")
        return str(noisy._to_traditional().convert(hco.name))
    return hco.name


def _known(rng: random.Random, hcp: HCP, user_id: str, phone_share: float) -> PlatformRow:
    noise: list[str] = []
    name = hcp.name
    roll = rng.random()
    if roll < 0.1:
        name = noisy._typo(rng, name)
        noise.append("name_typo" if name != hcp.name else "")
    elif roll < 0.15:
        name = str(noisy._to_traditional().convert(name))
        noise.append("name_traditional")
    hospital = _hospital(rng, hcp, noise)
    department = hcp.department.name if hcp.department else ""
    if department and rng.random() < 0.2:
        department = ""
        noise.append("missing_department")
    title = TITLE_TEXT.get(hcp.title, "")
    if rng.random() < 0.2:
        title = ""
        noise.append("missing_title")
    phone_hash = ""
    if hcp.mobile_encrypted and rng.random() < phone_share:
        phone_hash = pi.blind_index(pi.decrypt(hcp.mobile_encrypted))
        noise.append("phone_hash")
    located = rng.random() < 0.7
    hco = hcp.primary_hco
    return PlatformRow(
        user_id=user_id,
        name=name,
        hospital=hospital,
        department=department,
        title=title,
        province=hco.province if located else "",
        city=hco.city if located else "",
        phone_hash=phone_hash,
        openid=f"o{rng.getrandbits(100):025x}" if rng.random() < 0.5 else "",
        true_hcp_id=hcp.pk,
        noise=tuple(n for n in noise if n),
    )


def _stranger(rng: random.Random, hcp: HCP) -> str:
    """A name no doctor of the hospital has, not even spelt differently (同音): else the truth
    "unknown" would be a coin toss."""
    for _attempt in range(20):
        name = noisy._person_name(rng)
        taken = HCP.objects.filter(primary_hco_id=hcp.primary_hco_id, name_pinyin=pinyin_key(name))
        if not taken.exists():
            return name
    return name


def _unknown(rng: random.Random, hcp: HCP, user_id: str) -> PlatformRow:
    hco = hcp.primary_hco
    elsewhere = rng.random() < 0.1
    return PlatformRow(
        user_id=user_id,
        name=_stranger(rng, hcp),
        hospital=rng.choice(UNKNOWN_HOSPITALS) if elsewhere else hco.name,
        department=hcp.department.name if hcp.department else "",
        title=rng.choice(list(TITLE_TEXT.values())[:4]),
        province=hco.province,
        city=hco.city,
        phone_hash="",
        openid="",
        true_hcp_id=None,
        noise=("unknown_doctor", *(("unknown_hospital",) if elsewhere else ())),
    )


def platform_rows(
    n: int, *, seed: int = DEFAULT_SEED, unknown_share: float = 0.15, phone_share: float = 0.3
) -> list[PlatformRow]:
    """``n`` users of a made-up platform: master doctors with noise, and unknown doctors."""
    rng = random.Random(f"{seed}-platform")
    ids = list(
        HCP.objects.filter(status=RecordStatus.ACTIVE).order_by("id").values_list("id", flat=True)
    )
    chosen = rng.sample(ids, min(n, len(ids)))
    hcps = HCP.objects.filter(pk__in=chosen).select_related("primary_hco", "department")
    by_id = {hcp.pk: hcp for hcp in hcps}
    rows = []
    for i, pk in enumerate(chosen, start=1):
        user_id = f"U{seed % 10_000:04d}{i:07d}"
        if rng.random() < unknown_share:
            rows.append(_unknown(rng, by_id[pk], user_id))
        else:
            rows.append(_known(rng, by_id[pk], user_id, phone_share))
    return rows


def platform_csv(
    rows: Iterable[PlatformRow], *, encoding: str = "utf-8", columns: tuple[str, ...] = COLUMNS
) -> bytes:
    """The list as the platform would send it (no ground truth in the file)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows(row.cells() for row in rows)
    return out.getvalue().encode(encoding)

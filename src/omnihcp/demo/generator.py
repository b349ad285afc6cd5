"""Deterministic generator of the demo company (a cardiovascular and gastroenterology maker).

Same seed, same company: every random choice comes from one ``random.Random(seed)``. Rows are
written with ``bulk_create`` in bounded batches so a million HCPs stream through in constant
memory; the whole run is one transaction and one audit event, so a failed run leaves nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from omnihcp.core import pi
from omnihcp.demo import data
from omnihcp.demo.cast import CAST, DEMO_PASSWORD
from omnihcp.governance.services import audit_append
from omnihcp.masterdata import textkeys
from omnihcp.masterdata.models import (
    HCO,
    HCP,
    Affiliation,
    ExternalIdentity,
    Gender,
    HCODepartment,
    HCOType,
    HospitalLevel,
    Position,
    StandardDepartment,
    Title,
)
from omnihcp.masterdata.validation import USCC_ALPHABET, uscc_check_character
from omnihcp.org.models import (
    SKU,
    BusinessUnit,
    Employee,
    OrgLevel,
    OrgNode,
    Product,
    Role,
    Territory,
    TerritoryHCO,
    TerritoryRep,
    TherapyArea,
    User,
)

DEFAULT_HCPS = 20_000
DEFAULT_SEED = 20261123
BATCH = 5_000
TERRITORY_START = dt.date(2026, 1, 1)
NUMERALS = "一二三四五六七八九十"

# type/level mix of HCOs and the weight of HCPs each gets
HCO_MIX: list[tuple[str, str, float, float]] = [
    (HCOType.HOSPITAL, HospitalLevel.L3A, 0.04, 60),
    (HCOType.HOSPITAL, HospitalLevel.L3B, 0.04, 32),
    (HCOType.HOSPITAL, HospitalLevel.L2A, 0.09, 22),
    (HCOType.HOSPITAL, HospitalLevel.L2B, 0.05, 11),
    (HCOType.HOSPITAL, HospitalLevel.L1, 0.03, 5),
    (HCOType.COMMUNITY, "", 0.28, 4),
    (HCOType.CLINIC, "", 0.10, 2),
    (HCOType.PHARMACY, "", 0.33, 1.5),
    (HCOType.DISTRIBUTOR, "", 0.04, 0),
]
MOBILE_PREFIXES = [
    "138",
    "139",
    "135",
    "136",
    "137",
    "150",
    "151",
    "152",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
    "177",
    "199",
]


def _coordinates(city: str, district: str, n: int) -> dict[str, float]:
    """Invented but stable coordinates: a point per city inside China, districts a few km
    around it, hospitals within a district's streets (no random draws: the rest of the demo
    stays as it was)."""

    def unit(text: str) -> float:
        return zlib.crc32(text.encode()) / 0xFFFFFFFF

    latitude = 22.0 + 18.0 * unit(city) + 0.08 * (unit(city + district) - 0.5)
    longitude = 102.0 + 20.0 * unit(city[::-1]) + 0.08 * (unit(district + city) - 0.5)
    return {
        "latitude": round(latitude + 0.02 * (unit(f"{n}a") - 0.5), 6),
        "longitude": round(longitude + 0.02 * (unit(f"{n}b") - 0.5), 6),
    }


@dataclass
class Slot:
    """One city district where HCOs are placed, and the org district that covers it."""

    province: str
    city: str
    district: str
    org_district: OrgNode | None = None
    hco_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class DemoSummary:
    hcos: int
    hcps: int
    reps: int
    districts: int
    cities: int
    users: int


class Generator:
    def __init__(self, *, hcps: int, seed: int) -> None:
        self.target_hcps = hcps
        self.rng = random.Random(seed)
        self.name_counts: dict[str, int] = {}
        self.password_hash = make_password(DEMO_PASSWORD)
        self.slots: list[Slot] = []
        self.employees_by_node: dict[str, list[Employee]] = {}
        self.rep_bu: dict[str, str] = {}

    # ---------------------------------------------------------------- org and products
    def products(self) -> dict[str, BusinessUnit]:
        units = {
            "CV": BusinessUnit.objects.create(
                code="CV", name="心血管事业部", name_en="Cardiovascular BU"
            ),
            "GI": BusinessUnit.objects.create(
                code="GI", name="消化事业部", name_en="Gastroenterology BU"
            ),
        }
        areas = {
            "CV": TherapyArea.objects.create(code="CV", name="心血管", name_en="Cardiovascular"),
            "GI": TherapyArea.objects.create(code="GI", name="消化", name_en="Gastroenterology"),
        }
        for code, name, name_en, bu, ta, molecule, molecule_en, vbp, skus in data.PRODUCTS:
            product = Product.objects.create(
                code=code,
                brand_name=name,
                brand_name_en=name_en,
                molecule=molecule,
                molecule_en=molecule_en,
                business_unit=units[bu],
                therapy_area=areas[ta],
                vbp_contracted=vbp,
            )
            SKU.objects.bulk_create(
                SKU(
                    code=f"{code}-{i + 1:02d}",
                    product=product,
                    specification=spec,
                    pack=pack,
                    list_price=Decimal(price),
                )
                for i, (spec, pack, price) in enumerate(skus)
            )
        return units

    def node(self, code: str, name: str, level: str, parent: OrgNode | None) -> OrgNode:
        node = OrgNode.objects.create(code=code, name=name, level=level, parent=parent, path="/")
        node.path = f"{parent.path if parent else '/'}{node.pk}/"
        node.save(update_fields=["path"])
        return node

    def org(self) -> list[OrgNode]:
        """National → 4 regions → 12 areas → 40 districts, and the slots each district covers."""
        national = self.node("CN", "全国", OrgLevel.NATIONAL, None)
        districts: list[OrgNode] = []
        for r_code, r_name, areas in data.REGIONS:
            region = self.node(r_code, r_name, OrgLevel.REGION, national)
            for a_code, a_name, cities in areas:
                area = self.node(a_code, a_name, OrgLevel.AREA, region)
                slots = [Slot(p, c, d) for p, c, ds in cities for d in ds]
                groups = 4 if len(slots) >= 20 else 3
                size = -(-len(slots) // groups)
                seen: dict[str, int] = {}
                for g in range(groups):
                    chunk = slots[g * size : (g + 1) * size]
                    if not chunk:
                        continue
                    short = chunk[0].city.removesuffix("市")
                    seen[short] = seen.get(short, 0) + 1
                    name = f"{short}{NUMERALS[seen[short] - 1]}片区"
                    district = self.node(f"{a_code}-{g + 1}", name, OrgLevel.DISTRICT, area)
                    for slot in chunk:
                        slot.org_district = district
                    districts.append(district)
                    self.slots.extend(chunk)
        return districts

    def employees(self, districts: list[OrgNode]) -> list[Employee]:
        employees: list[Employee] = []
        counter = 0

        def add(node: OrgNode, position: str, name: str) -> Employee:
            nonlocal counter
            counter += 1
            employee = Employee(
                employee_no=f"E{counter:05d}",
                name=name,
                org_node=node,
                position=position,
                hired_on=dt.date(2018, 1, 1) + dt.timedelta(days=self.rng.randrange(2500)),
            )
            employees.append(employee)
            self.employees_by_node.setdefault(node.code, []).append(employee)
            return employee

        managers = {
            OrgLevel.REGION: Role.REGIONAL_MANAGER,
            OrgLevel.AREA: Role.AREA_MANAGER,
            OrgLevel.DISTRICT: Role.DISTRICT_MANAGER,
        }
        for node in OrgNode.objects.exclude(level=OrgLevel.NATIONAL).order_by("path"):
            add(node, managers[OrgLevel(node.level)], self.person_name())
        for index, district in enumerate(districts):
            # 150 reps: two cardiovascular and two GI reps per district, one GI rep fewer in ten.
            for bu, count in (("CV", 2), ("GI", 1 if index % 4 == 3 else 2)):
                for _ in range(count):
                    rep = add(district, Role.REP, self.person_name())
                    self.rep_bu[rep.employee_no] = bu
        Employee.objects.bulk_create(employees)
        for node in OrgNode.objects.exclude(level=OrgLevel.NATIONAL):
            node.manager = self.employees_by_node[node.code][0]
            node.save(update_fields=["manager"])
        return employees

    def users(self) -> int:
        """One user per cast member, tied to the employee who holds that place in the org."""
        stewards, _ = Group.objects.get_or_create(name="Data stewards")
        # Stewards keep master data in the admin; they may not delete (records are merged
        # or set inactive, never removed, so lineage and audit stay whole).
        stewards.permissions.set(
            Permission.objects.filter(content_type__app_label="masterdata").exclude(
                codename__startswith="delete_"
            )
        )
        for member in CAST:
            user = User.objects.create(
                username=member.username,
                role=member.role,
                display_name=member.display_name,
                password=self.password_hash,
                is_staff=member.role in {Role.ADMIN, Role.DATA_STEWARD},
                is_superuser=member.role == Role.ADMIN,
                email=f"{member.username}@demo.omnihcp.cn",
                # field people open OmniHCP from WeCom and get its app messages
                wecom_userid=member.username if member.org_node else "",
            )
            if member.org_node:
                candidates = self.employees_by_node[member.org_node]
                employee = next(
                    e for e in candidates if e.position == member.role and e.user_id is None
                )
                employee.user = user
                employee.save(update_fields=["user"])
            if member.role == Role.DATA_STEWARD:
                user.groups.add(stewards)
        return len(CAST)

    # ---------------------------------------------------------------- names
    def person_name(self) -> str:
        surname = self.rng.choices(data.SURNAMES, weights=data.SURNAME_WEIGHTS)[0]
        if self.rng.random() < 0.02:
            return self.rng.choice(data.COMMON_FULL_NAMES)
        given = self.rng.choice(data.GIVEN_CHARS)
        if self.rng.random() < 0.7:
            given += self.rng.choice(data.GIVEN_CHARS)
        return surname + given

    def unique(self, name: str) -> str:
        count = self.name_counts.get(name, 0) + 1
        self.name_counts[name] = count
        return (
            name
            if count == 1
            else f"{name}（{NUMERALS[min(count, 10) - 1]}部）"
            if count <= 10
            else f"{name}（{count}）"
        )

    def hco_name(self, slot: Slot, hco_type: str, level: str) -> tuple[str, str]:
        rng, city, district = self.rng, slot.city, slot.district
        street = rng.choice(data.STREETS)
        if hco_type == HCOType.HOSPITAL:
            universities = data.UNIVERSITIES.get(city, [])
            if level == HospitalLevel.L3A and universities and rng.random() < 0.5:
                n = rng.randrange(1, 4)
                name = f"{rng.choice(universities)}附属第{NUMERALS[n - 1]}医院"
                return self.unique(name), name.replace("附属第", "附").replace("医院", "院")
            if level in {HospitalLevel.L3A, HospitalLevel.L3B}:
                kind = rng.choice(
                    ["第{n}人民医院", "中心医院", "中医院", "妇幼保健院", "第{n}医院"]
                )
                name = f"{city}" + kind.format(n=NUMERALS[rng.randrange(7)])
                return self.unique(name), ""
            kind = rng.choice(["人民医院", "中医医院", "第{n}人民医院", "妇幼保健院"])
            return self.unique(
                f"{city.removesuffix('市')}{district}" + kind.format(n=NUMERALS[rng.randrange(5)])
            ), ""
        if hco_type == HCOType.COMMUNITY:
            return self.unique(f"{city}{district}{street}社区卫生服务中心"), ""
        if hco_type == HCOType.CLINIC:
            return self.unique(f"{district}{street}{self.person_name()[0]}氏诊所"), ""
        if hco_type == HCOType.PHARMACY:
            chain = rng.choice(data.PHARMACY_CHAINS)
            return self.unique(f"{chain}（{city.removesuffix('市')}{street}店）"), ""
        group = rng.choice(data.DISTRIBUTOR_GROUPS)
        return self.unique(f"{group}{city.removesuffix('市')}医药有限公司"), ""

    def uscc(self, enterprise: bool) -> str:
        head = "91" if enterprise else "12"
        body = (
            head
            + f"{self.rng.randrange(110000, 659999):06d}"
            + "".join(self.rng.choice(USCC_ALPHABET) for _ in range(9))
        )
        return body + uscc_check_character(body)

    # ---------------------------------------------------------------- HCOs and HCPs
    def hcos(
        self, n_hcos: int, departments: dict[str, StandardDepartment]
    ) -> list[tuple[int, str, str, list[int]]]:
        """Create HCOs with their departments; return (id, type, level, department ids)."""
        mix_weights = [m[2] for m in HCO_MIX]
        rows: list[HCO] = []
        for i in range(n_hcos):
            # Every slot gets HCOs; bigger cities, having more districts, get more.
            slot = self.slots[i % len(self.slots)]
            hco_type, level, _share, _w = self.rng.choices(HCO_MIX, weights=mix_weights)[0]
            if i < len(self.slots) * 2:
                # Every city district has at least a hospital and a community centre.
                hco_type, level = (
                    (HCOType.HOSPITAL, HospitalLevel.L3A)
                    if i < len(self.slots)
                    else (HCOType.COMMUNITY, "")
                )
            name, short = self.hco_name(slot, hco_type, level)
            beds = None
            if hco_type == HCOType.HOSPITAL:
                beds = {"3A": 1500, "3B": 800, "2A": 400, "2B": 200, "1": 60}[level]
                beds = int(beds * self.rng.uniform(0.6, 1.6))
            rows.append(
                HCO(
                    code=f"HCO{i + 1:08d}",
                    name=name,
                    short_name=short,
                    name_pinyin=textkeys.pinyin_key(name)[:400],
                    name_initials=textkeys.initials_key(name)[:120],
                    hco_type=hco_type,
                    level=level,
                    province=slot.province,
                    city=slot.city,
                    district=slot.district,
                    address=f"{slot.province if slot.province != slot.city else ''}{slot.city}"
                    f"{slot.district}{self.rng.choice(data.STREETS)}{self.rng.randrange(1, 999)}号",
                    uscc=self.uscc(hco_type in {HCOType.PHARMACY, HCOType.DISTRIBUTOR})
                    if self.rng.random() < 0.85
                    else None,
                    beds=beds,
                    **_coordinates(slot.city, slot.district, i),
                )
            )
        result: list[tuple[int, str, str, list[int]]] = []
        for start in range(0, len(rows), BATCH):
            batch = HCO.objects.bulk_create(rows[start : start + BATCH])
            dept_rows: list[HCODepartment] = []
            for i, hco in enumerate(batch):
                self.slots[(start + i) % len(self.slots)].hco_ids.append(hco.pk)
                for code in self.department_codes(hco.hco_type, hco.level):
                    std = departments[code]
                    dept_rows.append(HCODepartment(hco=hco, name=std.name, standard=std))
            HCODepartment.objects.bulk_create(dept_rows, batch_size=BATCH)
            by_hco: dict[int, list[int]] = {}
            for dept in dept_rows:
                by_hco.setdefault(dept.hco_id, []).append(dept.pk)
            result.extend((h.pk, h.hco_type, h.level, by_hco.get(h.pk, [])) for h in batch)
        return result

    def department_codes(self, hco_type: str, level: str) -> list[str]:
        everything = [d[0] for d in data.DEPARTMENTS]
        if hco_type == HCOType.HOSPITAL:
            size = {"3A": 18, "3B": 14, "2A": 11, "2B": 7, "1": 5}[level]
            core = ["D01", "D02", "D12"]
            rest = [c for c in everything if c not in core]
            return core + self.rng.sample(rest, size - len(core))
        if hco_type == HCOType.COMMUNITY:
            return ["D10", "D20", "D12"]
        if hco_type == HCOType.CLINIC:
            return ["D10"]
        return []

    def hcp_rows(
        self, hcos: list[tuple[int, str, str, list[int]]], departments: dict[int, str]
    ) -> Iterator[tuple[HCP, int]]:
        weights = {(t, lvl): w for t, lvl, _s, w in HCO_MIX}
        total_weight = sum(weights[(t, lvl)] for _id, t, lvl, _d in hcos)
        per_weight = self.target_hcps / total_weight if total_weight else 0
        made, carry = 0, 0.0
        for index, (hco_id, hco_type, level, dept_ids) in enumerate(hcos):
            carry += weights[(hco_type, level)] * per_weight
            count = int(carry)
            carry -= count
            if index == len(hcos) - 1:
                count = self.target_hcps - made
            for _ in range(max(count, 0)):
                made += 1
                yield self.hcp(made, hco_id, hco_type, dept_ids, departments), hco_id

    def hcp(
        self, n: int, hco_id: int, hco_type: str, dept_ids: list[int], departments: dict[int, str]
    ) -> HCP:
        rng = self.rng
        name = self.person_name()
        if hco_type == HCOType.PHARMACY:
            title = rng.choice([Title.PHARMACIST, Title.PHARMACIST, Title.CHIEF_PHARMACIST])
            dept_id = None
        else:
            title = rng.choices(
                [
                    Title.CHIEF_PHYSICIAN,
                    Title.ASSOCIATE_CHIEF,
                    Title.ATTENDING,
                    Title.RESIDENT,
                    Title.NURSE,
                ],
                weights=[12, 22, 36, 25, 5],
            )[0]
            # Most of our doctors sit in cardiology and gastroenterology wards.
            preferred = [d for d in dept_ids if departments[d] in {"D01", "D02"}]
            dept_id = (
                rng.choice(preferred)
                if preferred and rng.random() < 0.6
                else rng.choice(dept_ids)
                if dept_ids
                else None
            )
        position = ""
        if title in {Title.CHIEF_PHYSICIAN, Title.ASSOCIATE_CHIEF} and rng.random() < 0.2:
            position = rng.choice([Position.DEPARTMENT_HEAD, Position.DEPUTY_HEAD])
        mobile = licence = ""
        if rng.random() < 0.75:
            mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        if title != Title.NURSE and rng.random() < 0.8:
            licence = f"1{rng.randrange(10, 66)}{rng.randrange(10**12):012d}"
        return HCP(
            code=f"HCP{n:08d}",
            name=name,
            name_pinyin=textkeys.pinyin_key(name),
            name_initials=textkeys.initials_key(name),
            gender=rng.choice([Gender.MALE, Gender.FEMALE]),
            title=title,
            position=position,
            specialty=rng.choice(data.SPECIALTIES.get(departments.get(dept_id, ""), [""]))
            if dept_id is not None
            else "",
            primary_hco_id=hco_id,
            department_id=dept_id,
            mobile_encrypted=pi.encrypt(mobile),
            mobile_hash=pi.blind_index(mobile),
            mobile_masked=pi.mask_phone(mobile) if mobile else "",
            licence_encrypted=pi.encrypt(licence),
            licence_hash=pi.blind_index(licence),
            licence_masked=pi.mask_licence(licence) if licence else "",
        )

    def write_hcps(
        self, hcos: list[tuple[int, str, str, list[int]]], departments: dict[int, str]
    ) -> int:
        batch: list[HCP] = []
        count = 0
        for hcp, _hco_id in self.hcp_rows(hcos, departments):
            batch.append(hcp)
            if len(batch) >= BATCH:
                count += self.flush_hcps(batch)
                batch = []
        return count + self.flush_hcps(batch)

    def flush_hcps(self, batch: list[HCP]) -> int:
        if not batch:
            return 0
        created = HCP.objects.bulk_create(batch)
        Affiliation.objects.bulk_create(
            Affiliation(
                hcp_id=h.pk, hco_id=h.primary_hco_id, department_id=h.department_id, is_primary=True
            )
            for h in created
        )
        # A third-party doctor platform already knows a share of our doctors.
        ExternalIdentity.objects.bulk_create(
            ExternalIdentity(source="crm", external_id=f"CRM-{h.code[3:]}", hcp_id=h.pk)
            for h in created
        )
        return len(created)

    # ---------------------------------------------------------------- territories
    def territories(self, units: dict[str, BusinessUnit], employees: list[Employee]) -> int:
        hco_types = dict(HCO.objects.values_list("id", "hco_type"))
        reps_by_district: dict[int, dict[str, list[Employee]]] = {}
        for employee in employees:
            if employee.position == Role.REP:
                bu = self.rep_bu[employee.employee_no]
                reps_by_district.setdefault(employee.org_node_id, {}).setdefault(bu, []).append(
                    employee
                )
        covered: dict[int, list[int]] = {}
        for slot in self.slots:
            if slot.org_district is None:  # every slot gets its district in org(); be explicit
                raise RuntimeError(f"city slot {slot} has no district")
            covered.setdefault(slot.org_district.pk, []).extend(
                h for h in slot.hco_ids if hco_types[h] != HCOType.DISTRIBUTOR
            )
        territory_hcos: list[TerritoryHCO] = []
        count = 0
        for district_id, hco_ids in covered.items():
            for bu, reps in sorted(reps_by_district[district_id].items()):
                for i, rep in enumerate(reps):
                    count += 1
                    territory = Territory.objects.create(
                        code=f"T-{bu}-{count:04d}",
                        name=f"{rep.org_node.name}{bu}{i + 1}",
                        org_node_id=district_id,
                        business_unit=units[bu],
                    )
                    TerritoryRep.objects.create(
                        territory=territory, employee=rep, valid_from=TERRITORY_START
                    )
                    territory_hcos.extend(
                        TerritoryHCO(territory=territory, hco_id=h, valid_from=TERRITORY_START)
                        for h in hco_ids[i :: len(reps)]
                    )
        TerritoryHCO.objects.bulk_create(territory_hcos, batch_size=BATCH)
        return count


def demo_generate(*, hcps: int = DEFAULT_HCPS, seed: int = DEFAULT_SEED) -> DemoSummary:
    """Create the demo company in an empty database, all in one transaction."""
    if User.objects.exists() or HCO.objects.exists():
        raise RuntimeError("The database already has data; run 'omnihcp demo --reset' to rebuild.")
    generator = Generator(hcps=hcps, seed=seed)
    n_hcos = max(1_500, hcps // 13)
    with transaction.atomic():
        departments = {}
        for code, name, name_en, synonyms, ta in data.DEPARTMENTS:
            departments[code] = StandardDepartment.objects.create(
                code=code, name=name, name_en=name_en, synonyms=synonyms, therapy_area=ta
            )
        units = generator.products()
        districts = generator.org()
        employees = generator.employees(districts)
        users = generator.users()
        hcos = generator.hcos(n_hcos, departments)
        dept_codes = dict(HCODepartment.objects.values_list("id", "standard__code"))
        made = generator.write_hcps(hcos, dept_codes)
        generator.territories(units, employees)
        summary = DemoSummary(
            hcos=len(hcos),
            hcps=made,
            reps=sum(e.position == Role.REP for e in employees),
            districts=len(districts),
            cities=len({(s.province, s.city) for s in generator.slots}),
            users=users,
        )
        audit_append(
            actor=None,
            action="demo.generate",
            object_type="demo",
            object_id=seed,
            after={"seed": seed, **summary.__dict__},
        )
    return summary

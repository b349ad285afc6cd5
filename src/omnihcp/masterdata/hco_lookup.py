"""Free-text HCO names (distributor flow data, source files) → candidate master HCOs.

``HospitalIndex`` is built from plain ``HcoRow`` values, so it works from the database and
from a CSV alike. A lookup standardises the text with ``standardise.hospital_name`` (aliases,
numbering, 附一院 forms, campus, traditional and full-width characters) and then:

1. exact keys: the whole key, the key without its city ("第一人民医院" in 杭州市), the short
   name, and "第N医院" for a city's "第N人民医院" — each together with the campus, so a
   campus and its main hospital stay apart;
2. otherwise rapidfuzz: ``fuzz.ratio`` (a normalised edit similarity) on the whole key and on
   the key without its city, and ``fuzz.partial_ratio`` discounted by coverage for names
   missing a district or chain prefix; first against the HCOs of the city, then of the
   province, then of the whole country, each wider pool scoring lower. Scores drop when the
   numbering (第一 / 第十一) or the campus disagree.

The city is the one given, or read off the start of the text ("杭州第一医院"); a misspelt
city at the start ("许州四院" in 徐州市) is read as the given one, a little less surely. Scores are
0–1; ``CONFIDENT`` is the score from which a match needs no steward.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from omnihcp.masterdata.standardise import hospital_name

CONFIDENT = 0.85
_ORDINALS = re.compile(r"第([一二三四五六七八九十]{1,3})")
_DIGITS = re.compile(r"第?(\d{1,2})")
NUMERALS = "零一二三四五六七八九十"
_PLACE_SUFFIXES = (
    "特别行政区",
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "自治区",
    "自治州",
    "省",
    "市",
)


@dataclass(frozen=True)
class HcoRow:
    id: int
    name: str
    short_name: str = ""
    province: str = ""
    city: str = ""


@dataclass(frozen=True)
class Candidate:
    hco_id: int
    score: float
    reason: str


@dataclass(frozen=True)
class _Entry:
    id: int
    city: str
    province: str
    key: str
    local: str
    campus: str


def _place_short(place: str) -> str:
    for suffix in _PLACE_SUFFIXES:
        if place.endswith(suffix) and len(place) > len(suffix) + 1:
            short = place.removesuffix(suffix)
            return short.removesuffix("白族").removesuffix("回族")
    return place


def _ordinal(match: re.Match[str]) -> str:
    n = int(match.group(1))
    tens, ones = divmod(n, 10)
    if n <= 10:
        return f"第{NUMERALS[n]}"
    return f"第{NUMERALS[tens] if tens > 1 else ''}十{NUMERALS[ones] if ones else ''}"


def _campus_stem(campus: str) -> str:
    return campus.removesuffix("院区").removesuffix("分院")


def _without_place(key: str, city: str) -> str:
    """The key without its city: 杭州第一人民医院 → 第一人民医院; 益丰大药房杭州解放路店 →
    益丰大药房解放路店; 市一院 (the city's first hospital) → 第一医院."""
    short = _place_short(city)
    local = key
    if city and city in local:
        local = local.replace(city, "", 1)
    elif short and short in local and len(local) > len(short) + 2:
        local = local.replace(short, "", 1)
    return local.removeprefix("市") if local.startswith("市第") else local


def _misspelt_place(key: str, city: str) -> str:
    """The key without a misspelt city at its start ("许州四院" in 徐州市), or ""."""
    short = _place_short(city)
    head = key[: len(short)]
    if len(short) >= 2 and len(key) > len(short) + 1 and head != short:
        same = sum(a == b for a, b in zip(head, short, strict=True))
        if same == len(short) - 1:
            return _without_place(short + key[len(short) :], city)
    return ""


class HospitalIndex:
    """An in-memory index of HCO names; build it with ``from_rows``."""

    def __init__(self, entries: list[_Entry], short_names: dict[str, list[int]]) -> None:
        self.entries = entries
        self.exact: dict[tuple[str, str], list[int]] = {}
        self.local: dict[tuple[str, str, str], list[int]] = {}
        self.local_anywhere: dict[tuple[str, str], list[int]] = {}
        self.in_city: dict[str, list[int]] = {}
        self.in_province: dict[str, list[int]] = {}
        for i, entry in enumerate(entries):
            self.exact.setdefault((entry.key, entry.campus), []).append(i)
            self.local.setdefault((entry.city, entry.local, entry.campus), []).append(i)
            self.local_anywhere.setdefault((entry.local, entry.campus), []).append(i)
            self.in_city.setdefault(entry.city, []).append(i)
            self.in_province.setdefault(entry.province, []).append(i)
        for key, ids in short_names.items():
            for i in ids:
                self.exact.setdefault((key, entries[i].campus), [i])
        for i, entry in enumerate(entries):
            # People drop 人民 from a numbered people's hospital: "市一医院", "杭州一院".
            if "人民医院" in entry.local:
                alias = entry.local.replace("人民医院", "医院")
                self.local.setdefault((entry.city, alias, entry.campus), [i])
        self.cities = sorted(
            {(_place_short(e.city), e.city) for e in entries if e.city},
            key=lambda pair: -len(pair[0]),
        )
        self.city_province = {e.city: e.province for e in entries}
        self.national = list(range(len(entries)))
        # The strings rapidfuzz compares, per pool, made once: (whole keys, keys without city).
        self._choices: dict[tuple[str, str], tuple[list[str], list[str]]] = {}

    def _pool_choices(self, name: tuple[str, str], pool: list[int]) -> tuple[list[str], list[str]]:
        if name not in self._choices:
            entries = self.entries
            self._choices[name] = (
                [entries[i].key + entries[i].campus for i in pool],
                [entries[i].local + entries[i].campus for i in pool],
            )
        return self._choices[name]

    @classmethod
    def from_rows(cls, rows: Iterable[HcoRow | tuple[int, str, str, str, str]]) -> HospitalIndex:
        """Index rows of (id, name, short_name, province, city)."""
        entries: list[_Entry] = []
        short_names: dict[str, list[int]] = {}
        for row in rows:
            hco = row if isinstance(row, HcoRow) else HcoRow(*row)
            standard = hospital_name(hco.name)
            entries.append(
                _Entry(
                    id=hco.id,
                    city=hco.city,
                    province=hco.province,
                    key=standard.key,
                    local=_without_place(standard.key, hco.city),
                    campus=_campus_stem(standard.campus),
                )
            )
            if hco.short_name:
                short = hospital_name(hco.short_name)
                short_names.setdefault(short.key, []).append(len(entries) - 1)
        return cls(entries, short_names)

    def __len__(self) -> int:
        return len(self.entries)

    def _city_of(self, key: str) -> str:
        for short, city in self.cities:
            if key.startswith(short):
                return city
        return ""

    def lookup(
        self,
        text: str,
        *,
        city: str | None = None,
        province: str | None = None,
        limit: int = 5,
        min_score: float = 0.5,
    ) -> list[Candidate]:
        """The best ``limit`` HCOs for ``text``, best first; none scoring under ``min_score``."""
        standard = hospital_name(text)
        if not standard.key:
            return []
        campus = _campus_stem(standard.campus)
        given_city = bool(city) and city in self.city_province
        city = city if city and given_city else self._city_of(standard.key)
        province = province or self.city_province.get(city, "")
        local = _without_place(standard.key, city) if city else standard.key
        misspelt = _misspelt_place(standard.key, city) if given_city and city else ""

        found, reason = self._exact(standard.key, local, campus, city)
        if found:
            share = 1.0 if len(found) == 1 else 0.6 / len(found)
            if given_city and self.entries[found[0]].city != city:
                share, reason = share * 0.95, f"{reason}, in another city"
            why = reason if len(found) == 1 else f"{reason}, {len(found)} HCOs share it"
            return [Candidate(self.entries[i].id, share, why) for i in found[:limit]]
        best: dict[int, tuple[float, str]] = {}
        if misspelt:
            # "许州四院" in 徐州市: read as the city's own name, a little less sure.
            found, reason = self._exact(standard.key, misspelt, campus, city)
            for i in found:
                best[i] = (0.88 / len(found), f"{reason}, city misspelt")
        # Digits the standardiser left (a typo hid the 医院 after them) are ordinals too.
        key, local = _DIGITS.sub(_ordinal, standard.key), _DIGITS.sub(_ordinal, local)
        self._fuzzy(key, local, campus, (city, province, given_city), best)
        ranked = sorted(best.items(), key=lambda item: -item[1][0])
        return [
            Candidate(self.entries[i].id, round(score, 4), why)
            for i, (score, why) in ranked[:limit]
            if score >= min_score
        ]

    def _exact(self, key: str, local: str, campus: str, city: str) -> tuple[list[int], str]:
        found = self.local.get((city, local, campus)) if city else None
        if found:
            return found, "exact name in city"
        found = self.exact.get((key, campus), [])
        if found and city and any(self.entries[i].city == city for i in found):
            found = [i for i in found if self.entries[i].city == city]
        if not found and not city:
            # "第一人民医院" with no city: every city's first people's hospital, none surely.
            return self.local_anywhere.get((local, campus), []), "exact name without its city"
        return found, "exact name"

    def _fuzzy(
        self,
        key: str,
        local: str,
        campus: str,
        where: tuple[str, str, bool],
        best: dict[int, tuple[float, str]],
    ) -> None:
        city, province, given_city = where
        # A source's own city column is rarely wrong: elsewhere must be clearly better.
        away = 0.8 if given_city else 0.95
        pools = (
            (("city", city), self.in_city.get(city, []), "similar name in city", 1.0),
            (
                ("province", province),
                self.in_province.get(province, []),
                "similar name in province",
                away,
            ),
            (("national", ""), self.national, "similar name", away - 0.05),
        )
        for name, pool, reason, weight in pools:
            if not pool:
                continue
            choices = self._pool_choices(name, pool)
            local_pool = name[0] != "national"
            self._score(pool, choices, (key, local, campus), (reason, weight, local_pool), best)
            top = max((score for score, _r in best.values()), default=0.0)
            if top >= CONFIDENT:
                break

    def _score(
        self,
        pool: list[int],
        pool_choices: tuple[list[str], list[str]],
        query_keys: tuple[str, str, str],
        how: tuple[str, float, bool],
        best: dict[int, tuple[float, str]],
    ) -> None:
        key, local, campus = query_keys
        reason, weight, local_pool = how
        entries = self.entries
        full, choices = pool_choices
        hits = [
            (i, raw)
            for _c, raw, i in process.extract(
                key + campus, full, scorer=fuzz.ratio, limit=20, score_cutoff=40
            )
        ]
        if local_pool:
            query = local + campus
            hits += [
                (i, raw)
                for _c, raw, i in process.extract(
                    query, choices, scorer=fuzz.ratio, limit=20, score_cutoff=40
                )
            ]
            # A name missing its district or chain prefix ("翠苑社区卫生服务中心"): the best
            # aligned part, discounted by how much of the master name the text covers.
            for _c, raw, i in process.extract(
                query, choices, scorer=fuzz.partial_ratio, limit=20, score_cutoff=60
            ):
                if len(query) < len(choices[i]):
                    hits.append((i, raw * (0.7 + 0.25 * len(query) / len(choices[i]))))
        ordinals = set(_ORDINALS.findall(key))
        for position, raw in hits:
            i = pool[position]
            entry = entries[i]
            score = raw / 100 * weight
            if ordinals != set(_ORDINALS.findall(entry.key)):
                score *= 0.75  # 第一 and 第十一 are different hospitals, not a typo apart
            # An unknown campus of a known hospital ranks the hospital first, for a steward;
            # a campus misspelt past recognition ("南院曲") still names the campus in the text.
            if campus != entry.campus and not (not campus and entry.campus in key):
                score *= 0.85 if campus and entry.campus else 0.9
            if score > best.get(i, (0.0, ""))[0]:
                best[i] = (score, reason)


__all__ = ["CONFIDENT", "Candidate", "HcoRow", "HospitalIndex"]

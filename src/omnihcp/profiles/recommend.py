"""Next best content: for each doctor, the approved content most worth sending next, and why.

A hybrid of two scores. Collaborative filtering — ``implicit``'s alternating least squares on
the doctor × content engagement matrix from tracking (every open counts, a read to the end or
a watched video counts three times more) — knows what doctors like this one went on to read.
Content-based scoring — the doctor's interest tags (``profiles.interests``) against the terms
of each item's title, summary and topics — serves doctors and content with little history. The
collaborative share grows with the doctor's history: h / (h + 1) for h items engaged with.

Business rules come before any score, so no suggestion can break them: only approved content
within its validity; only for a doctor with consent to marketing on some channel; nothing
while the frequency cap holds the doctor; nothing they opened or were sent in the last two
weeks; nothing a rep marked not relevant for them; only the therapy areas the doctor's
territories sell. A doctor who has not consented to profiling — who opted out of
personalisation (PIPL Art. 24) — gets the same list as everyone: the content most doctors
opened lately. Every suggestion shown is recorded with its reason (``Suggestion``), and the
minute job marks the ones the doctor then opened.

``nbc_train`` (nightly, and ``omnihcp nbc train``) writes the factors as ``.npy`` files to a
new directory under ``VAR_DIR/models`` and then switches ``current`` to it, so pages never
read half a model; pages map the files read-only (one copy shared by every worker).
``nbc_evaluate`` splits the engagement in time and measures recall@10 and NDCG@10 of the
hybrid against a popularity baseline, in the same run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import shutil
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from implicit.cpu.als import AlternatingLeastSquares  # type: ignore[import-untyped]
from scipy import sparse  # type: ignore[import-untyped]
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from omnihcp.engagement.campaigns import cap_frees_at
from omnihcp.engagement.consent import consent_current
from omnihcp.engagement.delivery import EVENTS
from omnihcp.engagement.models import ContentItem
from omnihcp.engagement.models_consent import ConsentPurpose
from omnihcp.engagement.models_delivery import Delivery
from omnihcp.engagement.selectors import (
    ContentFilter,
    content_items_by_code,
    content_list,
    hcp_content_seen,
    hcp_recent_reads,
)
from omnihcp.masterdata.models import HCP
from omnihcp.org.selectors import therapy_area_ids_covering_hco
from omnihcp.profiles.interests import PREFIX, terms_of
from omnihcp.profiles.models import Feedback, HCPTag, Suggestion, SuggestionKind
from omnihcp.tracking.selectors import content_engagement

OPENED = (EVENTS["open"], EVENTS["forward"])
DEEP = (EVENTS["read"], EVENTS["video"])
DEEP_WEIGHT = 3.0
FACTORS = 48
ITERATIONS = 15
REGULARIZATION = 0.05
ALPHA = 8.0
HISTORY_HALF = 1.0  # the collaborative share is h / (h + 1)
POPULAR_DAYS = 90
NOT_RELEVANT_DAYS = 180
MARKETING_CHANNELS = ("wecom", "sms", "email")


def model_root() -> Path:
    return Path(getattr(settings, "OMNIHCP_MODEL_DIR", settings.VAR_DIR / "models"))


# --- the engagement matrix -----------------------------------------------------------------


@dataclass
class Matrix:
    """Engagement as (doctor, item, weight, first day) triples, with their id maps."""

    hcp_ids: np.ndarray  # sorted, int64
    codes: list[str]
    rows: np.ndarray
    cols: np.ndarray
    weights: np.ndarray
    days: np.ndarray

    def csr(self, mask: np.ndarray | None = None) -> sparse.csr_matrix:
        take = slice(None) if mask is None else mask
        return sparse.csr_matrix(
            (self.weights[take], (self.rows[take], self.cols[take])),
            shape=(len(self.hcp_ids), len(self.codes)),
            dtype=np.float32,
        )


def engagement_matrix() -> Matrix:
    """Read the engagement of every doctor with every content item (one grouped scan), into
    typed arrays: millions of pairs cost a few bytes each, not a Python object each."""
    hcps, cols, days = array("q"), array("i"), array("i")
    weights = array("f")
    index: dict[str, int] = {}
    for batch in content_engagement(opened=OPENED, deep=DEEP):
        for hcp_id, ref, events, deep, day in batch:
            hcps.append(hcp_id)
            cols.append(index.setdefault(ref, len(index)))
            weights.append(float(events - deep) + DEEP_WEIGHT * float(deep))
            days.append(int(day))
    hcp_ids, rows = np.unique(np.frombuffer(hcps, dtype=np.int64), return_inverse=True)
    codes = sorted(index, key=index.__getitem__)
    return Matrix(
        hcp_ids=hcp_ids,
        codes=codes,
        rows=rows.astype(np.int32),
        cols=np.frombuffer(cols, dtype=np.int32).copy(),
        weights=np.frombuffer(weights, dtype=np.float32).copy(),
        days=np.frombuffer(days, dtype=np.int32).copy(),
    )


def _fit(user_items: sparse.csr_matrix, *, seed: int = 7) -> AlternatingLeastSquares:
    with threadpool_limits(1, "blas"):  # implicit runs its own threads; BLAS's would fight them
        model = AlternatingLeastSquares(
            factors=FACTORS,
            iterations=ITERATIONS,
            regularization=REGULARIZATION,
            alpha=ALPHA,
            random_state=seed,
        )
        model.fit(user_items, show_progress=False)
    return model


# --- the stored model ----------------------------------------------------------------------


@dataclass(frozen=True)
class TrainResult:
    doctors: int
    items: int
    pairs: int
    read_seconds: float
    fit_seconds: float
    path: Path


def nbc_train(*, now: dt.datetime | None = None) -> TrainResult:
    """Fit the collaborative model on all engagement and make it the current one."""
    now = now or timezone.now()
    started = time.perf_counter()
    matrix = engagement_matrix()
    read_seconds = time.perf_counter() - started
    user_items = matrix.csr()
    started = time.perf_counter()
    model = _fit(user_items) if user_items.nnz else None
    fit_seconds = time.perf_counter() - started
    recent = matrix.days >= (now.date() - dt.date(1970, 1, 1)).days - POPULAR_DAYS
    popularity = np.bincount(matrix.cols[recent], minlength=len(matrix.codes))
    history = np.diff(user_items.indptr).astype(np.int32)

    root = model_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"nbc-{now:%Y%m%d%H%M%S}-{os.getpid()}"
    target.mkdir()
    factors = FACTORS
    users = model.user_factors if model is not None else np.zeros((0, factors), np.float32)
    items = model.item_factors if model is not None else np.zeros((0, factors), np.float32)
    np.save(target / "hcp_ids.npy", matrix.hcp_ids)
    np.save(target / "user_factors.npy", np.ascontiguousarray(users, dtype=np.float32))
    np.save(target / "item_factors.npy", np.ascontiguousarray(items, dtype=np.float32))
    np.save(target / "popularity.npy", popularity.astype(np.int32))
    np.save(target / "history.npy", history)
    (target / "meta.json").write_text(
        json.dumps({"codes": matrix.codes, "trained_at": now.isoformat(), "factors": factors}),
        encoding="utf-8",
    )
    pointer = root / "current.tmp"
    pointer.write_text(target.name, encoding="utf-8")
    os.replace(pointer, root / "current")
    for old in sorted(root.glob("nbc-*"))[:-2]:
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return TrainResult(
        doctors=len(matrix.hcp_ids),
        items=len(matrix.codes),
        pairs=int(user_items.nnz),
        read_seconds=read_seconds,
        fit_seconds=fit_seconds,
        path=target,
    )


@dataclass(frozen=True)
class StoredModel:
    hcp_ids: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray
    popularity: np.ndarray
    history: np.ndarray
    codes: list[str]
    code_index: dict[str, int]
    trained_at: str

    def row_of(self, hcp_id: int) -> int | None:
        at = int(np.searchsorted(self.hcp_ids, hcp_id))
        return at if at < len(self.hcp_ids) and int(self.hcp_ids[at]) == hcp_id else None


@functools.lru_cache(maxsize=2)
def _load(directory: str) -> StoredModel:
    path = Path(directory)
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    codes = list(meta["codes"])
    return StoredModel(
        hcp_ids=np.load(path / "hcp_ids.npy", mmap_mode="r"),
        user_factors=np.load(path / "user_factors.npy", mmap_mode="r"),
        item_factors=np.load(path / "item_factors.npy"),
        popularity=np.load(path / "popularity.npy"),
        history=np.load(path / "history.npy", mmap_mode="r"),
        codes=codes,
        code_index={code: i for i, code in enumerate(codes)},
        trained_at=str(meta["trained_at"]),
    )


def current_model() -> StoredModel | None:
    """The model ``nbc_train`` made current, or None before the first training."""
    pointer = model_root() / "current"
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    directory = model_root() / name
    return _load(str(directory)) if (directory / "meta.json").exists() else None


# --- suggestions for one doctor ------------------------------------------------------------


@dataclass
class ContentAdvice:
    """What to send a doctor next (``suggestions``, best first), or why nothing (``blocked``)."""

    suggestions: list[Suggestion] = field(default_factory=list)
    blocked: str = ""
    personalised: bool = False


@functools.lru_cache(maxsize=4096)
def _item_terms(item_id: int, version_id: int | None, text: str) -> frozenset[str]:
    return frozenset(terms_of(text))


def item_terms(item: ContentItem) -> frozenset[str]:
    version = item.approved_version
    text = " ".join(
        [item.title, *(item.topics or []), *([version.summary] if version is not None else [])]
    )
    return _item_terms(item.pk, item.approved_version_id, text)


def _interests(hcp_id: int) -> dict[str, float]:
    rows = HCPTag.objects.filter(
        hcp_id=hcp_id, definition__name__startswith=PREFIX, definition__active=True
    ).values_list("definition__name", "weight")
    return {name.removeprefix(PREFIX): float(weight or 0) for name, weight in rows}


def _not_relevant(hcp_id: int) -> set[int]:
    since = timezone.localdate() - dt.timedelta(days=NOT_RELEVANT_DAYS)
    return set(
        Suggestion.objects.filter(
            hcp_id=hcp_id, status=Feedback.NOT_RELEVANT, day__gte=since, item__isnull=False
        ).values_list("item_id", flat=True)
    )


def _candidates(hcp: HCP) -> list[ContentItem]:
    rows = content_list(filters=ContentFilter(sendable=True)).filter(approved_version__isnull=False)
    areas = therapy_area_ids_covering_hco(hco_id=hcp.primary_hco_id)
    if areas:
        rows = rows.filter(therapy_area_id__in=areas)
    excluded = hcp_content_seen(hcp_id=hcp.pk) | _not_relevant(hcp.pk)
    return [item for item in rows.order_by("id") if item.pk not in excluded]


def _popular_counts(items: list[ContentItem], model: StoredModel | None) -> dict[int, int]:
    if model is not None:
        return {
            item.pk: int(model.popularity[model.code_index[item.code]])
            if item.code in model.code_index
            else 0
            for item in items
        }
    since = timezone.now() - dt.timedelta(days=POPULAR_DAYS)
    counts = (
        Delivery.objects.filter(item__in=items, opened_at__gte=since)
        .values("item_id")
        .annotate(n=Count("hcp_id", distinct=True))
    )
    return {row["item_id"]: row["n"] for row in counts}


def _similar_titles(
    model: StoredModel, item: ContentItem, history: list[ContentItem], limit: int = 2
) -> list[str]:
    """Titles of the doctor's own reads closest to ``item`` in the model's item space."""
    if item.code not in model.code_index:
        return []
    target = model.item_factors[model.code_index[item.code]]
    scored = []
    for seen in history:
        if seen.code in model.code_index and seen.pk != item.pk:
            other = model.item_factors[model.code_index[seen.code]]
            norm = float(np.linalg.norm(target) * np.linalg.norm(other)) or 1.0
            scored.append((float(target @ other) / norm, seen.title))
    return [title for _score, title in sorted(scored, reverse=True)[:limit]]


def _rank(
    hcp: HCP, items: list[ContentItem], model: StoredModel | None, popular: dict[int, int]
) -> list[tuple[ContentItem, float, str, dict[str, Any]]]:
    """Each candidate with its hybrid score, method and evidence, best first."""
    interests = _interests(hcp.pk)
    row = model.row_of(hcp.pk) if model is not None else None
    history = int(model.history[row]) if model is not None and row is not None else 0
    share = history / (history + HISTORY_HALF)
    collaborative: dict[int, float] = {}
    if model is not None and row is not None and len(model.item_factors):
        user = np.asarray(model.user_factors[row])
        for item in items:
            if item.code in model.code_index:
                collaborative[item.pk] = float(
                    model.item_factors[model.code_index[item.code]] @ user
                )
    top_cf = max((v for v in collaborative.values() if v > 0), default=0.0)
    matched = {
        item.pk: sorted(item_terms(item) & interests.keys(), key=lambda t: (-interests[t], t))
        for item in items
    }
    content = {pk: sum(interests[t] for t in terms) for pk, terms in matched.items()}
    top_cb = max(content.values(), default=0.0)
    top_pop = max(popular.values(), default=0) or 1
    ranked = []
    read = [d.item for d in hcp_recent_reads(hcp_id=hcp.pk, limit=30)] if collaborative else []
    for item in items:
        cf = max(collaborative.get(item.pk, 0.0), 0.0) / top_cf if top_cf else 0.0
        cb = content[item.pk] / top_cb if top_cb else 0.0
        score = share * cf + (1 - share) * cb + 0.05 * popular.get(item.pk, 0) / top_pop
        if share * cf >= (1 - share) * cb and cf > 0 and model is not None:
            evidence: dict[str, Any] = {
                "why": "similar",
                "titles": _similar_titles(model, item, read),
            }
            method = "collaborative"
        elif cb > 0:
            evidence, method = {"why": "interests", "terms": matched[item.pk][:3]}, "content"
        else:
            evidence, method = {"why": "popular", "new": True}, "popular"
        if evidence["why"] == "popular":
            evidence["opened"] = popular.get(item.pk, 0)
        ranked.append((item, score, method, evidence))
    ranked.sort(key=lambda r: (-r[1], r[0].pk))
    return ranked


def _allowed(answers: dict[tuple[str, str], bool], purpose: str) -> bool:
    return any(granted for (p, _c), granted in answers.items() if p == purpose)


def next_best_content(
    *, hcp: HCP, limit: int = 3, record: bool = True, now: dt.datetime | None = None
) -> ContentAdvice:
    """The content to send ``hcp`` next, with reasons; recorded as suggestions of today."""
    now = now or timezone.now()
    answers = consent_current(hcp_id=hcp.pk)
    if not any(answers.get((ConsentPurpose.MARKETING, c)) for c in MARKETING_CHANNELS):
        return ContentAdvice(blocked=_("No consent to marketing on any channel."))
    frees = cap_frees_at(hcp_id=hcp.pk, now=now)
    if frees is not None:
        return ContentAdvice(
            blocked=_("Frequency cap reached: nothing more before %(day)s.")
            % {"day": timezone.localtime(frees).strftime("%Y-%m-%d %H:%M")}
        )
    items = _candidates(hcp)
    if not items:
        return ContentAdvice(
            blocked=_("Nothing left to send: every fitting item was sent or read.")
        )
    model = current_model()
    popular = _popular_counts(items, model)
    personalised = _allowed(answers, ConsentPurpose.PROFILING)
    if personalised:
        ranked = _rank(hcp, items, model, popular)[:limit]
    else:
        ranked = [
            (
                item,
                float(popular.get(item.pk, 0)),
                "popular",
                {"why": "popular", "opened": popular.get(item.pk, 0), "opted_out": True},
            )
            for item in sorted(items, key=lambda i: (-popular.get(i.pk, 0), i.pk))[:limit]
        ]
    day = timezone.localdate(now)
    suggestions = [
        Suggestion(
            hcp=hcp,
            kind=SuggestionKind.CONTENT,
            action_type="content",
            key=f"item:{item.pk}",
            day=day,
            item=item,
            rank=rank,
            score=round(score, 4),
            personalised=personalised,
            method=method,
            evidence=evidence,
            created_at=now,
        )
        for rank, (item, score, method, evidence) in enumerate(ranked, start=1)
    ]
    if record and suggestions:
        Suggestion.objects.bulk_create(suggestions, ignore_conflicts=True)
    return ContentAdvice(suggestions=suggestions, personalised=personalised)


def suggestions_follow_opens(*, days: int = 30) -> int:
    """Mark the suggestions whose content the doctor opened after it was suggested."""
    opened = Delivery.objects.filter(
        hcp_id=OuterRef("hcp_id"),
        item_id=OuterRef("item_id"),
        opened_at__gte=OuterRef("created_at"),
    ).order_by("opened_at")
    due = Suggestion.objects.filter(
        opened_at__isnull=True,
        item__isnull=False,
        day__gte=timezone.localdate() - dt.timedelta(days=days),
    ).filter(Exists(opened))
    return due.update(opened_at=Subquery(opened.values("opened_at")[:1]))


# --- evaluation on a time split ------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    split_day: dt.date
    train_pairs: int
    test_doctors: int
    fit_seconds: float
    recall: dict[str, float]
    ndcg: dict[str, float]


def _metrics(ranked: np.ndarray, truth: set[int], k: int) -> tuple[float, float]:
    hits = [1.0 if int(i) in truth else 0.0 for i in ranked[:k]]
    dcg = sum(h / math.log2(rank + 2) for rank, h in enumerate(hits))
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(truth), k)))
    return sum(hits) / min(len(truth), k), dcg / ideal if ideal else 0.0


def _topic_matrix(codes: list[str]) -> sparse.csr_matrix:
    """Items × terms (0/1) from each item's title, summary and topics."""
    items = content_items_by_code(codes=codes)
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for i, code in enumerate(codes):
        item = items.get(code)
        for term in item_terms(item) if item is not None else ():
            rows.append(i)
            cols.append(vocabulary.setdefault(term, len(vocabulary)))
    return sparse.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(codes), max(len(vocabulary), 1))
    )


def nbc_evaluate(*, test_share: float = 0.2, k: int = 10, max_doctors: int = 20_000) -> Evaluation:
    """Train on the earlier engagement, test on the later: for doctors with new items after
    the split, recall@k and NDCG@k of the hybrid, of collaborative filtering alone and of the
    most popular items (the baseline), each excluding what the doctor already engaged with."""
    matrix = engagement_matrix()
    split = int(np.quantile(matrix.days, 1 - test_share)) if len(matrix.days) else 0
    train_mask = matrix.days < split
    train = matrix.csr(train_mask)
    started = time.perf_counter()
    model = _fit(train)
    fit_seconds = time.perf_counter() - started
    popularity = np.bincount(matrix.cols[train_mask], minlength=len(matrix.codes))
    topics = _topic_matrix(matrix.codes)
    test_rows: dict[int, set[int]] = {}  # a pair is read once: its first day puts it on one side
    for r, c in zip(matrix.rows[~train_mask], matrix.cols[~train_mask], strict=True):
        test_rows.setdefault(int(r), set()).add(int(c))
    chosen = sorted(test_rows)[:: max(1, len(test_rows) // max_doctors)][:max_doctors]
    totals = {"hybrid": [0.0, 0.0], "collaborative": [0.0, 0.0], "popularity": [0.0, 0.0]}
    history = np.diff(train.indptr)
    for r in chosen:
        seen = train.indices[train.indptr[r] : train.indptr[r + 1]]
        cf = model.item_factors @ model.user_factors[r]
        profile = topics.T @ np.asarray(train[r].todense()).ravel()
        cb = topics @ profile
        share = history[r] / (history[r] + HISTORY_HALF)
        top_cf, top_cb = max(float(cf.max()), 1e-9), max(float(cb.max()), 1e-9)
        hybrid = share * np.clip(cf, 0, None) / top_cf + (1 - share) * cb / top_cb
        hybrid = hybrid + 0.05 * popularity / max(int(popularity.max()), 1)
        for name, scores in (("hybrid", hybrid), ("collaborative", cf), ("popularity", popularity)):
            ranked_scores = np.asarray(scores, dtype=np.float64).copy()
            ranked_scores[seen] = -np.inf
            ranked = np.argsort(-ranked_scores, kind="stable")[:k]
            recall, ndcg = _metrics(ranked, test_rows[r], k)
            totals[name][0] += recall
            totals[name][1] += ndcg
    n = max(len(chosen), 1)
    return Evaluation(
        split_day=dt.date(1970, 1, 1) + dt.timedelta(days=split),
        train_pairs=int(train.nnz),
        test_doctors=len(chosen),
        fit_seconds=fit_seconds,
        recall={name: v[0] / n for name, v in totals.items()},
        ndcg={name: v[1] / n for name, v in totals.items()},
    )

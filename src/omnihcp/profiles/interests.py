"""NLP interest tags: what a doctor cares about, from the content they engaged with and their
own free-text answers ("关注: 高血压 0.82, 心力衰竭 0.61").

Text is segmented with jieba, taught the medical vocabulary shipped in
``data/medical_terms.txt`` (diseases, drug classes, clinical topics, with synonyms) and our
products' brand names; only that vocabulary counts, so an interest is always a medical term.
Each mention weighs by the depth of the engagement (opened 1, read to the end 2, the doctor's
own answer 3) and decays with a 30-day half-life; a doctor's weights are scaled so the strongest
is 1. Interests are model tags ("关注：高血压") with the weight on the tag; only doctors who
consented to profiling are profiled (``engagement.selectors.hcp_engagement_texts``).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import jieba
from django.db import transaction
from django.utils import timezone

from omnihcp.engagement.selectors import hcp_engagement_texts
from omnihcp.org.selectors import product_list
from omnihcp.profiles.models import HCPTag, HCPTagEvent, TagCategory, TagDefinition, TagKind

jieba.setLogLevel(logging.WARNING)
TERMS_FILE = Path(__file__).parent / "data" / "medical_terms.txt"
PREFIX = "关注："
DEPTH = {"opened": 1.0, "read_through": 2.0, "answer": 3.0}
HALF_LIFE_DAYS = 30.0
WINDOW_DAYS = 180
MIN_WEIGHT = 0.05
TOP = 8


@functools.cache
def vocabulary() -> dict[str, str]:
    """Every word of the vocabulary → its term (the first word of its line)."""
    words: dict[str, str] = {}
    for line in TERMS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, *synonyms = line.split()
        for word in (term, *synonyms):
            words[word.lower()] = term
    for product in product_list():
        for word in (product.brand_name, product.molecule):
            if word:
                words[word.lower()] = product.brand_name
    return words


@functools.cache
def _tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    for word in vocabulary():
        tokenizer.add_word(word, freq=200_000)
    return tokenizer


def terms_of(text: str) -> list[str]:
    """The vocabulary's terms mentioned in ``text``, as often as mentioned."""
    words = vocabulary()
    found = []
    for token in _tokenizer().cut(text):
        term = words.get(token.strip().lower())
        if term:
            found.append(term)
    return found


def interests_compute(
    *, hcp_ids: Collection[int], now: dt.datetime | None = None
) -> dict[int, dict[str, float]]:
    """Each doctor's interests: term → weight in (0, 1], the strongest first."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=WINDOW_DAYS)
    raw: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for text in hcp_engagement_texts(hcp_ids=sorted(hcp_ids), since=since):
        age_days = max((now - text.at).total_seconds() / 86_400, 0.0)
        weight = DEPTH[text.depth] * math.pow(0.5, age_days / HALF_LIFE_DAYS)
        for term in set(terms_of(text.text)):
            raw[text.hcp_id][term] += weight
    result = {}
    for hcp_id, weights in raw.items():
        top = max(weights.values())
        scaled = {t: round(w / top, 2) for t, w in weights.items() if w / top >= MIN_WEIGHT}
        result[hcp_id] = dict(sorted(scaled.items(), key=lambda kv: -kv[1])[:TOP])
    return result


def _definition(term: str) -> TagDefinition:
    definition, _created = TagDefinition.objects.get_or_create(
        name=f"{PREFIX}{term}"[:60],
        defaults={
            "category": TagCategory.MARKETING,
            "kind": TagKind.MODEL,
            "description": "NLP",
        },
    )
    return definition


def interests_write(*, hcp_ids: Collection[int], now: dt.datetime | None = None) -> int:
    """Replace the doctors' interest tags with what they engage with now; tags changed."""
    computed = interests_compute(hcp_ids=hcp_ids, now=now)
    changed = 0
    with transaction.atomic():
        current = HCPTag.objects.filter(
            hcp_id__in=list(hcp_ids), definition__name__startswith=PREFIX
        ).select_related("definition")
        held: dict[tuple[int, str], HCPTag] = {
            (t.hcp_id, t.definition.name.removeprefix(PREFIX)): t for t in current
        }
        for hcp_id in hcp_ids:
            wanted = computed.get(hcp_id, {})
            for term, weight in wanted.items():
                tag = held.pop((hcp_id, term), None)
                if tag is None:
                    definition = _definition(term)
                    HCPTag.objects.create(hcp_id=hcp_id, definition=definition, weight=weight)
                    HCPTagEvent.objects.create(
                        hcp_id=hcp_id,
                        definition=definition,
                        action=HCPTagEvent.Action.SET,
                        value=f"{weight:.2f}",
                        source=TagKind.MODEL,
                    )
                    changed += 1
                elif tag.weight != weight:
                    tag.weight = weight
                    tag.save(update_fields=["weight"])
        for (hcp_id, _term), tag in held.items():
            HCPTagEvent.objects.create(
                hcp_id=hcp_id,
                definition=tag.definition,
                action=HCPTagEvent.Action.CLEAR,
                source=TagKind.MODEL,
            )
            tag.delete()
            changed += 1
    return changed

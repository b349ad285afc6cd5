"""Text clean-up shared by every standardiser: OpenCC traditional → simplified, NFKC
(full-width → half-width), one kind of bracket, no spaces or stray punctuation."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

_SPACES = re.compile(r"\s+")
_PUNCTUATION = re.compile(r"[·・.,，。、;；:：'\"“”‘’`~!！?？*#@&^_|/\\<>《》【】\[\]{}-]+")
_NON_DIGITS = re.compile(r"\D+")


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_converter().convert(text))


def clean_text(text: str, *, keep_brackets: bool = True) -> str:
    """Simplified, half-width, no spaces or punctuation; brackets become ASCII ( )."""
    folded = unicodedata.normalize("NFKC", to_simplified(text or ""))
    folded = _SPACES.sub("", folded)
    folded = _PUNCTUATION.sub("", folded)
    if not keep_brackets:
        folded = folded.replace("(", "").replace(")", "")
    return folded


def person_name(text: str) -> str:
    """A person's name as matching compares it: "張 偉" → "张伟", "Li, Ming" → "liming"."""
    cleaned = clean_text(text, keep_brackets=False)
    return cleaned if re.search(r"[\u3400-\u9fff]", cleaned) else cleaned.lower()


def phone_digits(text: str) -> str:
    """The 11 digits of a mainland mobile number, or "" when the text holds none.

    Lenient on purpose: source files write "+86 138-1234-5678", "(0086)13812345678" or
    "138 1234 5678"; validation proper lives in masterdata.validation.
    """
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", text or ""))
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits if len(digits) == 11 and digits.startswith("1") else ""

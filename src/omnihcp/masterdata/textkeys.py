"""Search keys for Chinese names, made with pypinyin.

"张伟" → pinyin "zhangwei", initials "zw"; Latin text is lower-cased with spaces dropped, so
"Li Ming" and "李明" meet on the same keys. Full-width letters are folded by NFKC first.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

_KEEP = re.compile(r"[^0-9a-z]+")
CJK = re.compile(r"[\u3400-\u9fff]")


def fold(text: str) -> str:
    """NFKC (full-width → half-width), trimmed, lower case."""
    return unicodedata.normalize("NFKC", text).strip().lower()


@lru_cache(maxsize=65536)
def _syllables(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    full = lazy_pinyin(text, errors=lambda chars: chars)
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda chars: chars)
    return tuple(full), tuple(initials)


def pinyin_key(text: str) -> str:
    full, _initials = _syllables(fold(text))
    return _KEEP.sub("", "".join(full))


def initials_key(text: str) -> str:
    folded = fold(text)
    if not CJK.search(folded):
        # "Li Ming" → "lm": initials of the words of a Latin name.
        return "".join(word[0] for word in re.split(r"[\s\-·.]+", folded) if word)
    _full, initials = _syllables(folded)
    return _KEEP.sub("", "".join(initials))


def query_key(text: str) -> str:
    """A search box entry as a key: "Zhang Wei", "zhang'wei" and "ＺＨＡＮＧ" all fold alike."""
    return _KEEP.sub("", fold(text))

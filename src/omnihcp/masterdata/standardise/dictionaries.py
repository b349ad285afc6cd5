"""Free-text titles (职称) and department names (科室) → dictionary codes.

Titles map by the words sources use; departments by name, synonym (from the standard
department dictionary) or, failing both, the closest name by rapidfuzz similarity.
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from omnihcp.masterdata.standardise.text import clean_text

# Longest words first, so "副主任医师" is not read as "主任医师".
TITLE_WORDS: tuple[tuple[str, str], ...] = (
    ("副主任医师", "associate_chief"),
    ("副主任药师", "chief_pharmacist"),
    ("主任医师", "chief_physician"),
    ("主任药师", "chief_pharmacist"),
    ("主管药师", "pharmacist"),
    ("主治医师", "attending"),
    ("住院医师", "resident"),
    ("执业药师", "pharmacist"),
    ("副教授", "associate_chief"),
    ("副主任", "associate_chief"),
    ("主任", "chief_physician"),
    ("教授", "chief_physician"),
    ("主治", "attending"),
    ("住院", "resident"),
    ("医师", "resident"),
    ("药师", "pharmacist"),
    ("护士", "nurse"),
    ("护师", "nurse"),
    ("chiefphysician", "chief_physician"),
    ("associatechief", "associate_chief"),
    ("attending", "attending"),
    ("resident", "resident"),
    ("pharmacist", "pharmacist"),
    ("nurse", "nurse"),
)


def title_code(text: str) -> str:
    """The Title code of a free-text title, or "" when nothing is recognised."""
    cleaned = clean_text(text, keep_brackets=False).lower()
    for word, code in TITLE_WORDS:
        if word in cleaned:
            return code
    return ""


def department_code(
    text: str, dictionary: Iterable[tuple[str, str, list[str]]], *, min_score: float = 80.0
) -> str:
    """The standard department code for a free-text name; "" when none is close enough.

    ``dictionary`` rows are (code, name, synonyms), as StandardDepartment holds them.
    """
    cleaned = clean_text(text, keep_brackets=False)
    if not cleaned:
        return ""
    names: dict[str, str] = {}
    for code, name, synonyms in dictionary:
        for candidate in (name, *synonyms):
            names[clean_text(candidate, keep_brackets=False)] = code
    if cleaned in names:
        return names[cleaned]
    best = process.extractOne(cleaned, list(names), scorer=fuzz.ratio, score_cutoff=min_score)
    return names[best[0]] if best else ""

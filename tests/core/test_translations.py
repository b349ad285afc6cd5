"""Every message of the platform has its Simplified Chinese translation."""

from __future__ import annotations

from pathlib import Path

import polib

import omnihcp

CATALOGUE = Path(omnihcp.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_chinese_catalogue_is_complete() -> None:
    po = polib.pofile(str(CATALOGUE))
    untranslated = [entry.msgid for entry in po.untranslated_entries()]
    fuzzy = [entry.msgid for entry in po.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []
    assert len(po.translated_entries()) > 200

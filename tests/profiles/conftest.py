from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Services' messages in English here, whatever a previous test left active (pages are
    read in the language their client asks for)."""
    with translation.override("en"):
        yield

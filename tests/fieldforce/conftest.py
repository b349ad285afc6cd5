"""Field-force tests post events through the tracking API's client (and use the root
conftest's fake WeCom server)."""

from __future__ import annotations

from typing import Any

import pytest

from omnihcp.org.models import Product
from omnihcp.profiles import tiers as tiers_module
from tests.tracking.conftest import segment, write_key

__all__ = ["segment", "write_key"]


@pytest.fixture
def tiered(cast_user: Any) -> None:
    """The cardiovascular brand tiered as marketing would: 3A chiefs high potential."""
    product = Product.objects.order_by("code").first()
    matrix = tiers_module.matrix_save(
        actor=cast_user("marketing"),
        product=product,
        draft=tiers_module.MatrixDraft(
            high_rule='hco_level = "3A" and title in ("chief_physician", "associate_chief")',
            medium_rule='hco_level in ("3A", "3B", "2A")',
            cells=tiers_module.DEFAULT_CELLS,
            frequencies=tiers_module.DEFAULT_FREQUENCIES,
        ),
    )
    tiers_module.tiers_compute(matrix=matrix)

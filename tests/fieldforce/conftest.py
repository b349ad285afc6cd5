"""Field-force tests post events through the tracking API's client (and use the root
conftest's fake WeCom server)."""

from __future__ import annotations

from tests.tracking.conftest import segment, write_key

__all__ = ["segment", "write_key"]

"""Daily snapshots of master-data quality, for the quality page's trend."""

from __future__ import annotations

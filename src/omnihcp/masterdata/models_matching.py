"""Trained matching models, persisted and versioned per entity type."""

from __future__ import annotations

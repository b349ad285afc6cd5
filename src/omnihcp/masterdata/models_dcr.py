"""Data change requests (DCRs): a rep proposes a new HCP or a change; a data steward decides."""

from __future__ import annotations

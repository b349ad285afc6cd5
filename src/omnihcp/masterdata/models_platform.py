"""Third-party doctor-platform user lists and their links to HCPs."""

from __future__ import annotations

"""DataScope: which HCOs (and so which HCPs) a caller may see.

Built once per request by ``org.selectors.scope_for_user`` and passed, as a required keyword,
to every selector that returns people or organisations. ``hco_ids`` is a lazy subquery, so the
database applies the territory filter inside the same statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class DataScope:
    user_id: int | None
    role: str
    hco_ids: QuerySet[Any, Any] | None  # None: every HCO (HQ roles and system jobs)
    may_reveal_pi: bool = False

    @classmethod
    def system(cls) -> DataScope:
        """The scope of background jobs and management commands: everything, no reveals."""
        return cls(user_id=None, role="system", hco_ids=None)

    @property
    def is_global(self) -> bool:
        return self.hco_ids is None

    def filter_hcos(self, qs: QuerySet[M, M], field: str = "id") -> QuerySet[M, M]:
        if self.hco_ids is None:
            return qs
        return qs.filter(**{f"{field}__in": self.hco_ids})

"""Who may do what: the request's data scope and the roles each kind of write needs.

Every API operation and page view asks here rather than testing roles itself, so the rules
live in one place (Sentry's "every endpoint declares its permissions").
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _

from omnihcp.core.errors import PermissionDeniedError
from omnihcp.core.scope import DataScope
from omnihcp.org.selectors import scope_for_user
from omnihcp.org.types import Role

MASTERDATA_EDITORS = frozenset({Role.ADMIN, Role.DATA_STEWARD})
ORG_EDITORS = frozenset({Role.ADMIN})
# Content: marketing and medical write it; MLR review is medical and compliance (never the
# author of the version: the services enforce four eyes).
CONTENT_AUTHORS = frozenset({Role.ADMIN, Role.MARKETING, Role.MEDICAL})
MLR_REVIEWERS = frozenset({Role.ADMIN, Role.MEDICAL, Role.COMPLIANCE})
# Who records what a doctor said about consent: the people who talk to doctors.
CONSENT_RECORDERS = frozenset(
    {Role.ADMIN, Role.REP, Role.VIRTUAL_REP, Role.DISTRICT_MANAGER, Role.AREA_MANAGER}
)
# Tags: marketing, medical and stewards define them; the people who know the doctor set manual
# tags (and stewards, who correct them).
TAG_EDITORS = frozenset({Role.ADMIN, Role.MARKETING, Role.MEDICAL, Role.DATA_STEWARD})
TAG_SETTERS = CONSENT_RECORDERS | {Role.DATA_STEWARD}
# Tracking sources hold write keys: the integrator (admin) and marketing, who connect platforms.
TRACKING_EDITORS = frozenset({Role.ADMIN, Role.MARKETING})


def request_scope(request: HttpRequest) -> DataScope:
    """The signed-in user's data scope, built once per request."""
    cached: DataScope | None = getattr(request, "_omnihcp_scope", None)
    if cached is None:
        cached = scope_for_user(user=request.user)
        request._omnihcp_scope = cached  # type: ignore[attr-defined]
    return cached


def require_role(user: Any, roles: Collection[str]) -> None:
    """Refuse, with a 403 in the user's language, unless the user's role is one of ``roles``."""
    if getattr(user, "role", None) not in roles:
        raise PermissionDeniedError(_("Your role may not make this change."))


def may_edit_masterdata(user: Any) -> bool:
    return getattr(user, "role", None) in MASTERDATA_EDITORS

"""Navigation for the page header: the links the signed-in user's role may follow."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from omnihcp.org.navigation import menu_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    return {"nav_items": menu_for(role=user.role)}

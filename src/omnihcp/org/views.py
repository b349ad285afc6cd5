"""Pages of the org app: log in and out, each role's home page, placeholders for modules to come."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from omnihcp.org import navigation, selectors
from omnihcp.org.permissions import request_scope
from omnihcp.org.types import Role


class LoginView(auth_views.LoginView):
    template_name = "org/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The role's home page: who you are, what you cover, where to go next."""
    user = request.user
    role = Role(user.role) if user.role in Role.values else Role.REP  # type: ignore[union-attr]
    employee = selectors.employee_for_user(user=user)  # type: ignore[arg-type]
    scope = request_scope(request)
    menu = navigation.menu_for(role=role)
    territories = (
        list(selectors.territories_of(employee=employee).select_related("business_unit"))
        if employee is not None and role in selectors.FIELD_ROLES
        else []
    )
    context = {
        "role": role,
        "employee": employee,
        "territories": territories[:12],
        "territory_count": len(territories),
        "hco_count": None if scope.is_global else selectors.scope_hco_count(scope=scope),
        "cards": [item for item in menu if item.key != "home"],
        "can_search": any(item.key == "hcps" for item in menu),
    }
    return render(request, "org/home.html", context)


@login_required
def module(request: HttpRequest, slug: str) -> HttpResponse:
    found = navigation.module_get(slug=slug)
    if found is None:
        raise Http404(slug)
    return render(request, "org/module.html", {"module": found})

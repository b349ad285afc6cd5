"""Pages of the org app: log in and out (by password, or by WeCom OAuth inside WeCom), each
role's home page, placeholders for modules to come."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from omnihcp.core.errors import ApplicationError
from omnihcp.governance.services import audit_append
from omnihcp.org import navigation, selectors, wecom
from omnihcp.org.permissions import request_scope
from omnihcp.org.types import Role

SESSION_NEXT = "wecom_oauth_next"


class LoginView(auth_views.LoginView):
    template_name = "org/login.html"
    redirect_authenticated_user = True

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Opened from the WeCom app: log in by WeCom rather than ask for a password.
        agent = request.headers.get("User-Agent", "")
        if (
            not request.user.is_authenticated
            and wecom.wecom_configured()
            and wecom.is_wecom_browser(agent)
            and "password" not in request.GET
        ):
            query = urlencode({"next": self.get_redirect_url()})
            return redirect(f"{reverse('org:wecom-login')}?{query}")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"wecom": wecom.wecom_configured()}


def _safe_next(request: HttpRequest, target: str) -> str:
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else reverse("org:home")


def wecom_login(request: HttpRequest) -> HttpResponse:
    """Send the browser to WeCom's authorize page; it comes back to ``wecom_callback``."""
    if not wecom.wecom_configured():
        raise Http404("WeCom is not configured")
    request.session[SESSION_NEXT] = _safe_next(request, request.GET.get("next", ""))
    callback = request.build_absolute_uri(reverse("org:wecom-callback"))
    return HttpResponseRedirect(wecom.oauth_start(session=request.session, callback_url=callback))


def wecom_callback(request: HttpRequest) -> HttpResponse:
    """WeCom's answer: log in the employee whose WeCom member the one-time code names."""
    try:
        user = wecom.oauth_user(
            session=request.session,
            code=request.GET.get("code", ""),
            state=request.GET.get("state", ""),
        )
    except ApplicationError as exc:
        context = {"error": exc.message, "wecom": False, "form": None}
        return render(request, "org/login.html", context, status=403)
    target = request.session.pop(SESSION_NEXT, "") or reverse("org:home")
    with transaction.atomic():
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        audit_append(
            actor=user,
            action="user.login_wecom",
            object_type="user",
            object_id=user.pk,
            after={"wecom_userid": user.wecom_userid},
        )
    return redirect(_safe_next(request, target))


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

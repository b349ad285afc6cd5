"""Pages of the content library: the list, a new item, an item with its versions and MLR
workflow, and editing the draft.

Authors (marketing, medical) write and submit; MLR reviewers (medical, compliance) approve or
send back; everyone else sees only content that may be sent today. A refused value is shown on
its field and nothing is saved.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from omnihcp.core.errors import ApplicationError, NotFoundError
from omnihcp.engagement import selectors, services
from omnihcp.engagement.models import ContentKind, ContentStatus
from omnihcp.org.permissions import CONTENT_AUTHORS, MLR_REVIEWERS, require_role
from omnihcp.org.selectors import product_list, therapy_area_list

PAGE_SIZE = 30


def _role(request: HttpRequest) -> Any:
    return getattr(request.user, "role", None)


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.replace("，", "\n").splitlines() if line.strip())


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


def _draft(post: Any) -> services.ContentDraft:
    return services.ContentDraft(
        title=post.get("title", ""),
        kind=post.get("kind", ""),
        therapy_area_id=_int(post.get("therapy_area", "")),
        summary=post.get("summary", ""),
        body=post.get("body", ""),
        url=post.get("url", ""),
        product_ids=tuple(i for i in map(_int, post.getlist("products")) if i is not None),
        key_messages=_lines(post.get("key_messages", "")),
        topics=_lines(post.get("topics", "").replace(",", "\n")),
    )


def _form_context(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {
        "values": values,
        "errors": errors,
        "kinds": ContentKind.choices,
        "therapy_areas": therapy_area_list(),
        "products": product_list(),
    }


@login_required
def content_list(request: HttpRequest) -> HttpResponse:
    staff = _role(request) in CONTENT_AUTHORS | MLR_REVIEWERS
    filters = selectors.ContentFilter(
        q=request.GET.get("q", "").strip()[:100],
        status=request.GET.get("status", "") if staff else "",
        kind=request.GET.get("kind", ""),
        therapy_area_id=_int(request.GET.get("therapy_area", "")),
        sendable=not staff,
    )
    page = Paginator(selectors.content_list(filters=filters), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "filters": filters,
        "staff": staff,
        "may_author": _role(request) in CONTENT_AUTHORS,
        "statuses": ContentStatus.choices,
        "kinds": ContentKind.choices,
        "therapy_areas": therapy_area_list(),
    }
    return render(request, "engagement/content_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def content_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, CONTENT_AUTHORS)
    values: dict[str, Any] = {"kind": ContentKind.ARTICLE}
    if request.method == "POST":
        values = {**request.POST.dict(), "products": request.POST.getlist("products")}
        try:
            item = services.content_create(actor=request.user, draft=_draft(request.POST))
        except ApplicationError as exc:
            context = _form_context(values, {exc.field or "title": exc.message})
            return render(request, "engagement/content_form.html", context, status=400)
        return redirect("engagement:content-detail", content_id=item.pk)
    return render(request, "engagement/content_form.html", _form_context(values, {}))


@login_required
@require_http_methods(["GET", "POST"])
def content_edit(request: HttpRequest, content_id: int) -> HttpResponse:
    require_role(request.user, CONTENT_AUTHORS)
    item = selectors.content_get(content_id=content_id)
    latest = selectors.content_versions(item=item).first()
    if request.method == "POST":
        values = {**request.POST.dict(), "products": request.POST.getlist("products")}
        try:
            services.content_edit(actor=request.user, item=item, draft=_draft(request.POST))
        except ApplicationError as exc:
            context = {**_form_context(values, {exc.field or "title": exc.message}), "item": item}
            return render(request, "engagement/content_form.html", context, status=400)
        return redirect("engagement:content-detail", content_id=item.pk)
    values = {
        "title": latest.title if latest else item.title,
        "kind": item.kind,
        "therapy_area": str(item.therapy_area_id),
        "summary": latest.summary if latest else "",
        "body": latest.body if latest else "",
        "url": latest.url if latest else "",
        "products": [str(pk) for pk in item.products.values_list("pk", flat=True)],
        "key_messages": "\n".join(item.key_messages),
        "topics": "\n".join(item.topics),
    }
    context = {**_form_context(values, {}), "item": item}
    return render(request, "engagement/content_form.html", context)


def _detail(
    request: HttpRequest, item: Any, errors: dict[str, str] | None = None, status: int = 200
) -> HttpResponse:
    role = _role(request)
    staff = role in CONTENT_AUTHORS | MLR_REVIEWERS
    sendable = selectors.content_is_sendable(item=item)
    if not staff and not sendable:
        raise NotFoundError(_("No such content item."))
    versions = list(selectors.content_versions(item=item))
    context = {
        "item": item,
        "versions": versions,
        "latest": versions[0] if versions else None,
        "shown": item.approved_version if not staff else (versions[0] if versions else None),
        "reviews": selectors.content_reviews(item=item) if staff else [],
        "sendable": sendable,
        "staff": staff,
        "may_author": role in CONTENT_AUTHORS,
        "may_review": role in MLR_REVIEWERS,
        "errors": errors or {},
        "values": request.POST if errors else {},
        "products": item.products.all(),
    }
    return render(request, "engagement/content_detail.html", context, status=status)


@login_required
def content_detail(request: HttpRequest, content_id: int) -> HttpResponse:
    return _detail(request, selectors.content_get(content_id=content_id))


@login_required
@require_POST
def content_action(request: HttpRequest, content_id: int, action: str) -> HttpResponse:
    item = selectors.content_get(content_id=content_id)
    post = request.POST
    try:
        if action == "submit":
            require_role(request.user, CONTENT_AUTHORS)
            services.content_submit(actor=request.user, item=item)
        elif action == "approve":
            require_role(request.user, MLR_REVIEWERS)
            services.content_approve(
                actor=request.user,
                item=item,
                approval_number=post.get("approval_number", ""),
                valid_from=_date(post.get("valid_from", ""), "valid_from"),
                valid_until=_date(post.get("valid_until", ""), "valid_until"),
                comment=post.get("comment", ""),
            )
        elif action == "reject":
            require_role(request.user, MLR_REVIEWERS)
            services.content_reject(actor=request.user, item=item, comment=post.get("comment", ""))
        elif action == "withdraw":
            require_role(request.user, CONTENT_AUTHORS | MLR_REVIEWERS)
            services.content_withdraw(
                actor=request.user, item=item, comment=post.get("comment", "")
            )
        else:
            raise NotFoundError(_("No such action."))
    except ApplicationError as exc:
        if exc.status in (403, 404):
            raise
        item = selectors.content_get(content_id=content_id)
        return _detail(request, item, {f"{action}:{exc.field or ''}": exc.message}, status=400)
    return redirect("engagement:content-detail", content_id=item.pk)


def _date(value: str, field: str) -> Any:
    if not value:
        return None
    try:
        parsed = parse_date(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ApplicationError(_("Enter a date as YYYY-MM-DD."), field=field)
    return parsed

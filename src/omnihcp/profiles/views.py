"""Pages of doctors' tags: the tag definitions (new, edit, recompute) with a rule editor that
counts matching doctors while you type and points at a wrong token, and a doctor's tags by
category with their history, where reps and stewards set and clear manual tags."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from omnihcp.core.errors import ApplicationError
from omnihcp.masterdata.selectors import hco_cities, hcp_get
from omnihcp.org.permissions import TAG_EDITORS, TAG_SETTERS, request_scope, require_role
from omnihcp.org.selectors import product_list
from omnihcp.profiles import adoption, rules, selectors, services
from omnihcp.profiles.models import AdoptionStage, TagCategory, TagKind


def _role(request: HttpRequest) -> Any:
    return getattr(request.user, "role", None)


def _draft(post: Any, kind: str = "") -> services.TagDraft:
    return services.TagDraft(
        name=post.get("name", ""),
        category=post.get("category", ""),
        kind=kind or post.get("kind", ""),
        description=post.get("description", ""),
        rule=post.get("rule", ""),
    )


def _form(request: HttpRequest, values: Any, errors: dict[str, str], **extra: Any) -> HttpResponse:
    context = {
        "values": values,
        "errors": errors,
        "categories": TagCategory.choices,
        "kinds": TagKind.choices,
        **rules.HELP,
        **extra,
    }
    return render(request, "profiles/tag_form.html", context, status=400 if errors else 200)


@login_required
def tag_list(request: HttpRequest) -> HttpResponse:
    category = request.GET.get("category", "")
    kind = request.GET.get("kind", "")
    context = {
        "tags": selectors.tag_definitions(
            category=category if category in TagCategory.values else "",
            kind=kind if kind in TagKind.values else "",
        ),
        "categories": TagCategory.choices,
        "kinds": TagKind.choices,
        "category": category,
        "kind": kind,
        "may_edit": _role(request) in TAG_EDITORS,
    }
    return render(request, "profiles/tag_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def tag_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, TAG_EDITORS)
    if request.method == "POST":
        try:
            definition = services.tag_define(actor=request.user, draft=_draft(request.POST))
        except ApplicationError as exc:
            return _form(request, request.POST, {exc.field or "name": exc.message})
        if definition.kind == TagKind.RULE:
            services.tag_recompute(definition=definition)
        return redirect("profiles:tag-detail", tag_id=definition.pk)
    return _form(request, {"category": TagCategory.BASIC, "kind": TagKind.MANUAL}, {})


@login_required
@require_http_methods(["GET", "POST"])
def tag_edit(request: HttpRequest, tag_id: int) -> HttpResponse:
    require_role(request.user, TAG_EDITORS)
    definition = selectors.tag_definition_get(tag_id=tag_id)
    if request.method == "POST":
        try:
            services.tag_redefine(
                actor=request.user,
                definition=definition,
                draft=_draft(request.POST, kind=definition.kind),
            )
        except ApplicationError as exc:
            errors = {exc.field or "name": exc.message}
            return _form(request, request.POST, errors, definition=definition)
        return redirect("profiles:tag-detail", tag_id=definition.pk)
    values = {
        "name": definition.name,
        "category": definition.category,
        "kind": definition.kind,
        "description": definition.description,
        "rule": definition.rule,
    }
    return _form(request, values, {}, definition=definition)


@login_required
def tag_detail(request: HttpRequest, tag_id: int) -> HttpResponse:
    definition = selectors.tag_definition_get(tag_id=tag_id)
    preview = None
    if definition.kind == TagKind.RULE and definition.rule:
        preview = selectors.rule_preview(rule=definition.rule, scope=request_scope(request))
    context = {
        "tag": definition,
        "holders": definition.values.count(),
        "preview": preview,
        "may_edit": _role(request) in TAG_EDITORS,
    }
    return render(request, "profiles/tag_detail.html", context)


@login_required
@require_POST
def tag_recompute(request: HttpRequest, tag_id: int) -> HttpResponse:
    require_role(request.user, TAG_EDITORS)
    definition = selectors.tag_definition_get(tag_id=tag_id)
    services.tag_recompute(definition=definition)
    return redirect("profiles:tag-detail", tag_id=definition.pk)


@login_required
@require_POST
def rule_check(request: HttpRequest) -> HttpResponse:
    """The rule editor's live answer: the count of matching doctors, or where the rule is
    wrong (an htmx fragment)."""
    text = request.POST.get("rule", "")
    context: dict[str, Any] = {"rule": text}
    try:
        context["preview"] = selectors.rule_preview(rule=text, scope=request_scope(request))
    except rules.RuleError as exc:
        lines = text.splitlines() or [""]
        context["error"] = exc
        context["line"] = lines[exc.line - 1] if 0 < exc.line <= len(lines) else ""
        context["caret"] = " " * max(exc.column - 1, 0) + "^"
    return render(request, "profiles/rule_check.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def hcp_tags(request: HttpRequest, hcp_id: int) -> HttpResponse:
    hcp = hcp_get(scope=request_scope(request), hcp_id=hcp_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        require_role(request.user, TAG_SETTERS)
        post = request.POST
        tag_id = post.get("tag", "")
        try:
            if post.get("action") in ("stage", "accept", "dismiss"):
                _adoption(request, hcp, post)
                return redirect("profiles:hcp-tags", hcp_id=hcp.pk)
            if not tag_id.isdigit():
                raise ApplicationError(_("Choose a tag."), field="tag")
            definition = selectors.tag_definition_get(tag_id=int(tag_id))
            if post.get("action") == "clear":
                services.tag_clear(actor=request.user, hcp=hcp, definition=definition)
            else:
                services.tag_set(
                    actor=request.user, hcp=hcp, definition=definition, value=post.get("value", "")
                )
            return redirect("profiles:hcp-tags", hcp_id=hcp.pk)
        except ApplicationError as exc:
            errors[exc.field or "tag"] = exc.message
    tags = list(selectors.hcp_tags(hcp=hcp))
    by_category = [
        (label, [t for t in tags if t.definition.category == code])
        for code, label in TagCategory.choices
    ]
    context = {
        "hcp": hcp,
        "by_category": by_category,
        "history": selectors.hcp_tag_history(hcp=hcp),
        "manual": selectors.tag_definitions(kind=TagKind.MANUAL).filter(active=True),
        "may_set": _role(request) in TAG_SETTERS,
        "errors": errors,
        "adoptions": selectors.hcp_adoptions(hcp=hcp),
        "tiers": selectors.hcp_tiers(hcp=hcp),
        "proposals": selectors.hcp_proposals(hcp=hcp),
        "adoption_history": selectors.hcp_adoption_history(hcp=hcp),
        "products": product_list(),
        "stages": AdoptionStage.choices,
    }
    return render(request, "profiles/hcp_tags.html", context, status=400 if errors else 200)


def _adoption(request: HttpRequest, hcp: Any, post: Any) -> None:
    action = post.get("action")
    if action == "stage":
        product_id = post.get("product", "")
        product = product_list().filter(pk=product_id).first() if product_id.isdigit() else None
        if product is None:
            raise ApplicationError(_("Choose a product."), field="product")
        adoption.adoption_set(
            actor=request.user,
            hcp=hcp,
            product=product,
            stage=post.get("stage", ""),
            reason=post.get("reason", ""),
        )
        return
    proposal_id = post.get("proposal", "")
    if not proposal_id.isdigit():
        raise ApplicationError(_("This proposal has already been decided."), field="proposal")
    proposal = adoption.proposal_get(hcp=hcp, proposal_id=int(proposal_id))
    if action == "accept":
        adoption.proposal_accept(actor=request.user, proposal=proposal)
    else:
        adoption.proposal_dismiss(
            actor=request.user, proposal=proposal, reason=post.get("reason", "")
        )


@login_required
def adoption_funnel(request: HttpRequest) -> HttpResponse:
    products = list(product_list())
    chosen = request.GET.get("product", "")
    product = next((p for p in products if str(p.pk) == chosen), products[0] if products else None)
    province = request.GET.get("province", "")[:20]
    scope = request_scope(request)
    context = {
        "products": products,
        "product": product,
        "province": province,
        "provinces": sorted({p for p, _c in hco_cities(scope=scope)}),
        "steps": selectors.funnel(product=product, scope=scope, province=province)
        if product
        else [],
    }
    return render(request, "profiles/adoption_funnel.html", context)

"""The tiering page: a product's matrix (potential rules × support → A/B/C, calls a month per
tier), saved and computed for every doctor, and the resulting distribution in the caller's
territory. Marketing and medical edit; managers and reps read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from omnihcp.core.errors import ApplicationError
from omnihcp.org.permissions import TAG_EDITORS, request_scope, require_role
from omnihcp.org.selectors import product_list
from omnihcp.profiles import rules, tiers
from omnihcp.profiles.models import LEVELS, TIERS, HCPTier, TierMatrix


def _distribution(request: HttpRequest, product: Any) -> list[tuple[str, int]]:
    rows = request_scope(request).filter_hcos(
        HCPTier.objects.filter(product=product), "hcp__primary_hco_id"
    )
    counts = dict(rows.values("tier").annotate(n=Count("id")).values_list("tier", "n"))
    return [(tier, counts.get(tier, 0)) for tier in TIERS]


@login_required
@require_http_methods(["GET", "POST"])
def tier_matrix(request: HttpRequest) -> HttpResponse:
    products = list(product_list())
    chosen = request.POST.get("product") or request.GET.get("product", "")
    product = next((p for p in products if str(p.pk) == chosen), products[0] if products else None)
    matrix = TierMatrix.objects.filter(product=product).first() if product else None
    errors: dict[str, str] = {}
    if request.method == "POST" and product is not None:
        require_role(request.user, TAG_EDITORS)
        post = request.POST
        try:
            if post.get("action") != "compute":
                matrix = tiers.matrix_save(
                    actor=request.user,
                    product=product,
                    draft=tiers.MatrixDraft(
                        high_rule=post.get("high_rule", ""),
                        medium_rule=post.get("medium_rule", ""),
                        cells={k: post.get(k, "") for k in _cells()},
                        frequencies={t: post.get(f"frequency_{t}", "") for t in TIERS},
                    ),
                )
            if matrix is not None:
                tiers.tiers_compute(matrix=matrix)
            return redirect(f"{request.path}?product={product.pk}")
        except ApplicationError as exc:
            errors[exc.field or "high_rule"] = exc.message
    values: Any = (
        request.POST
        if errors
        else {
            "high_rule": matrix.high_rule
            if matrix
            else 'hco_level = "3A" and title in ("chief_physician", "associate_chief")',
            "medium_rule": matrix.medium_rule if matrix else 'hco_level in ("3A", "3B", "2A")',
            **(matrix.cells if matrix else tiers.DEFAULT_CELLS),
            **{
                f"frequency_{t}": n
                for t, n in (matrix.frequencies if matrix else tiers.DEFAULT_FREQUENCIES).items()
            },
        }
    )
    context = {
        "products": products,
        "product": product,
        "matrix": matrix,
        "values": values,
        "errors": errors,
        "levels": LEVELS,
        "tiers": TIERS,
        "distribution": _distribution(request, product) if matrix else [],
        "may_edit": getattr(request.user, "role", None) in TAG_EDITORS,
        **rules.HELP,
    }
    return render(request, "profiles/tiers.html", context, status=400 if errors else 200)


def _cells() -> list[str]:
    return [f"{p}/{s}" for p in LEVELS for s in LEVELS]

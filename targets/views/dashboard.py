"""The target dashboard: the city page, a district's page and a focus direction's page.

All three are the same board for a different scope (targets.selectors.dashboard.Board). A district
user's home is their district's page; the city dashboard is for city-wide users.
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from cluster.access import log_refused, scope_of
from cluster.models import District, Sector

from .. import charts
from ..choices import Basis, ScopeKind
from ..selectors.dashboard import (
    FIRM_ORDERINGS,
    Board,
    BoardScope,
    firms_behind,
    resolve_as_of,
    snapshot_quarters,
)

FIRMS_PER_PAGE = 25


def home(request):
    """City-wide users start on the city dashboard, district users on their district's page;
    an account without a role or district is told so (and never redirected in a circle)."""
    scope = scope_of(request.user)
    if scope.is_city:
        return redirect("targets:dashboard")
    district = District.objects.filter(pk__in=scope.district_ids).order_by("sort_order").first()
    if district is None:
        return render(request, "dashboard/no_scope.html", status=403)
    return redirect("targets:district", pk=district.pk)


def _as_of_context(request):
    basis = Basis.PREVIEW if request.GET.get("basis") == Basis.PREVIEW else Basis.APPROVED
    quarters = snapshot_quarters(basis)
    as_of = resolve_as_of(request.GET, quarters=quarters)
    return as_of, {"as_of": as_of, "quarters": quarters, "vintages": as_of.vintages}


def _board_page(request, scope: BoardScope):
    as_of, context = _as_of_context(request)
    board = Board(request.user, scope, as_of)
    context.update(
        {
            "board": board,
            "scope": scope,
            "section": "dashboard",
            "trend_chart": charts.trend_chart(board),
            "district_chart": charts.contribution_chart(board.by_district),
            "direction_chart": charts.contribution_chart(
                board.by_material if scope.direction else board.by_direction
            ),
            "money_unit": charts.money_unit()[1],
        }
    )
    if not scope.is_city and board.output_target is not None:
        context.update(_firms_context(request, scope, as_of, board.output_target.metric))
    return render(request, "dashboard/board.html", context)


def _firms_context(request, scope: BoardScope, as_of, metric) -> dict:
    search = request.GET.get("q", "").strip()
    order = request.GET.get("order", "-output")
    if order not in FIRM_ORDERINGS:
        order = "-output"
    firms = firms_behind(request.user, scope, as_of, metric=metric, search=search, order=order)
    page = Paginator(firms, FIRMS_PER_PAGE).get_page(request.GET.get("page"))
    # The search form keeps the rest of the query string. A list, not request.GET.items in
    # the template, where ?items=… would shadow the method.
    carried = [
        (key, value)
        for key, values in request.GET.lists()
        if key not in ("q", "page")
        for value in values
    ]
    return {"firms": page, "search": search, "order": order, "carried": carried}


def city_dashboard(request):
    if not scope_of(request.user).is_city:
        # A district user's dashboard is their district's page.
        return home(request)
    return _board_page(request, BoardScope())


def district_page(request, pk: int):
    district = get_object_or_404(District, pk=pk)
    if not scope_of(request.user).covers(district.pk):
        log_refused(request.user, District, {"pk": pk})
        raise Http404
    return _board_page(request, BoardScope(kind=ScopeKind.DISTRICT, district=district))


def sector_page(request, pk: int):
    direction = get_object_or_404(Sector.objects.directions(), pk=pk)
    if not scope_of(request.user).is_city:
        # Sector snapshots are city-wide aggregates: a district user reads their district.
        log_refused(request.user, Sector, {"pk": pk})
        raise Http404
    return _board_page(request, BoardScope(kind=ScopeKind.SECTOR, direction=direction))

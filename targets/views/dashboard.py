"""The pages of a cluster: the city dashboard, a district's page and a focus direction's page
(clusters/<key>/…); each user's first page is views.home.

All three are the same board for a different scope (targets.selectors.dashboard.Board), in the
phase of the quarter shown (selectors.plans). A district user's page in a cluster is their
district's; the city dashboard is for city-wide users. The single-cluster addresses of old
(/dashboard/…) lead to the same pages of the first cluster, so bookmarks keep working.
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from cluster import clock
from cluster.access import log_refused, scope_of
from cluster.models import Cluster, District, Sector

from .. import charts
from ..choices import ScopeKind
from ..selectors.dashboard import (
    FIRM_ORDERINGS,
    Board,
    BoardScope,
    firms_behind,
    resolve_as_of,
)
from ..selectors.plans import default_cluster

FIRMS_PER_PAGE = 25


def first_district(scope) -> District | None:
    return District.objects.filter(pk__in=scope.district_ids).order_by("sort_order").first()


def _cluster(key: str) -> Cluster:
    return get_object_or_404(Cluster, key=key)


def reading_context(request, cluster: Cluster) -> dict:
    """The quarter, phase and vintage a page of `cluster` shows (selectors.dashboard)."""
    reading = resolve_as_of(request.GET, cluster=cluster, today=clock.today())
    return {
        "reading": reading,
        "as_of": reading.as_of,
        "phase": reading.phase,
        "quarters": reading.quarters,
        "coverage": reading.coverage,
        "cluster": cluster,
        "page_cluster": cluster,
    }


def _board_page(request, scope: BoardScope):
    context = reading_context(request, scope.cluster)
    board = Board(request.user, scope, context["as_of"], context["phase"], today=clock.today())
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
    if not scope.is_city:
        context.update(
            _firms_context(request, scope, context["as_of"], board.figure, board.firm_lines_stored)
        )
    return render(request, "dashboard/board.html", context)


def _firms_context(request, scope: BoardScope, as_of, figure: str, stored: bool) -> dict:
    search = request.GET.get("q", "").strip()
    order = request.GET.get("order", "-output")
    if order not in FIRM_ORDERINGS:
        order = "-output"
    firms = firms_behind(
        request.user, scope, as_of, figure=figure, search=search, order=order, stored=stored
    )
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


def city_dashboard(request, cluster: str):
    cluster = _cluster(cluster)
    scope = scope_of(request.user)
    if not scope.is_city:
        # A district user's dashboard is their district's page.
        district = first_district(scope)
        if district is None:
            return render(request, "dashboard/no_scope.html", status=403)
        return redirect("targets:district", cluster=cluster.key, pk=district.pk)
    return _board_page(request, BoardScope(cluster))


def district_page(request, cluster: str, pk: int):
    cluster = _cluster(cluster)
    district = get_object_or_404(District, pk=pk)
    if not scope_of(request.user).covers(district.pk):
        log_refused(request.user, District, {"pk": pk})
        raise Http404
    return _board_page(request, BoardScope(cluster, kind=ScopeKind.DISTRICT, district=district))


def sector_page(request, cluster: str, pk: int):
    cluster = _cluster(cluster)
    direction = get_object_or_404(Sector.objects.directions().filter(cluster=cluster), pk=pk)
    if not scope_of(request.user).is_city:
        # Sector snapshots are city-wide aggregates: a district user reads their district.
        log_refused(request.user, Sector, {"pk": pk})
        raise Http404
    return _board_page(request, BoardScope(cluster, kind=ScopeKind.SECTOR, direction=direction))


def moved(name: str):
    """A page of the single-cluster addresses of old: the same page of the first cluster,
    with the same query string."""

    def view(request, **kwargs):
        cluster = default_cluster()
        if cluster is None:
            raise Http404
        url = reverse(name, kwargs={"cluster": cluster.key, **kwargs})
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)

    view.__name__ = f"moved_{name.replace(':', '_').replace('-', '_')}"
    return view

"""The firms behind a dashboard card's figure: the rows its counting rule looks at, counted
ones first, for the card's scope and "as of" (the same selector as the API's list)."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from cluster.access import log_refused, scope_of
from cluster.models import District, Sector

from ..models import Target
from ..selectors.counted import FirmsBehindCount
from .dashboard import reading_context

ROWS_PER_PAGE = 50


def _narrowing(request, name: str, queryset, *, city_only: bool):
    """The district or focus direction named in the query string, if the reader may see it."""
    raw = request.GET.get(name)
    if not raw:
        return None
    try:
        pk = int(raw)
    except ValueError:
        raise Http404 from None
    item = get_object_or_404(queryset, pk=pk)
    scope = scope_of(request.user)
    if not (scope.is_city if city_only else scope.covers(item.pk)):
        log_refused(request.user, queryset.model, {"pk": pk})
        raise Http404
    return item


def firms_page(request, cluster: str, pk: int):
    target = get_object_or_404(
        Target.objects.select_related("metric", "plan__cluster").filter(plan__cluster__key=cluster),
        pk=pk,
    )
    district = _narrowing(request, "district", District.objects.all(), city_only=False)
    direction = _narrowing(
        request,
        "direction",
        Sector.objects.directions().filter(cluster=target.plan.cluster),
        city_only=True,
    )
    context = reading_context(request, target.plan.cluster)
    as_of = context["as_of"]
    listing = FirmsBehindCount(
        target,
        as_of.quarter,
        as_of.figures,
        user=request.user,
        district_id=district.pk if district else None,
        direction_id=direction.pk if direction else None,
    )
    page = Paginator(listing.queryset, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    context.update(
        {
            "section": "dashboard",
            "target": target,
            "district": district,
            "direction": direction,
            "listing": listing,
            "page": page,
            "rows": listing.rows(page.object_list),
            "counted": listing.counted,
        }
    )
    return render(request, "dashboard/firms.html", context)

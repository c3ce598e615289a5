"""The page each role starts on (/): a district officer's to-do, the steward's review queue,
the administrator's dashboard.

An account without a role or district is told so (403), never redirected in a circle.
"""

from django.shortcuts import redirect, render

from cluster import clock
from cluster.access import scope_of
from cluster.models import Cluster

from ..selectors.home import officer_todo
from ..selectors.plans import default_cluster
from .dashboard import first_district


def home(request):
    scope = scope_of(request.user)
    if scope.can_approve:
        return redirect("reports:queue")
    # Those who enter a district's reports: the officers (the steward, who edits too, is
    # city-wide and reviews).
    if scope.can_edit and not scope.is_city:
        return officer_home(request)
    return administrator_home(request, scope)


def officer_home(request):
    todo = officer_todo(request.user, clock.today())
    return render(
        request,
        "home/officer.html",
        {
            "todo": todo,
            "cluster": default_cluster(),
            "section": "home",
        },
    )


def administrator_home(request, scope):
    """City-wide readers start on the overview of the city's clusters (on the cluster's own
    dashboard when there is only one), district readers on their district's page."""
    clusters = list(Cluster.objects.order_by("sort_order", "key")[:2])
    if scope.is_city:
        if len(clusters) > 1:
            return redirect("targets:overview")
        if clusters:
            return redirect("targets:dashboard", cluster=clusters[0].key)
    district = first_district(scope)
    if district is None or not clusters:
        return render(request, "dashboard/no_scope.html", status=403)
    return redirect("targets:district", cluster=clusters[0].key, pk=district.pk)

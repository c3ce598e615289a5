"""The city overview (/clusters/): every cluster of the city side by side."""

from django.shortcuts import redirect, render

from cluster import clock
from cluster.access import scope_of

from ..selectors.overview import city_overview


def overview(request):
    """City-wide figures: a district user's pages are their district's, in each cluster."""
    if not scope_of(request.user).is_city:
        return redirect("targets:home")
    return render(
        request,
        "dashboard/overview.html",
        {"overview": city_overview(clock.today()), "section": "overview"},
    )

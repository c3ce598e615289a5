"""The quarterly brief of a cluster: a print-ready page, and the same as PDF and as Excel
workbook. It reads the quarter in its phase (selectors.plans), like the dashboard."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import translation

from cluster import clock
from cluster.access import log_refused, scope_of
from cluster.errors import InvalidParameter
from cluster.models import Cluster, District
from cluster.quarters import Quarter

from ..choices import ScopeKind
from ..exports import brief_pdf, brief_workbook
from ..selectors.brief import Brief
from ..selectors.dashboard import BoardScope, resolve_as_of
from ..selectors.plans import official_quarter

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _scope(request, cluster: Cluster) -> BoardScope:
    """The city for city-wide users; a district user's own district (or the one asked for,
    if it is theirs)."""
    scope = scope_of(request.user)
    asked = request.GET.get("district", "")
    # isdecimal, not isdigit: "²" is a digit that int() refuses.
    if asked.isdecimal():
        if not scope.covers(int(asked)):
            log_refused(request.user, District, {"pk": asked})
            raise Http404
        district = get_object_or_404(District, pk=int(asked))
        return BoardScope(cluster, kind=ScopeKind.DISTRICT, district=district)
    if scope.is_city:
        return BoardScope(cluster)
    if not scope.district_ids:
        raise Http404
    district = District.objects.filter(pk__in=scope.district_ids).order_by("sort_order").first()
    return BoardScope(cluster, kind=ScopeKind.DISTRICT, district=district)


def _brief(request, cluster: str, period: str) -> Brief:
    """The brief of `period`; a quarter that is not offered (not a quarter, after the one
    being reported, before the register's first year) has none."""
    cluster = get_object_or_404(Cluster, key=cluster)
    try:
        quarter = Quarter.parse(period)
    except ValueError as bad:
        raise Http404 from bad
    params = request.GET.copy()
    params["period"] = str(quarter)
    try:
        reading = resolve_as_of(params, cluster=cluster, today=clock.today())
    except InvalidParameter as refused:
        if refused.name == "period":
            raise Http404 from refused
        raise
    base_url = request.build_absolute_uri("/")
    return Brief(request.user, _scope(request, cluster), reading, base_url=base_url)


def brief_latest(request, cluster: str):
    """The brief of the cluster's official quarter."""
    cluster = get_object_or_404(Cluster, key=cluster)
    quarter = official_quarter(cluster, clock.today()).quarter
    return redirect("targets:brief", cluster=cluster.key, period=str(quarter))


def _context(request, brief: Brief) -> dict:
    return {
        "brief": brief,
        "cluster": brief.scope.cluster,
        "page_cluster": brief.scope.cluster,
        # Every quarter offered, so that the one shown is always among them and selected.
        "quarters": brief.reading.quarters,
        "section": "brief",
        "query": request.GET.urlencode(),
    }


def brief_page(request, cluster: str, period: str):
    brief = _brief(request, cluster, period)
    return render(request, "dashboard/brief.html", _context(request, brief))


def brief_download(request, cluster: str, period: str, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    language = request.GET.get("lang") or translation.get_language()
    if language not in ("zh-hans", "en"):
        language = "zh-hans"
    with translation.override(language):
        brief = _brief(request, cluster, period)
        if fmt == "xlsx":
            content = brief_workbook(brief)
        else:
            html = render_to_string(
                "dashboard/brief.html", {**_context(request, brief), "printing": True}, request
            )
            content = brief_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(content, content_type=FORMATS[fmt])
    scope = brief.scope.district.code if brief.scope.district else "city"
    filename = f"brief-{brief.scope.cluster.key}-{brief.quarter}-{scope}-{language}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

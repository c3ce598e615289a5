"""The quarterly brief: a print-ready page, and the same as PDF and as Excel workbook."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import translation

from cluster.access import log_refused, scope_of
from cluster.models import District
from cluster.quarters import Quarter

from ..choices import ScopeKind
from ..exports import brief_pdf, brief_workbook
from ..selectors.brief import Brief
from ..selectors.dashboard import BoardScope, resolve_as_of, snapshot_quarters

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _scope(request) -> BoardScope:
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
        return BoardScope(kind=ScopeKind.DISTRICT, district=district)
    if scope.is_city:
        return BoardScope()
    if not scope.district_ids:
        raise Http404
    district = District.objects.filter(pk__in=scope.district_ids).order_by("sort_order").first()
    return BoardScope(kind=ScopeKind.DISTRICT, district=district)


def _brief(request, period: str) -> tuple[Brief, list[Quarter]]:
    """The brief of `period` and the quarters that have one (newest first)."""
    try:
        quarter = Quarter.parse(period)
    except ValueError as bad:
        raise Http404 from bad
    params = request.GET.copy()
    params["period"] = str(quarter)
    quarters = snapshot_quarters()
    if quarter not in quarters:
        raise Http404
    as_of = resolve_as_of(params, quarters=quarters)
    base_url = request.build_absolute_uri("/")
    return Brief(request.user, _scope(request), as_of, base_url=base_url), quarters


def brief_latest(request):
    quarters = snapshot_quarters()
    if not quarters:
        return render(request, "dashboard/brief_none.html", {"section": "brief"})
    return redirect("targets:brief", period=str(quarters[0]))


def _context(request, brief: Brief, quarters: list[Quarter]) -> dict:
    return {
        "brief": brief,
        "quarters": quarters[:12],
        "section": "brief",
        "query": request.GET.urlencode(),
    }


def brief_page(request, period: str):
    brief, quarters = _brief(request, period)
    return render(request, "dashboard/brief.html", _context(request, brief, quarters))


def brief_download(request, period: str, fmt: str):
    if fmt not in FORMATS:
        raise Http404
    language = request.GET.get("lang") or translation.get_language()
    if language not in ("zh-hans", "en"):
        language = "zh-hans"
    with translation.override(language):
        brief, quarters = _brief(request, period)
        if fmt == "xlsx":
            content = brief_workbook(brief)
        else:
            html = render_to_string(
                "dashboard/brief.html",
                {**_context(request, brief, quarters), "printing": True},
                request,
            )
            content = brief_pdf(html, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(content, content_type=FORMATS[fmt])
    scope = brief.scope.district.code if brief.scope.district else "city"
    filename = f"brief-{brief.quarter}-{scope}-{language}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response

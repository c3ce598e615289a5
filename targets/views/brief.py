"""The quarterly brief of a cluster: a print-ready page, and the same as PDF and as Excel
workbook. It reads the quarter in its phase (selectors.plans), like the dashboard."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cluster import clock
from cluster.access import log_refused, scope_of
from cluster.errors import InvalidParameter, parse_id
from cluster.models import Cluster, District
from cluster.quarters import Quarter

from ..choices import ScopeKind
from ..exports import brief_document, brief_filename
from ..models import Release
from ..selectors.brief import Brief, brief_scope_of
from ..selectors.dashboard import BoardScope, parse_vintage, resolve_as_of
from ..selectors.plans import official_quarter
from ..services.briefs import may_release, release_make

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _scope(request, cluster: Cluster) -> BoardScope:
    """A district user's own district (or the one asked for, if it is theirs); else the
    scope their brief has by default (the city for city-wide users)."""
    asked = request.GET.get("district", "")
    if asked:
        pk = parse_id(asked, "district")
        if not scope_of(request.user).covers(pk):
            log_refused(request.user, District, {"pk": pk})
            raise Http404
        district = get_object_or_404(District, pk=pk)
        return BoardScope(cluster, kind=ScopeKind.DISTRICT, district=district)
    scope = brief_scope_of(request.user, cluster)
    if scope is None:
        raise Http404
    return scope


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
        # A released quarter's brief is its latest release unless a vintage is asked for.
        reading = resolve_as_of(params, cluster=cluster, today=clock.today(), prefer_release=True)
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
        "can_release": may_release(request.user),
        "release_title": Release.default_title(brief.quarter),
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
        content = brief_document(brief, fmt)
    response = HttpResponse(content, content_type=FORMATS[fmt])
    filename = brief_filename(brief, fmt, language)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
def brief_release(request, cluster: str, period: str):
    """The "Release as official" button: the vintage the steward is looking at becomes the
    quarter's official release (the service checks the role and the vintage again)."""
    cluster = get_object_or_404(Cluster, key=cluster)
    try:
        quarter = Quarter.parse(period)
    except ValueError as bad:
        raise Http404 from bad
    if not may_release(request.user):
        raise PermissionDenied
    try:
        release = release_make(
            actor=request.user,
            cluster=cluster,
            quarter=quarter,
            vintage=parse_vintage(request.POST.get("vintage", "")),
            title=request.POST.get("title", ""),
            note=request.POST.get("note", ""),
            today=clock.today(),
            now=clock.now(),
        )
    except ValidationError as refused:
        for message in refused.messages:
            messages.error(request, message)
        if "quarter" in refused.message_dict:
            # A quarter not offered has no brief to go back to: the latest one says why.
            return redirect("targets:brief-latest", cluster=cluster.key)
    else:
        messages.success(request, _("Released as official: %(title)s.") % {"title": release})
    return redirect("targets:brief", cluster=cluster.key, period=str(quarter))

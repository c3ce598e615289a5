"""Pages of the quarterly reporting: completeness, worksheet, submission and review."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cluster import clock
from cluster.access import get_or_refuse, get_visible_or_404, scope_of
from cluster.errors import InvalidParameter, parse_ids
from cluster.models import District
from cluster.quarters import Quarter

from ..choices import EntryMode, Unit
from ..models import FIGURES, Enterprise, QuarterlyReport
from ..periods import ReportingWindow, days_to_deadline, deadline_of
from ..selectors import (
    build_rows,
    completeness_overview,
    outstanding_enterprises,
    quarters_until,
    visible_districts,
    worksheet_enterprises,
)
from ..services.report_entry import ReportConflict, report_save
from ..services.reports import reports_submit
from .review import review_selection

PAGE_SIZE = 50


def _quarter(text: str) -> Quarter:
    try:
        return Quarter.parse(text)
    except ValueError:
        raise Http404 from None


def _district(user, district_id: int):
    return get_or_refuse(visible_districts(user), District.objects.all(), user, pk=district_id)


def completeness_page(request):
    today = clock.today()
    window = ReportingWindow.on(today)
    try:
        last = Quarter.parse(request.GET["until"]) if request.GET.get("until") else None
    except ValueError as bad:
        raise InvalidParameter("until", str(bad)) from None
    # By default the quarter now being reported, never the latest one someone typed into (a
    # report stored for 2100Q4 must not move everyone's table into the next century).
    last = last or window.being_reported
    quarters = quarters_until(last, 4)
    return render(
        request,
        "reports/completeness.html",
        {
            "overview": completeness_overview(request.user, quarters, today),
            "columns": [(q, deadline_of(q)) for q in quarters],
            "deadline_days": settings.REPORT_DEADLINE_DAYS,
            "section": "reports",
            "last": last,
            "earlier": last.step(-4),
            "later": last.step(4),
            "today": today,
            "window": window,
        },
    )


def _mode(request) -> str:
    mode = request.GET.get("mode") or request.POST.get("mode") or EntryMode.QUARTERLY
    return mode if mode in EntryMode.values else EntryMode.QUARTERLY


def worksheet_page(request, district_id: int, period: str):
    district = _district(request.user, district_id)
    quarter = _quarter(period)
    mode = _mode(request)
    search = request.GET.get("q", "").strip()
    show = request.GET.get("show", "all")
    enterprises = (
        outstanding_enterprises(request.user, district, quarter)
        if show == "outstanding"
        else worksheet_enterprises(request.user, district, quarter, search)
    )
    page = Paginator(enterprises, PAGE_SIZE).get_page(request.GET.get("page"))
    window = ReportingWindow.on(clock.today())
    closed = window.problem(quarter)
    rows = build_rows(
        request.user, list(page.object_list), quarter, mode, open_for_entry=closed is None
    )
    scope = scope_of(request.user)
    return render(
        request,
        "reports/worksheet.html",
        {
            "district": district,
            "quarter": quarter,
            "mode": mode,
            "modes": EntryMode.choices,
            "search": search,
            "show": show,
            "page": page,
            "rows": rows,
            "figures": rows[0].cells if rows else [],
            "can_edit": closed is None and scope.can_edit and scope.covers(district.pk),
            "can_approve": scope.can_approve,
            "deadline": deadline_of(quarter),
            "countdown": days_to_deadline(quarter, window.today),
            "window": window,
            "closed": closed,
            "section": "reports",
            "previous_quarter": quarter.step(-1),
            "next_quarter": quarter.step(1),
        },
    )


def _version(text: str | None) -> int | None:
    """The version the row was loaded with (0 or empty: a new report)."""
    try:
        return int(text or 0) or None
    except ValueError:
        return None


def _render_row(request, row, quarter, mode, *, status=200):
    return render(
        request,
        "reports/_row.html",
        {"row": row, "quarter": quarter, "mode": mode, "district": row.enterprise.district},
        status=status,
    )


def _fresh_row(request, enterprise, quarter, mode):
    closed = ReportingWindow.on(clock.today()).problem(quarter)
    return build_rows(request.user, [enterprise], quarter, mode, open_for_entry=closed is None)[0]


def row_page(request, district_id: int, period: str, enterprise_id: int):
    """GET: one worksheet row. POST: save it (htmx swaps the returned row in place)."""
    district = _district(request.user, district_id)
    quarter = _quarter(period)
    enterprise = get_visible_or_404(
        Enterprise.objects.select_related("district"),
        request.user,
        pk=enterprise_id,
        district=district,
    )
    mode = _mode(request)
    if request.method != "POST":
        row = _fresh_row(request, enterprise, quarter, mode)
        row.revising = request.GET.get("revise") == "1"
        return _render_row(request, row, quarter, mode)

    entered = {figure: request.POST.get(figure, "") for figure in FIGURES}
    note = request.POST.get("anomaly_note", "")
    reason = request.POST.get("change_reason", "")
    errors: dict[str, str] = {}
    try:
        report_save(
            actor=request.user,
            enterprise=enterprise,
            quarter=quarter,
            values=entered,
            version=_version(request.POST.get("version")),
            unit=Unit.WAN,
            mode=mode,
            anomaly_note=note,
            change_reason=reason,
            source="worksheet",
        )
    except ReportConflict as conflict:
        row = _fresh_row(request, enterprise, quarter, mode)
        row.errors = [str(conflict)] + [
            f"{cell.label}: {cell.input_value or '—'}" for cell in row.cells
        ]
        return _render_row(request, row, quarter, mode, status=409)
    except ValidationError as error:
        errors = {key: " ".join(value) for key, value in error.message_dict.items()}
    except PermissionDenied:
        raise Http404 from None
    row = _fresh_row(request, enterprise, quarter, mode)
    status = 200
    if errors:
        status = 422
        for cell in row.cells:
            cell.entered = entered[cell.figure]
            cell.error = errors.pop(cell.figure, None)
        row.note, row.reason = note, reason
        row.revising = True
        if "anomaly_note" in errors:
            row.flagged = True
        row.field_errors = errors
        row.errors = list(errors.values())
    else:
        row.saved = True
    return _render_row(request, row, quarter, mode, status=status)


@require_POST
def submit_page(request, district_id: int, period: str):
    district = _district(request.user, district_id)
    quarter = _quarter(period)
    selected = request.POST.getlist("selected")
    everything = request.POST.get("scope") == "all"
    chosen = None if everything else parse_ids(selected, "selected")
    if not everything and not selected:
        messages.warning(request, _("Select the firms to submit, or submit all."))
    else:
        try:
            count = reports_submit(
                actor=request.user,
                district=district,
                quarter=quarter,
                enterprise_ids=chosen,
            )
        except PermissionDenied:
            raise Http404 from None
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d report submitted for review.",
                    "%(count)d reports submitted for review.",
                    count,
                )
                % {"count": count},
            )
    return redirect(reverse("reports:worksheet", args=[district.pk, str(quarter)]))


@require_POST
def review_page(request, district_id: int, period: str):
    """Approve or return submitted reports: one row (htmx) or the selected ones."""
    district = _district(request.user, district_id)
    quarter = _quarter(period)
    if not scope_of(request.user).can_approve:
        raise PermissionDenied
    ids = parse_ids(request.POST.getlist("report"), "report")
    reason = request.POST.get("reason", "")
    mode = _mode(request)
    done, error_text = review_selection(request, ids)
    if request.headers.get("HX-Request") and len(ids) == 1:
        report = get_visible_or_404(QuarterlyReport.objects, request.user, pk=ids[0])
        row = _fresh_row(request, report.enterprise, quarter, mode)
        if error_text:
            row.errors = [error_text]
            row.reason = reason
        return _render_row(request, row, quarter, mode, status=422 if error_text else 200)
    if error_text:
        messages.error(request, error_text)
    else:
        messages.success(request, done)
    return redirect(reverse("reports:worksheet", args=[district.pk, str(quarter)]))


def export_page(request, district_id: int, period: str, fmt: str):
    from ..imports import export_reports

    if fmt not in ("xlsx", "csv"):
        raise Http404
    district = _district(request.user, district_id)
    quarter = _quarter(period)
    content, content_type = export_reports(
        QuarterlyReport.objects.visible_to(request.user).filter(
            enterprise__district=district, year=quarter.year, quarter=quarter.quarter
        ),
        fmt,
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="reports-{district.code or district.pk}-{quarter}.{fmt}"'
    )
    return response

"""The steward's review queue: every submitted report waiting for review, with the context a
review needs beside it, approved or returned one row at a time (htmx) or for a selection.

A selection is reviewed as a whole, by one call of the service: when one of its reports
cannot be (four-eyes review, another steward acted first, the figures changed since the page
was loaded) none is, and the page says which and why.
"""

from __future__ import annotations

from itertools import groupby

import django_filters as filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from cluster.access import scope_of
from cluster.errors import parse_id, parse_ids
from cluster.models import District
from cluster.quarters import Quarter

from ..models import FIGURE_LABELS, FIGURES, QuarterlyReport
from ..selectors import queue_quarters, queue_rows, queue_summary, review_queue
from ..services.reports import reports_approve, reports_return

QUEUE_PAGE_SIZE = 25


class QueueFilter(filters.FilterSet):
    district = filters.ModelChoiceFilter(
        label=gettext_lazy("District"),
        field_name="enterprise__district",
        queryset=District.objects.none(),
        empty_label=gettext_lazy("all"),
    )
    quarter = filters.ChoiceFilter(
        label=gettext_lazy("Quarter"),
        choices=[],
        method="in_quarter",
        empty_label=gettext_lazy("all"),
    )

    class Meta:
        model = QuarterlyReport
        fields = ["district", "quarter"]

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["district"].queryset = scope_of(user).filter(
            District.objects.order_by("sort_order"), "pk"
        )
        self.filters["quarter"].extra["choices"] = [
            (str(quarter), quarter.label()) for quarter in queue_quarters(user)
        ]

    def in_quarter(self, queryset, name, value):
        quarter = Quarter.parse(value)
        return queryset.filter(year=quarter.year, quarter=quarter.quarter)


def review_queue_page(request):
    queue = QueueFilter(request.GET, queryset=review_queue(request.user), user=request.user)
    page = Paginator(queue.qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = queue_rows(request.user, list(page.object_list))
    groups = [
        (rows_of_group[0].report, rows_of_group)
        for _key, grouped in groupby(
            rows, key=lambda row: (row.report.enterprise.district_id, row.report.period)
        )
        for rows_of_group in [list(grouped)]
    ]
    return render(
        request,
        "reports/queue.html",
        {
            "filter": queue,
            "page": page,
            "groups": groups,
            "summary": queue_summary(request.user),
            "figure_labels": [FIGURE_LABELS[name] for name in FIGURES],
            "can_approve": scope_of(request.user).can_approve,
            "here": request.get_full_path(),
            "section": "reports",
        },
    )


def _versions(data, ids: list[int]) -> dict[int, int]:
    """The version of each report as the steward's page showed it."""
    versions = {}
    for pk in ids:
        text = data.get(f"version-{pk}", "")
        if text:
            versions[pk] = parse_id(text, f"version-{pk}")
    return versions


def review_selection(request, ids: list[int]) -> tuple[str, str]:
    """Approve or return the reports `ids` as the POST asks (action, reason, the versions the
    page showed) through the services, for the queue and the worksheet alike: (what was done,
    why nothing was)."""
    action = request.POST.get("action")
    versions = _versions(request.POST, ids)
    try:
        if action == "approve":
            count = reports_approve(actor=request.user, report_ids=ids, versions=versions)
            return ngettext("%(count)d report approved.", "%(count)d reports approved.", count) % {
                "count": count
            }, ""
        if action == "return":
            count = reports_return(
                actor=request.user,
                report_ids=ids,
                reason=request.POST.get("reason", ""),
                versions=versions,
            )
            return ngettext("%(count)d report returned.", "%(count)d reports returned.", count) % {
                "count": count
            }, ""
        raise ValidationError(_("Unknown action."))
    except ValidationError as refused:
        return "", " ".join(refused.messages)


@require_POST
def review_queue_act(request):
    """Approve or return one row (htmx: the row comes back in place, with the outcome) or the
    checked selection (all or nothing; back to the queue with the outcome)."""
    if not scope_of(request.user).can_approve:
        raise PermissionDenied
    ids = parse_ids(request.POST.getlist("report"), "report")
    if ids:
        done, refused = review_selection(request, ids)
    else:
        done, refused = "", _("Select the reports to review.")
    if request.headers.get("HX-Request") and len(ids) == 1:
        report = (
            QuarterlyReport.objects.visible_to(request.user)
            .select_related("enterprise__district", "submitted_by")
            .filter(pk=ids[0])
            .first()
        )
        if report is not None:
            row = queue_rows(request.user, [report])[0]
            row.done, row.error = done, refused
            return render(
                request,
                "reports/_queue_row.html",
                {"row": row, "can_approve": scope_of(request.user).can_approve},
                status=422 if refused else 200,
            )
    if refused:
        messages.error(request, refused)
    else:
        messages.success(request, done)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("reports:queue")
    return redirect(back)

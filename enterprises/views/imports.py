"""Upload → preview (dry run) → confirm, for quarterly reports and enterprises."""

from __future__ import annotations

import json
import uuid

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cluster import clock
from cluster.access import get_or_refuse, scope_of
from cluster.errors import InvalidParameter
from cluster.models import District
from cluster.quarters import Quarter
from cluster.spreadsheets import SheetError

from ..choices import EntryMode, Unit
from ..imports import (
    TEMPLATE_UNIT,
    UNIT_WORDS,
    enterprise_column_label,
    enterprise_template,
    expected_firms,
    file_format,
    read_enterprise_rows,
    read_file,
    report_template,
    reports_import,
    shown_errors,
)
from ..periods import ReportingWindow
from ..resources import EnterpriseResource
from ..selectors import visible_districts


class UploadForm(forms.Form):
    KINDS = [
        ("reports", gettext_lazy("quarterly reports")),
        ("enterprises", gettext_lazy("enterprises")),
    ]
    kind = forms.ChoiceField(label=gettext_lazy("what the file holds"), choices=KINDS)
    file = forms.FileField(
        label=gettext_lazy("file (.xlsx or .csv)"),
        help_text=gettext_lazy("Use the template; headers in English or Chinese."),
    )
    unit = forms.ChoiceField(
        label=gettext_lazy("unit of money columns"), choices=Unit.choices, initial=Unit.WAN
    )
    mode = forms.ChoiceField(
        label=gettext_lazy("values are"), choices=EntryMode.choices, initial=EntryMode.QUARTERLY
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if file_format(upload.name) is None:
            raise forms.ValidationError(_("Upload an .xlsx or .csv file."))
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)d MB.")
                % {"limit": settings.IMPORT_MAX_UPLOAD_BYTES // 2**20}
            )
        return upload


def _require_editor(user):
    if not scope_of(user).can_edit:
        raise PermissionDenied


def _stash(user, upload, options) -> str:
    """Keep the uploaded file between preview and confirmation."""
    token = uuid.uuid4().hex
    folder = settings.IMPORT_TMP_DIR
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{token}.bin").write_bytes(upload.read())
    (folder / f"{token}.json").write_text(
        json.dumps({**options, "user": user.pk, "name": upload.name}), encoding="utf-8"
    )
    return token


def _unstash(user, token: str):
    # A stash token is a uuid4 hex (_stash); anything else is no file of ours.
    if len(token) != 32 or not token.isalnum():
        raise Http404
    folder = settings.IMPORT_TMP_DIR
    try:
        options = json.loads((folder / f"{token}.json").read_text(encoding="utf-8"))
        content = (folder / f"{token}.bin").read_bytes()
    except FileNotFoundError:
        raise Http404 from None
    if options["user"] != user.pk:
        raise Http404
    return content, options


def _discard(token: str) -> None:
    for suffix in (".bin", ".json"):
        (settings.IMPORT_TMP_DIR / f"{token}{suffix}").unlink(missing_ok=True)


def _run(user, content: bytes, options: dict, *, dry_run: bool):
    fmt = file_format(options["name"])
    lines = []
    try:
        if options["kind"] == "reports":
            dataset = read_file(content, fmt)
        else:
            dataset, lines = read_enterprise_rows(content, fmt)
    except SheetError as exc:  # damaged, mislabelled, a zip bomb, no header row ...
        return {"file_error": str(exc)}
    if options["kind"] == "reports":
        outcome = reports_import(
            actor=user,
            dataset=dataset,
            unit=options["unit"],
            mode=options["mode"],
            dry_run=dry_run,
        )
        errors = shown_errors(outcome.errors, options["unit"], dataset.headers)
        return {"outcome": outcome, "errors": errors}
    result = EnterpriseResource().import_data(dataset, dry_run=dry_run, user=user, lines=lines)
    errors = [
        (row.number, enterprise_column_label(field), " ".join(messages))
        for row in result.invalid_rows
        for field, messages in row.error_dict.items()
    ]
    return {"enterprise_result": result, "enterprise_lines": lines, "enterprise_errors": errors}


def import_page(request):
    _require_editor(request.user)
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            options = {k: form.cleaned_data[k] for k in ("kind", "unit", "mode")}
            token = _stash(request.user, form.cleaned_data["file"], options)
            return redirect("reports:import-preview", token=token)
    else:
        form = UploadForm()
    window = ReportingWindow.on(clock.today())
    quarters, quarter = [], window.last
    while quarter >= window.first:
        quarters.append(quarter)
        quarter = quarter.previous()
    return render(
        request,
        "reports/import.html",
        {
            "form": form,
            "window": window,
            "quarters": quarters,
            "being_reported": window.being_reported,
            # The unit as the template's headers name it (column_label).
            "template_unit": UNIT_WORDS[TEMPLATE_UNIT],
            "districts": visible_districts(request.user) if scope_of(request.user).is_city else (),
        },
    )


def preview_page(request, token: str):
    _require_editor(request.user)
    content, options = _unstash(request.user, token)
    context = _run(request.user, content, options, dry_run=True)
    return render(
        request,
        "reports/import_preview.html",
        {"token": token, "options": options, **context},
    )


@require_POST
def confirm_page(request, token: str):
    _require_editor(request.user)
    content, options = _unstash(request.user, token)
    context = _run(request.user, content, options, dry_run=False)
    outcome = context.get("outcome")
    result = context.get("enterprise_result")
    failed = (
        context.get("file_error")
        or (outcome and outcome.errors)
        or (result and (result.has_errors() or result.has_validation_errors()))
    )
    if failed:
        messages.error(request, _("The file has errors; nothing was imported."))
        return redirect("reports:import-preview", token=token)
    _discard(token)
    totals = (
        outcome.totals
        if outcome
        else {
            "new": result.totals["new"],
            "changed": result.totals["update"],
            "unchanged": result.totals["skip"],
        }
    )
    messages.success(
        request,
        _("Imported: %(new)d new, %(changed)d changed, %(unchanged)d unchanged.") % totals,
    )
    return redirect("reports:completeness")


def template_page(request, kind: str, fmt: str):
    if fmt not in ("xlsx", "csv") or kind not in ("reports", "enterprises"):
        raise Http404
    if kind == "enterprises":
        content, content_type = enterprise_template(fmt)
        name = f"template-enterprises.{fmt}"
    else:
        quarter, district = _template_quarter(request), _template_district(request)
        firms = expected_firms(request.user, quarter, district)
        content, content_type = report_template(fmt, firms=firms, quarter=quarter)
        name = f"template-reports-{quarter}{f'-{district.code}' if district else ''}.{fmt}"
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _template_quarter(request) -> Quarter:
    """The quarter the template is for: ?quarter=, by default the one now being reported;
    one not open for reporting is refused in the window's words."""
    window = ReportingWindow.on(clock.today())
    if not request.GET.get("quarter"):
        return window.being_reported
    try:
        quarter = Quarter.parse(request.GET["quarter"])
    except ValueError as bad:
        raise InvalidParameter("quarter", str(bad)) from None
    problem = window.problem(quarter)
    if problem:
        raise InvalidParameter("quarter", problem)
    return quarter


def _template_district(request) -> District | None:
    """?district= (its code) narrows a city user's template to one district; an officer's
    template is of their districts anyway."""
    code = request.GET.get("district")
    if not code:
        return None
    return get_or_refuse(
        visible_districts(request.user), District.objects.all(), request.user, code=code
    )

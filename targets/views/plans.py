"""The clusters and their plans, and the steward's door to load a plan file: upload → the
checks (each error with its line and field) → a preview of what changes → confirm. The page
and `manage.py load_plan` call the same reading and loading (targets.plans)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cluster import clock
from cluster.models import Cluster, Plan

from ..plans.loading import plan_changes, plan_load
from ..plans.reading import PlanFileError, read_plan_file
from ..services.rules import may_change_rules

# A plan file is a page or two of text: anything much larger is not one.
LARGEST_PLAN_FILE = 512 * 1024


class PlanFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("plan file (.yaml or .json)"),
        help_text=gettext_lazy("The format is described in docs/plan-files.md."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason, kept in the history"),
        max_length=500,
        help_text=gettext_lazy("E.g. the document the plan file was written from."),
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > LARGEST_PLAN_FILE:
            raise forms.ValidationError(_("A plan file is at most 512 KB."))
        try:
            return upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(_("Save the plan file as UTF-8 text.")) from None


class ConfirmForm(forms.Form):
    text = forms.CharField(widget=forms.HiddenInput, max_length=LARGEST_PLAN_FILE)
    reason = forms.CharField(widget=forms.HiddenInput, max_length=500)


def plan_list(request):
    today = clock.today()
    clusters = Cluster.objects.prefetch_related("plans").order_by("sort_order", "key")
    rows = [
        (cluster, [(plan, plan.phase_on(today)) for plan in cluster.plans.all()])
        for cluster in clusters
    ]
    return render(
        request,
        "plans/list.html",
        {
            "rows": rows,
            "today": today,
            "can_load": may_change_rules(request.user),
            "section": "plans",
        },
    )


def _require_steward(user) -> None:
    if not may_change_rules(user):
        raise PermissionDenied


def plan_upload(request):
    """Upload → the checks → the preview, or the errors with their lines."""
    _require_steward(request.user)
    form = PlanFileForm(request.POST or None, request.FILES or None)
    context = {"form": form, "section": "plans"}
    status = 200
    if request.method == "POST" and form.is_valid():
        text, reason = form.cleaned_data["file"], form.cleaned_data["reason"]
        try:
            plan_file = read_plan_file(text)
        except PlanFileError as error:
            context["errors"], status = error.errors, 422
        else:
            loading = plan_changes(plan_file)
            context.update(
                plan_file=plan_file,
                loading=loading,
                changed=[c for c in loading.changes if c.action != "unchanged"],
                confirm=ConfirmForm(initial={"text": text, "reason": reason}),
            )
            status = 422 if loading.errors else 200
    return render(request, "plans/load.html", context, status=status)


@require_POST
def plan_confirm(request):
    """Load the previewed file: checked again, all of it or nothing."""
    _require_steward(request.user)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The plan file was lost on the way; upload it again."))
        return redirect("targets:plan-upload")
    try:
        plan_file = read_plan_file(form.cleaned_data["text"])
    except PlanFileError:
        messages.error(request, _("The plan file has errors; nothing was loaded."))
        return redirect("targets:plan-upload")
    loading = plan_load(plan_file, actor=request.user, reason=form.cleaned_data["reason"])
    if loading.errors:
        messages.error(request, _("The plan file has errors; nothing was loaded."))
        return redirect("targets:plan-upload")
    plan = Plan.objects.get(key=plan_file.plan["key"])
    messages.success(
        request,
        _("%(plan)s loaded: %(new)d new, %(changed)d changed, %(unchanged)d unchanged.")
        % {
            "plan": plan.name,
            "new": loading.count("create"),
            "changed": loading.count("update"),
            "unchanged": loading.count("unchanged"),
        },
    )
    return redirect("targets:plans")

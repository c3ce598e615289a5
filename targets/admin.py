from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AdminDateWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from cluster import clock
from cluster.access import log_refused, scope_of
from cluster.admin import (
    FiguresShownMixin,
    HistoryAdmin,
    KeptAsMadeMixin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
)
from cluster.formatting import yuan_as_yi
from cluster.models import PlanPhase
from cluster.quarters import Quarter

from .models import (
    Alert,
    AlertRule,
    Assessment,
    BriefDelivery,
    BriefSubscription,
    EvaluatedPlan,
    Metric,
    ProgressSnapshot,
    Release,
    Target,
    TargetMilestone,
    TargetShare,
)
from .selectors.evaluation import evaluation_of
from .services.alerts import alert_acknowledge, alert_resolve, alert_snooze
from .services.assessments import assessment_check, assessment_record, may_assess
from .services.briefs import may_release, release_check, release_make, subscription_save
from .services.evaluation import evaluation_close
from .services.rules import (
    may_change_rules,
    metric_save,
    milestones_set_by_hand,
    rule_change_reason,
    target_save,
    target_share_delete,
    target_share_save,
)


class RuleChangeForm(forms.ModelForm):
    """A metric's or target's form: the change is saved with the reason it gives."""

    reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text=_(
            "Kept in the history. A change of the counting rule starts a new rule version "
            "and recomputes the figures; those of the old version are kept."
        ),
    )

    def clean_reason(self) -> str:
        try:
            return rule_change_reason(self.cleaned_data.get("reason", ""))
        except forms.ValidationError as error:
            raise forms.ValidationError(error.message_dict["reason"]) from None


class RuleAdmin(HistoryAdmin):
    """Counting rules are changed by a city steward, through the rule services only."""

    form = RuleChangeForm

    def has_add_permission(self, request):
        return super().has_add_permission(request) and may_change_rules(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_change_rules(request.user)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and may_change_rules(request.user)


@admin.register(Metric)
class MetricAdmin(RuleAdmin):
    list_display = (
        "key",
        "name_zh",
        "kind",
        "figure",
        "threshold_display",
        "comparison",
        "designation_type",
        "count_mode",
    )
    list_filter = ("kind", "count_mode")
    search_fields = ("key", "name_zh", "name_en")
    readonly_fields = ("counting_rule_in_words",)

    @admin.display(description=_("threshold (yuan)"), ordering="threshold")
    def threshold_display(self, obj):
        return yuan_as_yi(obj.threshold, places=0) if obj.threshold is not None else ""

    @admin.display(description=_("counting rule in words"))
    def counting_rule_in_words(self, obj):
        return obj.counting_rule() if obj.pk else ""

    def save_model(self, request, obj, form, change):
        metric_save(actor=request.user, metric=obj, reason=form.cleaned_data["reason"])


class MilestoneInline(admin.TabularInline):
    model = TargetMilestone
    extra = 0
    fields = ("due_on", "expected_value", "interpolated")
    readonly_fields = ("interpolated",)


@admin.register(Target)
class TargetAdmin(RuleAdmin):
    list_display = (
        "key",
        "name_zh",
        "metric",
        "comparison",
        "target_display",
        "deadline",
        "district",
        "sector",
        "rule_version",
    )
    list_filter = ("unit", "district")
    list_select_related = ("metric", "district", "sector")
    search_fields = ("key", "name_zh", "name_en")
    readonly_fields = ("rule_version",)
    inlines = [MilestoneInline]

    @admin.display(description=_("target value"), ordering="target_value")
    def target_display(self, obj):
        return obj.display_value(obj.target_value, places=0)

    def save_model(self, request, obj, form, change):
        target_save(actor=request.user, target=obj, reason=form.cleaned_data["reason"])

    def save_formset(self, request, form, formset, change):
        milestones_set_by_hand(
            actor=request.user,
            target=form.instance,
            milestones=formset.save(commit=False),
            deleted=formset.deleted_objects,
            reason=form.cleaned_data["reason"],
        )


@admin.register(TargetShare)
class TargetShareAdmin(RuleAdmin):
    """The plan's 任务分解: a steward enters each district's or direction's part of a target,
    with a reason; deleting one is a rule change too, so one at a time, with its reason."""

    list_display = ("target", "scope_kind", "district", "sector", "value_shown", "note")
    list_filter = ("target__plan", "scope_kind", "district")
    list_select_related = ("target__metric", "district", "sector")
    actions = None

    @admin.display(description=_("target value of the scope"), ordering="value")
    def value_shown(self, obj):
        return obj.target.display_value(obj.value, places=2)

    def save_model(self, request, obj, form, change):
        target_share_save(actor=request.user, share=obj, reason=form.cleaned_data["reason"])

    def delete_view(self, request, object_id, extra_context=None):
        # The confirmation page asks for the reason (admin/targets/targetshare/
        # delete_confirmation.html); without one nothing is deleted and the page says why.
        if request.method == "POST" and request.POST.get("post"):
            try:
                rule_change_reason(request.POST.get("reason", ""))
            except ValidationError as error:
                messages.error(request, " ".join(error.message_dict["reason"]))
                return redirect(request.path)
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        target_share_delete(actor=request.user, share=obj, reason=request.POST["reason"])


@admin.register(ProgressSnapshot)
class ProgressSnapshotAdmin(
    ReadOnlyAdminMixin, FiguresShownMixin, ScopedAdminMixin, admin.ModelAdmin
):
    """Computed by the progress job; read-only, in the user's scope."""

    figure_fields = ("actual", "milestone_expected", "projection", "run_rate_needed")

    list_display = (
        "target",
        "scope_key",
        "year",
        "quarter",
        "basis",
        "vintage",
        "rule_version",
        "actual_shown",
        "projection_shown",
        "status",
    )
    list_filter = ("target", "scope_kind", "basis", "rule_version", "status", "year", "quarter")
    list_select_related = ("target",)

    def figure_text(self, obj, value) -> str:
        # In the target's unit: 亿元 / ¥ bn for money, "2 家" / "2 firms" for counts.
        return obj.target.display_value(value, places=2)

    @admin.display(description=_("actual value"), ordering="actual")
    def actual_shown(self, obj):
        return self.figure_shown(obj, "actual")

    @admin.display(description=_("projection to the deadline"), ordering="projection")
    def projection_shown(self, obj):
        return self.figure_shown(obj, "projection")


@admin.register(AlertRule)
class AlertRuleAdmin(HistoryAdmin):
    list_display = (
        "kind",
        "name_zh",
        "enabled",
        "severity",
        "threshold_percent",
        "days",
        "escalate_after_days",
    )
    list_editable = ("enabled", "threshold_percent", "days", "escalate_after_days")
    readonly_fields = ("kind",)

    def has_add_permission(self, request):
        return False  # one rule per kind, created by the migration

    def has_delete_permission(self, request, obj=None):
        return False  # the evaluation expects every kind; a rule is switched off instead


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class SnoozeForm(forms.Form):
    until = forms.DateField(label=_("Snooze until"), widget=AdminDateWidget)
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, ScopedAdminMixin, HistoryAdmin):
    """Alerts change only through their lifecycle services (the same ones as the alert
    centre and the API): the actions ask for what the service needs on an intermediate page
    and are offered to those who may act on alerts; every field is read-only."""

    list_display = ("message_zh", "rule", "severity", "state", "owner", "opened_at")
    list_filter = ("state", "severity", "rule", "owner")
    list_select_related = ("rule", "owner")
    search_fields = ("message_zh", "message_en", "dedup_key")
    actions = ["acknowledge_alerts", "snooze_alerts", "resolve_alerts"]
    no_revert_reason = _(
        "Alerts change through their lifecycle (acknowledge, snooze, resolve); an earlier "
        "version cannot be restored here."
    )

    def has_act_permission(self, request) -> bool:
        return scope_of(request.user).can_act_on_alerts

    @admin.action(description=_("Acknowledge with a comment"), permissions=["act"])
    def acknowledge_alerts(self, request, queryset):
        return self._act(request, queryset, alert_acknowledge, CommentForm, _("Acknowledge"))

    @admin.action(description=_("Snooze until a date"), permissions=["act"])
    def snooze_alerts(self, request, queryset):
        return self._act(request, queryset, alert_snooze, SnoozeForm, _("Snooze"))

    @admin.action(description=_("Resolve"), permissions=["act"])
    def resolve_alerts(self, request, queryset):
        return self._act(request, queryset, alert_resolve, CommentForm, _("Resolve"))

    def _act(self, request, queryset, service, form_class, title):
        alerts = list(queryset.order_by("pk"))
        chosen = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
        beyond = chosen - {str(alert.pk) for alert in alerts}
        if beyond and Alert.objects.filter(pk__in=beyond).exists():
            log_refused(request.user, Alert, {"pk__in": sorted(beyond)})
        if not alerts:
            self.message_user(request, _("None of the chosen alerts is yours to act on."))
            return None
        form = form_class(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                self._apply(request, alerts, service, form.cleaned_data)
            except ValidationError as invalid:
                form.add_error(None, invalid)
            else:
                self.message_user(
                    request,
                    ngettext("%(count)d alert updated.", "%(count)d alerts updated.", len(alerts))
                    % {"count": len(alerts)},
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "alerts": alerts,
            "form": form,
            "media": self.media + form.media,
            "action": request.POST.get("action"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/targets/alert/act.html", context)

    @transaction.atomic
    def _apply(self, request, alerts, service, data) -> None:
        """All chosen alerts or none: the first the service refuses stops the action."""
        for alert in alerts:
            try:
                service(actor=request.user, alert_id=alert.pk, **data)
            except ValidationError as invalid:
                if hasattr(invalid, "error_dict"):
                    raise  # about what was typed: shown at the field
                raise ValidationError(
                    [
                        _("%(alert)s: %(error)s") % {"alert": alert, "error": message}
                        for message in invalid.messages
                    ]
                ) from invalid


class AssessmentForm(forms.ModelForm):
    """A steward's assessment of a qualitative target. What it needs (a status, a summary,
    evidence, a date up to today) is the assessment service's rule, checked in `clean`."""

    class Meta:
        model = Assessment
        fields = ("target", "assessed_on", "status", "summary", "evidence")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "target" not in self.fields:
            return  # the view-only page: every field is read-only
        self.fields["target"].queryset = Target.objects.filter(
            metric__kind=Metric.Kind.QUALITATIVE
        ).select_related("plan", "metric")
        for name in ("status", "summary", "evidence"):
            self.fields[name].required = False

    def clean(self):
        data = super().clean()
        if "target" not in self.errors:
            assessment_check(
                target=data.get("target"),
                assessed_on=data.get("assessed_on"),
                status=data.get("status") or "",
                summary=data.get("summary") or "",
                evidence=data.get("evidence") or "",
            )
        return data


@admin.register(Assessment)
class AssessmentAdmin(KeptAsMadeMixin, HistoryAdmin):
    """Assessments of qualitative targets: a city steward adds them through the assessment
    service; each is kept as made (a later assessment supersedes it from its date), so none
    is changed or deleted here."""

    form = AssessmentForm
    list_display = ("target", "assessed_on", "status", "assessed_by")
    list_filter = ("status", "target__plan")
    list_select_related = ("target", "assessed_by")
    search_fields = ("target__key", "target__name_zh", "summary", "evidence")
    date_hierarchy = "assessed_on"
    no_revert_reason = _("An assessment is kept as made; record a new one to change the finding.")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and may_assess(request.user)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        recorded = assessment_record(
            actor=request.user,
            target=data["target"],
            assessed_on=data["assessed_on"],
            status=data["status"],
            summary=data["summary"],
            evidence=data["evidence"],
        )
        # The admin logs and links the object it was given: the one the service saved.
        obj.pk, obj.assessed_by = recorded.pk, recorded.assessed_by


class EvaluationNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note (kept in the history)"), widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(EvaluatedPlan)
class EvaluatedPlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The plans' final evaluations: read here, closed by a city steward with the action,
    through the evaluation service (the same as the evaluation page and the API). Plans
    themselves are loaded from plan files and corrected on their own admin page."""

    list_display = ("name_zh", "cluster", "starts_on", "ends_on", "phase_today", "state")
    list_filter = ("cluster",)
    list_select_related = ("cluster", "evaluation__closed_by")
    search_fields = ("key", "name_zh", "name_en")
    actions = ["close_evaluations"]
    fields = ("name_zh", "cluster", "starts_on", "ends_on", "phase_today", "state", "lines")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return scope_of(request.user).is_city and super().has_view_permission(request, obj)

    def history_view(self, request, object_id, extra_context=None):
        """A plan's history is its own admin's (scoped, with its rules): led there."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return redirect("admin:cluster_plan_history", object_id)

    def has_close_permission(self, request) -> bool:
        return may_change_rules(request.user)

    @admin.display(description=_("phase today"))
    def phase_today(self, obj):
        return PlanPhase(obj.phase_on(clock.today())).label

    @admin.display(description=_("final evaluation"))
    def state(self, obj):
        record = getattr(obj, "evaluation", None)
        if record is None or not record.is_closed:
            return pgettext_lazy("evaluation", "open")
        return _("closed on %(when)s by %(who)s") % {
            "when": formats.date_format(timezone.localtime(record.closed_at), "DATETIME_FORMAT"),
            "who": record.closed_by,
        }

    @admin.display(description=_("lines"))
    def lines(self, obj):
        return format_html_join(
            "",
            "<p>{}: {} / {} · {}</p>",
            (
                (line.target.name, line.shown_value, line.target.display_goal(), line.result)
                for line in evaluation_of(obj).lines
            ),
        )

    @admin.action(description=_("Close the final evaluation"), permissions=["close"])
    def close_evaluations(self, request, queryset):
        plans = list(queryset.order_by("pk"))
        form = EvaluationNoteForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    for plan in plans:
                        evaluation_close(
                            actor=request.user,
                            plan=plan,
                            note=form.cleaned_data["note"],
                            today=clock.today(),
                        )
            except ValidationError as invalid:
                form.add_error(
                    None,
                    [
                        _("%(plan)s: %(error)s") % {"plan": plan, "error": message}
                        for message in invalid.messages
                    ],
                )
            else:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d final evaluation closed.",
                        "%(count)d final evaluations closed.",
                        len(plans),
                    )
                    % {"count": len(plans)},
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Close the final evaluation"),
            "opts": self.opts,
            "plans": plans,
            "form": form,
            "action": request.POST.get("action"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/targets/evaluatedplan/close.html", context)


class ReleaseForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ("cluster", "year", "quarter", "vintage", "title", "note")
        help_texts = {
            "vintage": _(
                "Empty: the newest approved figures. Kept as the data version shown then."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A release is read, never changed: its view page has no fields to fill.
        for optional in ("vintage", "title"):
            if optional in self.fields:
                self.fields[optional].required = False

    def clean(self):
        data = super().clean()
        if data.get("cluster") and data.get("year") and data.get("quarter"):
            data["vintage"] = release_check(
                cluster=data["cluster"],
                quarter=Quarter(data["year"], data["quarter"]),
                vintage=data.get("vintage"),
                today=clock.today(),
            )
        return data

    def _post_clean(self):
        """The release is built by its service when saved; the model's own checks would run
        on a half-filled instance (no author yet)."""


@admin.register(Release)
class ReleaseAdmin(KeptAsMadeMixin, HistoryAdmin):
    """Official releases: everyone reads them; a city steward makes one here or on the brief
    page, through the release service. A release is kept as made (its briefs went out)."""

    form = ReleaseForm
    list_display = ("__str__", "cluster", "period_label", "vintage", "made_by", "made_at")
    list_filter = ("cluster", "year")
    list_select_related = ("cluster", "made_by")
    search_fields = ("title", "note")
    no_revert_reason = _("A release is kept as made; make a new release instead.")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and may_release(request.user)

    @admin.display(description=_("quarter"))
    def period_label(self, obj):
        return obj.period.label()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        made = release_make(
            actor=request.user,
            cluster=data["cluster"],
            quarter=Quarter(data["year"], data["quarter"]),
            vintage=data.get("vintage"),
            title=data.get("title") or "",
            note=data.get("note") or "",
            today=clock.today(),
            now=clock.now(),
        )
        # The admin logs and links the release the service made, by its name and period.
        obj.pk = made.pk
        obj.refresh_from_db()


@admin.register(BriefSubscription)
class BriefSubscriptionAdmin(HistoryAdmin):
    """Subscriptions to the quarterly brief, managed by a city steward."""

    list_display = ("cluster", "user", "group", "language", "attach_pdf", "attach_xlsx", "active")
    list_filter = ("cluster", "active", "language")
    list_select_related = ("cluster", "user", "group")
    fields = ("cluster", "user", "group", "language", "attach_pdf", "attach_xlsx", "active")
    autocomplete_fields = ()

    def has_module_permission(self, request):
        return may_release(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return may_release(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return may_release(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return may_release(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return may_release(request.user) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        saved = subscription_save(actor=request.user, subscription=obj, now=clock.now())
        obj.pk = saved.pk


@admin.register(BriefDelivery)
class BriefDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was sent which brief, when, and what went wrong: read here, written by the task."""

    list_display = ("release", "recipient", "scope_name", "language", "status", "attempts")
    list_display += ("sent_at", "error")
    list_filter = ("status", "release__cluster")
    list_select_related = ("release__cluster", "recipient", "district")
    search_fields = ("recipient__username", "recipient__email", "release__title")
    readonly_fields = (
        "release",
        "recipient",
        "district",
        "language",
        "status",
        "attempts",
        "claimed_at",
        "sent_at",
        "error",
    )

    def has_view_permission(self, request, obj=None):
        return may_release(request.user) and super().has_view_permission(request, obj)

    @admin.display(description=_("scope"))
    def scope_name(self, obj):
        return obj.scope_name

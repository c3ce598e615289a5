from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cluster.formatting import yuan_as_yi

from .models import Alert, AlertRule, Metric, ProgressSnapshot, Target, TargetMilestone
from .services.rules import (
    may_change_rules,
    metric_save,
    milestones_set_by_hand,
    rule_change_reason,
    target_save,
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


class RuleAdmin(SimpleHistoryAdmin):
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


@admin.register(ProgressSnapshot)
class ProgressSnapshotAdmin(admin.ModelAdmin):
    """Computed by the progress job; read-only."""

    list_display = (
        "target",
        "scope_key",
        "year",
        "quarter",
        "basis",
        "vintage",
        "rule_version",
        "actual",
        "projection",
        "status",
    )
    list_filter = ("target", "scope_kind", "basis", "rule_version", "status", "year", "quarter")
    list_select_related = ("target",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AlertRule)
class AlertRuleAdmin(SimpleHistoryAdmin):
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


@admin.register(Alert)
class AlertAdmin(SimpleHistoryAdmin):
    list_display = ("message_zh", "rule", "severity", "state", "owner", "opened_at")
    list_filter = ("state", "severity", "rule", "owner")
    list_select_related = ("rule", "owner")
    search_fields = ("message_zh", "message_en", "dedup_key")
    readonly_fields = (
        "rule",
        "severity",
        "owner",
        "target",
        "enterprise",
        "designation",
        "district",
        "dedup_key",
        "numbers",
        "message_zh",
        "message_en",
        "opened_at",
        "last_seen_at",
        "escalated_at",
        "acknowledged_at",
        "acknowledged_by",
        "resolved_at",
        "resolved_by",
        "resolved_automatically",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def has_add_permission(self, request):
        return False

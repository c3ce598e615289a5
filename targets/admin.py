from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cluster.formatting import yuan_as_yi

from .models import Alert, AlertRule, Metric, ProgressSnapshot, Target, TargetMilestone


@admin.register(Metric)
class MetricAdmin(SimpleHistoryAdmin):
    list_display = (
        "key",
        "name_zh",
        "kind",
        "figure",
        "threshold_display",
        "designation_type",
        "count_mode",
    )
    list_filter = ("kind", "count_mode")
    search_fields = ("key", "name_zh", "name_en")

    @admin.display(description=_("threshold (yuan)"), ordering="threshold")
    def threshold_display(self, obj):
        return yuan_as_yi(obj.threshold, places=0) if obj.threshold is not None else ""


class MilestoneInline(admin.TabularInline):
    model = TargetMilestone
    extra = 0
    fields = ("due_on", "expected_value", "interpolated")


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = (
        "key",
        "name_zh",
        "metric",
        "comparison",
        "target_display",
        "deadline",
        "district",
        "sector",
    )
    list_filter = ("unit", "district")
    list_select_related = ("metric", "district", "sector")
    search_fields = ("key", "name_zh", "name_en")
    inlines = [MilestoneInline]

    @admin.display(description=_("target value"), ordering="target_value")
    def target_display(self, obj):
        return obj.display_value(obj.target_value, places=0)

    def save_formset(self, request, form, formset, change):
        # A milestone the steward sets is no longer the interpolated default.
        for milestone in formset.save(commit=False):
            milestone.interpolated = False
            milestone.save()
        for milestone in formset.deleted_objects:
            milestone.delete()


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
        "actual",
        "projection",
        "status",
    )
    list_filter = ("target", "scope_kind", "basis", "status", "year", "quarter")
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

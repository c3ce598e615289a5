from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from cluster.formatting import yuan_as_yi

from .models import Metric, Target


@admin.register(Metric)
class MetricAdmin(SimpleHistoryAdmin):
    list_display = (
        "key",
        "name_zh",
        "kind",
        "figure",
        "threshold",
        "designation_type",
        "count_mode",
    )
    list_filter = ("kind", "count_mode")
    search_fields = ("key", "name_zh", "name_en")

    @admin.display(description=_("target value"), ordering="target_value")
    def target_display(self, obj):
        if obj.unit == Target.Unit.YUAN:
            return yuan_as_yi(obj.target_value, places=0)
        return f"{obj.target_value.normalize():f} {obj.get_unit_display()}"


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

    @admin.display(description=_("target value"), ordering="target_value")
    def target_display(self, obj):
        if obj.unit == Target.Unit.YUAN:
            return yuan_as_yi(obj.target_value, places=0)
        return f"{obj.target_value.normalize():f} {obj.get_unit_display()}"

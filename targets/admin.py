from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

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


@admin.register(Target)
class TargetAdmin(SimpleHistoryAdmin):
    list_display = (
        "key",
        "name_zh",
        "metric",
        "comparison",
        "target_value",
        "unit",
        "deadline",
        "district",
        "sector",
    )
    list_filter = ("unit", "district")
    list_select_related = ("metric", "district", "sector")
    search_fields = ("key", "name_zh", "name_en")

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Cluster, District, Park, Sector


@admin.register(Cluster)
class ClusterAdmin(SimpleHistoryAdmin):
    list_display = ("name_zh", "name_en", "plan_start_year", "plan_end_year", "document_number")
    search_fields = ("name_zh", "name_en", "document_number")


class ParkInline(admin.TabularInline):
    model = Park
    extra = 0


@admin.register(District)
class DistrictAdmin(SimpleHistoryAdmin):
    list_display = ("name_zh", "name_en", "code", "code_system", "kind", "parent", "sort_order")
    list_filter = ("kind", "code_system")
    list_select_related = ("parent",)
    search_fields = ("name_zh", "name_en", "code")
    inlines = [ParkInline]


@admin.register(Park)
class ParkAdmin(SimpleHistoryAdmin):
    list_display = ("name_zh", "name_en", "district")
    list_filter = ("district",)
    list_select_related = ("district",)
    search_fields = ("name_zh", "name_en")


class MaterialInline(admin.TabularInline):
    model = Sector
    fk_name = "parent"
    fields = ("code", "name_zh", "name_en", "sort_order", "source")
    extra = 0
    verbose_name = _("material")
    verbose_name_plural = _("materials")


@admin.register(Sector)
class SectorAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "parent")
    list_filter = ("level", ("parent", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("parent",)
    search_fields = ("code", "name_zh", "name_en")

    def get_inlines(self, request, obj):
        return [MaterialInline] if obj and obj.level == Sector.Level.DIRECTION else []

from django.contrib import admin
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from cluster.admin import HistoryAdmin, ScopedAdminMixin
from cluster.formatting import yuan_as_wan
from cluster.models import Sector

from .choices import DesignationType
from .models import (
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ReportRevision,
    ResearchProject,
)
from .resources import EnterpriseResource
from .services.register import enterprise_save
from .services.reports import EDITABLE, WORKFLOW_FIELDS


class DirectionFilter(admin.SimpleListFilter):
    title = _("focus direction")
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [(str(s.pk), s.name) for s in Sector.objects.directions()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(primary_sector__parent_id=self.value())
        return queryset


class ValidDesignationFilter(admin.SimpleListFilter):
    """Firms holding a designation of the chosen type that is valid today."""

    title = _("designation valid today")
    parameter_name = "valid_designation"

    def lookups(self, request, model_admin):
        return DesignationType.choices

    def queryset(self, request, queryset):
        if self.value():
            valid = Designation.objects.valid_on(timezone.localdate()).filter(
                enterprise=OuterRef("pk"), type=self.value()
            )
            return queryset.filter(Exists(valid))
        return queryset


class ListedFilter(admin.SimpleListFilter):
    title = _("listing")
    parameter_name = "listed"

    def lookups(self, request, model_admin):
        return [("yes", _("listed today")), ("no", _("not listed today"))]

    def queryset(self, request, queryset):
        listed = Exists(
            Listing.objects.listed_on(timezone.localdate()).filter(enterprise=OuterRef("pk"))
        )
        if self.value() == "yes":
            return queryset.filter(listed)
        if self.value() == "no":
            return queryset.exclude(listed)
        return queryset


class DesignationValidityFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [
            ("valid", _("valid today")),
            ("expired", _("expired")),
            ("future", _("not yet valid")),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.valid_on(today)
        if self.value() == "expired":
            return queryset.filter(valid_to__lt=today)
        if self.value() == "future":
            return queryset.filter(valid_from__gt=today)
        return queryset


class DesignationInline(admin.TabularInline):
    model = Designation
    extra = 0
    fields = ("type", "tier", "issuer", "certificate_no", "valid_from", "valid_to")


class ListingInline(admin.TabularInline):
    model = Listing
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class ReportInline(admin.TabularInline):
    """Read-only: figures are entered on the worksheet, corrected on the report's page."""

    model = QuarterlyReport
    extra = 0
    can_delete = False
    fields = (
        "year",
        "quarter",
        "output_value",
        "operating_revenue",
        "rd_spending",
        "employees",
        "status",
        "version",
    )
    readonly_fields = fields
    ordering = ("-year", "-quarter")
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(ScopedAdminMixin, ImportExportModelAdmin, HistoryAdmin):
    resource_classes = [EnterpriseResource]
    list_display = (
        "uscc",
        "name_zh",
        "district",
        "primary_sector",
        "size_class",
        "status",
        "above_designated_size",
        "is_demo",
    )
    list_filter = (
        "district",
        DirectionFilter,
        ("primary_sector", admin.RelatedOnlyFieldListFilter),
        ValidDesignationFilter,
        ListedFilter,
        "status",
        "size_class",
        "above_designated_size",
        "is_demo",
    )
    list_select_related = ("district", "primary_sector")
    search_fields = ("name_zh", "name_en", "=uscc")
    autocomplete_fields = ("sectors",)
    inlines = [DesignationInline, ListingInline, MilestoneInline, ReportInline]
    fieldsets = (
        (None, {"fields": ("uscc", "name_zh", "name_en")}),
        (_("Where"), {"fields": ("district", "park")}),
        (_("What"), {"fields": ("primary_sector", "sectors")}),
        (
            _("Profile"),
            {
                "fields": (
                    "founded_on",
                    "size_class",
                    "above_designated_size",
                    "status",
                    "in_cluster_from",
                    "in_cluster_until",
                    "is_demo",
                )
            },
        ),
    )

    def save_model(self, request, obj, form, change):
        # Through the register's service, as on the pages (a revert too): the district the
        # firm leaves and the one it moves to must both be in the user's scope.
        enterprise_save(actor=request.user, writer=form, district=obj.district)

    def has_import_permission(self, request):
        # An import adds and changes firms: only for those who may do both.
        return self.has_add_permission(request) and self.has_change_permission(request)


@admin.register(Designation)
class DesignationAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ("enterprise", "type", "tier", "issuer", "valid_from", "valid_to")
    list_filter = ("type", "tier", DesignationValidityFilter, "enterprise__district")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name_zh", "=enterprise__uscc", "certificate_no")
    autocomplete_fields = ("enterprise",)
    date_hierarchy = "valid_from"


@admin.register(Listing)
class ListingAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ("enterprise", "venue", "ticker", "listed_on", "delisted_on")
    list_filter = ("venue", "enterprise__district")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name_zh", "=enterprise__uscc", "ticker")
    autocomplete_fields = ("enterprise",)


@admin.register(Milestone)
class MilestoneAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ("enterprise", "kind", "occurred_on", "amount_display")
    list_filter = ("kind", "enterprise__district")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name_zh", "=enterprise__uscc", "note")
    autocomplete_fields = ("enterprise",)
    date_hierarchy = "occurred_on"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return yuan_as_wan(obj.amount) if obj.amount is not None else ""


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(ScopedAdminMixin, HistoryAdmin):
    """Figures of draft and returned reports can be corrected here; the workflow itself
    (submit, approve, return, revise) runs through the reporting pages and their services,
    so that approvals always leave their revision."""

    list_display = (
        "enterprise",
        "period_display",
        "output_display",
        "revenue_display",
        "employees",
        "status",
        "version",
    )
    list_filter = ("year", "quarter", "status", "statistical_scope", "enterprise__district")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name_zh", "=enterprise__uscc")
    autocomplete_fields = ("enterprise",)
    readonly_fields = (*WORKFLOW_FIELDS, "change_reason")
    no_revert_reason = _(
        "Quarterly reports change through their workflow (submit, approve, return); an "
        "earlier version cannot be restored here."
    )

    def _can_edit(self, request, obj=None) -> bool:
        return super()._can_edit(request, obj) and (obj is None or obj.status in EDITABLE)

    def save_model(self, request, obj, form, change):
        if change:
            obj.version += 1
        super().save_model(request, obj, form, change)

    @admin.display(description=_("quarter"), ordering="year")
    def period_display(self, obj):
        return obj.period.label()

    @admin.display(description=_("output value"), ordering="output_value")
    def output_display(self, obj):
        return yuan_as_wan(obj.output_value)

    @admin.display(description=_("operating revenue"), ordering="operating_revenue")
    def revenue_display(self, obj):
        return yuan_as_wan(obj.operating_revenue)


@admin.register(ResearchProject)
class ResearchProjectAdmin(ScopedAdminMixin, HistoryAdmin):
    list_display = ("title", "lead", "district", "level", "is_major", "started_on", "status")
    list_filter = ("level", "is_major", "status", "district")
    list_select_related = ("lead_enterprise", "district")
    search_fields = ("title", "lead_institution", "lead_enterprise__name_zh")
    autocomplete_fields = ("lead_enterprise", "partners")

    @admin.display(description=_("lead"))
    def lead(self, obj):
        return obj.lead_enterprise or obj.lead_institution


@admin.register(ReportRevision)
class ReportRevisionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Approved revisions are append-only: viewable, never edited."""

    list_display = ("report", "revision", "output_display", "approved_at", "approved_by")
    list_filter = ("year", "quarter", "enterprise__district")
    list_select_related = ("report__enterprise", "approved_by")
    search_fields = ("enterprise__name_zh", "=enterprise__uscc")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("output value"), ordering="output_value")
    def output_display(self, obj):
        return yuan_as_wan(obj.output_value)

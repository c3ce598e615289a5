from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin

from cluster.admin import (
    FiguresShownMixin,
    HistoryAdmin,
    ReadOnlyAdminMixin,
    ScopedAdminMixin,
)
from cluster.errors import parse_id
from cluster.formatting import yuan_as_wan
from cluster.models import Cluster, Sector

from .choices import DesignationType, EntryMode, ReportStatus
from .forms import (
    BaseMembershipFormSet,
    MembershipForm,
    RegisterRecordForm,
    ResearchProjectForm,
)
from .models import (
    FIGURES,
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ReportingPolicy,
    ReportRevision,
    ResearchProject,
)
from .resources import EnterpriseResource
from .services.register import (
    enterprise_save,
    project_delete,
    project_save,
    record_delete,
    record_save,
    records_save,
)
from .services.report_entry import ReportConflict, report_save
from .services.reports import WORKFLOW_FIELDS


class ClusterFilter(admin.SimpleListFilter):
    """Firms that are members of a cluster today."""

    title = _("cluster")
    parameter_name = "cluster"

    def lookups(self, request, model_admin):
        return [(str(c.pk), c.name) for c in Cluster.objects.all()]

    def queryset(self, request, queryset):
        if self.value():
            cluster = parse_id(self.value(), self.parameter_name)
            return queryset.member_on(timezone.localdate(), cluster=cluster)
        return queryset


class DirectionFilter(admin.SimpleListFilter):
    """Firms whose membership of a cluster today sits under a focus direction."""

    title = _("focus direction")
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        directions = Sector.objects.directions().select_related("cluster")
        return [(str(s.pk), f"{s.cluster} › {s.name}") for s in directions]

    def queryset(self, request, queryset):
        if self.value():
            direction = parse_id(self.value(), self.parameter_name)
            valid = ClusterMembership.objects.valid_on(timezone.localdate()).filter(
                enterprise=OuterRef("pk"), sector__parent_id=direction
            )
            return queryset.filter(Exists(valid))
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


class MembershipInline(admin.TabularInline):
    model = ClusterMembership
    form = MembershipForm
    formset = BaseMembershipFormSet
    extra = 0
    fields = ("cluster", "sector", "further_sectors", "joined_on", "left_on")


class DesignationInline(admin.TabularInline):
    model = Designation
    form = RegisterRecordForm
    extra = 0
    fields = ("type", "tier", "issuer", "certificate_no", "valid_from", "valid_to")


class ListingInline(admin.TabularInline):
    model = Listing
    form = RegisterRecordForm
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = Milestone
    form = RegisterRecordForm
    extra = 0


# The inlines whose rows are a firm's records, saved through the register's services.
RECORD_INLINE_MODELS = (ClusterMembership, Designation, Listing, Milestone)


class RecordAdminMixin:
    """The admin of a firm's records: its form checks what the services check, and saving or
    deleting (one object, or a selection) goes through the services."""

    form = RegisterRecordForm

    def save_model(self, request, obj, form, change):
        record_save(actor=request.user, record=obj)

    def delete_model(self, request, obj):
        record_delete(actor=request.user, record=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for record in queryset:
            record_delete(actor=request.user, record=record)


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
        "size_class",
        "status",
        "above_designated_size",
        "is_demo",
    )
    list_filter = (
        "district",
        ClusterFilter,
        DirectionFilter,
        ValidDesignationFilter,
        ListedFilter,
        "status",
        "size_class",
        "above_designated_size",
        "is_demo",
    )
    list_select_related = ("district",)
    search_fields = ("name_zh", "name_en", "=uscc")
    inlines = [MembershipInline, DesignationInline, ListingInline, MilestoneInline, ReportInline]
    fieldsets = (
        (None, {"fields": ("uscc", "name_zh", "name_en")}),
        (_("Where"), {"fields": ("district", "park")}),
        (
            _("Profile"),
            {
                "fields": (
                    "founded_on",
                    "size_class",
                    "above_designated_size",
                    "status",
                    "is_demo",
                )
            },
        ),
    )

    def save_formset(self, request, form, formset, change):
        if formset.model in RECORD_INLINE_MODELS:
            records_save(actor=request.user, formset=formset)
        else:
            super().save_formset(request, form, formset, change)

    def save_model(self, request, obj, form, change):
        # Through the register's service, as on the pages (a revert too): the district the
        # firm leaves and the one it moves to must both be in the user's scope.
        enterprise_save(actor=request.user, writer=form, district=obj.district)

    def has_import_permission(self, request):
        # An import adds and changes firms: only for those who may do both.
        return self.has_add_permission(request) and self.has_change_permission(request)


@admin.register(ClusterMembership)
class ClusterMembershipAdmin(RecordAdminMixin, ScopedAdminMixin, HistoryAdmin):
    form = MembershipForm
    list_display = ("enterprise", "cluster", "sector", "joined_on", "left_on")
    list_filter = ("cluster", "enterprise__district")
    list_select_related = ("enterprise", "cluster", "sector")
    search_fields = ("enterprise__name_zh", "=enterprise__uscc")
    autocomplete_fields = ("enterprise",)
    fields = ("enterprise", "cluster", "sector", "further_sectors", "joined_on", "left_on")

    def save_model(self, request, obj, form, change):
        record_save(
            actor=request.user,
            record=obj,
            further_sectors=form.cleaned_data.get("further_sectors"),
        )

    def save_related(self, request, form, formsets, change):
        """Nothing left to save: record_save has set the further sectors."""


@admin.register(Designation)
class DesignationAdmin(RecordAdminMixin, ScopedAdminMixin, HistoryAdmin):
    list_display = ("enterprise", "type", "tier", "issuer", "valid_from", "valid_to")
    list_filter = ("type", "tier", DesignationValidityFilter, "enterprise__district")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name_zh", "=enterprise__uscc", "certificate_no")
    autocomplete_fields = ("enterprise",)
    date_hierarchy = "valid_from"


@admin.register(Listing)
class ListingAdmin(RecordAdminMixin, ScopedAdminMixin, HistoryAdmin):
    list_display = ("enterprise", "venue", "ticker", "listed_on", "delisted_on")
    list_filter = ("venue", "enterprise__district")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name_zh", "=enterprise__uscc", "ticker")
    autocomplete_fields = ("enterprise",)


@admin.register(Milestone)
class MilestoneAdmin(RecordAdminMixin, FiguresShownMixin, ScopedAdminMixin, HistoryAdmin):
    figure_fields = ("amount",)
    list_display = ("enterprise", "kind", "occurred_on", "amount_display")
    list_filter = ("kind", "enterprise__district")
    list_select_related = ("enterprise",)
    search_fields = ("enterprise__name_zh", "=enterprise__uscc", "note")
    autocomplete_fields = ("enterprise",)
    date_hierarchy = "occurred_on"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj):
        return yuan_as_wan(obj.amount) if obj.amount is not None else ""


# The workflow's fields, shown read-only (the version travels as the form's hidden field).
WORKFLOW_SHOWN = tuple(name for name in WORKFLOW_FIELDS if name != "version")


class QuarterlyReportAdminForm(forms.ModelForm):
    """The admin's door to report figures: the figures as written (in yuan) go through the
    report pipeline like every other door's, with the version the form was loaded with.

    The admin's change view runs in one transaction; the form saves through the pipeline while
    it validates, so that the pipeline's errors land on the form's fields and nothing but the
    pipeline writes a report."""

    period = forms.CharField(label=_("quarter"), max_length=40, help_text=_("e.g. 2025Q3"))
    mode = forms.ChoiceField(
        label=_("values are"), choices=EntryMode.choices, initial=EntryMode.QUARTERLY
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = QuarterlyReport
        fields = ["enterprise", "anomaly_note", "change_reason"]

    request = None  # set by QuarterlyReportAdmin.get_form: the user whose figures these are

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The figures as written (text), for the pipeline to parse; a user who may only view
        # the report has them read-only, outside the form.
        for figure in FIGURES:
            if figure not in self.fields:
                continue
            self.fields[figure] = forms.CharField(
                label=QuarterlyReport._meta.get_field(figure).verbose_name,
                required=False,
                max_length=60,
            )
            value = getattr(self.instance, figure)
            if value is not None:
                self.initial[figure] = value
        self.order_fields(["enterprise", "period", "mode", *FIGURES])
        if self.instance.pk:
            for name in ("enterprise", "period"):
                if name in self.fields:
                    self.fields[name].disabled = True
            self.initial["period"] = str(self.instance.period)
            self.initial["version"] = self.instance.version

    def _post_clean(self):
        """Instead of the model's own validation: the pipeline, which also writes."""
        if self.errors:
            return
        data = self.cleaned_data
        try:
            self.instance = report_save(
                actor=self.request.user,
                enterprise=data["enterprise"],
                quarter=self.instance.period if self.instance.pk else None,
                period=None if self.instance.pk else data["period"],
                values={figure: data[figure] for figure in FIGURES},
                version=data.get("version"),
                mode=data["mode"],
                anomaly_note=data.get("anomaly_note") or "",
                change_reason=data.get("change_reason") or "",
                source="admin",
            )
        except ReportConflict as conflict:
            if self.instance.pk:
                self.add_error(None, str(conflict))
            else:
                self.add_error(None, _("This firm already has a report for this quarter."))
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)


@admin.register(QuarterlyReport)
class QuarterlyReportAdmin(FiguresShownMixin, ScopedAdminMixin, HistoryAdmin):
    """Figures are entered and corrected through the report pipeline (the form above), like
    on the worksheet; the workflow itself (submit, approve, return) runs through the reporting
    pages and their services, so that approvals always leave their revision."""

    form = QuarterlyReportAdminForm
    figure_fields = ("output_value", "operating_revenue", "rd_spending")
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
    readonly_fields = WORKFLOW_SHOWN
    fieldsets = (
        (None, {"fields": ("enterprise", "period", "mode", "version")}),
        (_("Figures (yuan and units)"), {"fields": FIGURES}),
        (_("Notes"), {"fields": ("anomaly_note", "change_reason")}),
        (_("Workflow"), {"fields": WORKFLOW_SHOWN}),
    )
    no_revert_reason = _(
        "Quarterly reports change through their workflow (submit, approve, return); an "
        "earlier version cannot be restored here."
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"request": request})

    def has_delete_permission(self, request, obj=None):
        # A report past draft is part of the record (submitted, approved, revised): its
        # workflow changes it, nobody deletes it.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status in ReportStatus.editable())

    def save_model(self, request, obj, form, change):
        """Saved by the form through the report pipeline."""

    def save_related(self, request, form, formsets, change):
        """A report has no related rows of its own to save here."""

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
class ResearchProjectAdmin(FiguresShownMixin, ScopedAdminMixin, HistoryAdmin):
    """Saving and deleting go through the services, which check the project's district
    and every firm it names against the user's scope."""

    figure_fields = ("funding",)

    form = ResearchProjectForm
    list_display = ("title", "lead", "district", "level", "is_major", "started_on", "status")
    list_filter = ("clusters", "level", "is_major", "status", "district")
    list_select_related = ("lead_enterprise", "district")
    search_fields = ("title", "lead_institution", "lead_enterprise__name_zh")
    autocomplete_fields = ("lead_enterprise", "partners")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "partners":
            kwargs["queryset"] = Enterprise.objects.visible_to(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        project_save(
            actor=request.user,
            project=obj,
            partners=form.cleaned_data["partners"],
            clusters=form.cleaned_data["clusters"],
        )

    def save_related(self, request, form, formsets, change):
        """Nothing left to save: project_save has set the partners and the clusters (and the
        project has no inlines)."""

    def delete_model(self, request, obj):
        project_delete(actor=request.user, project=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        for project in queryset:
            project_delete(actor=request.user, project=project)

    @admin.display(description=_("lead"))
    def lead(self, obj):
        return obj.lead_enterprise or obj.lead_institution


@admin.register(ReportRevision)
class ReportRevisionAdmin(
    ReadOnlyAdminMixin, FiguresShownMixin, ScopedAdminMixin, admin.ModelAdmin
):
    """Approved revisions are append-only: viewable, never edited."""

    figure_fields = ("output_value", "operating_revenue", "rd_spending")

    list_display = ("report", "revision", "output_display", "approved_at", "approved_by")
    list_filter = ("year", "quarter", "enterprise__district")
    list_select_related = ("report__enterprise", "approved_by")
    search_fields = ("enterprise__name_zh", "=enterprise__uscc")

    @admin.display(description=_("output value"), ordering="output_value")
    def output_display(self, obj):
        return yuan_as_wan(obj.output_value)


@admin.register(ReportingPolicy)
class ReportingPolicyAdmin(HistoryAdmin):
    """The one row of the steward's reporting rules (enterprises.periods applies them)."""

    list_display = ("__str__", "first_year", "current_quarter_drafts")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

"""REST API of the register: enterprises (with designations, listings, milestones),
quarterly reports with their workflow and bulk submission, research projects.

Writes go through the same services as the pages and the import; every queryset is scoped
to the user's districts (another district's object answers 404).
"""

from __future__ import annotations

import tablib
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cluster.api import ERRORS, ErrorSerializer, FilterSet, IntegerFilter, conflict_response
from cluster.models import District
from cluster.quarters import Quarter

from .choices import DesignationType
from .imports import REPORT_COLUMNS, reports_import
from .models import (
    FIGURES,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ResearchProject,
)
from .services.register import enterprise_save
from .services.reports import (
    EntryMode,
    ReportConflict,
    Unit,
    report_save,
    reports_approve,
    reports_return,
    reports_submit,
)

# --- serializers ------------------------------------------------------------------------------


class DesignationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Designation
        fields = ["id", "type", "tier", "issuer", "certificate_no", "valid_from", "valid_to"]


class ListingSerializer(serializers.ModelSerializer):
    is_listing = serializers.BooleanField(read_only=True, help_text="False for a NEEQ quotation.")

    class Meta:
        model = Listing
        fields = ["id", "venue", "ticker", "listed_on", "delisted_on", "is_listing"]


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "kind", "occurred_on", "amount", "note"]


class EnterpriseSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(
        slug_field="code",
        queryset=District.objects.exclude(code=None),
        help_text="GB/T 2260 (or statistical) code of the district.",
    )
    designations = DesignationSerializer(many=True, read_only=True)
    listings = ListingSerializer(many=True, read_only=True)
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "uscc",
            "name_zh",
            "name_en",
            "district",
            "park",
            "primary_sector",
            "sectors",
            "founded_on",
            "size_class",
            "status",
            "in_cluster_from",
            "in_cluster_until",
            "above_designated_size",
            "is_demo",
            "designations",
            "listings",
            "milestones",
        ]
        read_only_fields = ["is_demo"]

    def validate(self, attrs):
        instance = Enterprise(**{k: v for k, v in attrs.items() if k != "sectors"})
        if self.instance:
            for field in Enterprise._meta.concrete_fields:
                if field.name not in attrs:
                    setattr(instance, field.attname, getattr(self.instance, field.attname))
            instance.pk = self.instance.pk
        instance.clean()
        return attrs


class ReportSerializer(serializers.ModelSerializer):
    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.all())
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    period = serializers.CharField(
        help_text="The quarter, e.g. 2025Q3.", max_length=6, min_length=6
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Required on update: the version you read. A newer one answers 409.",
    )

    class Meta:
        model = QuarterlyReport
        fields = [
            "id",
            "enterprise",
            "uscc",
            "period",
            *FIGURES,
            "statistical_scope",
            "status",
            "version",
            "revision",
            "return_reason",
            "change_reason",
            "anomaly_note",
            "submitted_at",
            "approved_at",
            "returned_at",
            "updated_at",
        ]
        read_only_fields = [
            "statistical_scope",
            "status",
            "revision",
            "return_reason",
            "submitted_at",
            "approved_at",
            "returned_at",
            "updated_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["enterprise"].queryset = Enterprise.objects.visible_to(request.user)
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["period"] = str(instance.period)
        return data

    def validate_period(self, value):
        try:
            return Quarter.parse(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class ResearchProjectSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = ResearchProject
        fields = [
            "id",
            "title",
            "lead_enterprise",
            "lead_institution",
            "partners",
            "partner_institutions",
            "district",
            "level",
            "is_major",
            "funding",
            "started_on",
            "ends_on",
            "status",
        ]


class BulkRowSerializer(serializers.Serializer):
    uscc = serializers.CharField()
    period = serializers.CharField()
    output_value = serializers.DecimalField(
        max_digits=20, decimal_places=2, required=False, allow_null=True
    )
    operating_revenue = serializers.DecimalField(
        max_digits=20, decimal_places=2, required=False, allow_null=True
    )
    rd_spending = serializers.DecimalField(
        max_digits=20, decimal_places=2, required=False, allow_null=True
    )
    employees = serializers.IntegerField(required=False, allow_null=True)
    invention_patents = serializers.IntegerField(required=False, allow_null=True)
    high_value_patents = serializers.IntegerField(required=False, allow_null=True)


class BulkSerializer(serializers.Serializer):
    unit = serializers.ChoiceField(choices=Unit.choices, default=Unit.YUAN)
    mode = serializers.ChoiceField(choices=EntryMode.choices, default=EntryMode.QUARTERLY)
    submit = serializers.BooleanField(
        default=False, help_text="Submit the rows for review after saving them."
    )
    rows = BulkRowSerializer(many=True, allow_empty=False)

    def validate_rows(self, rows):
        if len(rows) > settings.IMPORT_MAX_ROWS:
            raise serializers.ValidationError(
                _("Send no more than %(limit)d rows per call; this one has %(count)d.")
                % {"limit": settings.IMPORT_MAX_ROWS, "count": len(rows)}
            )
        return rows


# --- filters ----------------------------------------------------------------------------------


class EnterpriseFilterSet(FilterSet):
    q = filters.CharFilter(method="search", label="name contains, or exact USCC")
    district = filters.CharFilter(field_name="district__code", label="district code")
    district_id = IntegerFilter(field_name="district_id")
    sector = filters.CharFilter(method="in_sector", label="sector code (direction or material)")
    designation = filters.ChoiceFilter(
        choices=DesignationType.choices, method="holding", label="holds a valid designation"
    )
    designation_valid_on = filters.DateFilter(
        method="read_elsewhere", label="date for designation (default today)"
    )
    listed = filters.BooleanFilter(method="is_listed", label="listed today")

    class Meta:
        model = Enterprise
        fields = ["status", "size_class", "above_designated_size", "is_demo"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name_zh__icontains=value) | Q(name_en__icontains=value) | Q(uscc=value.upper())
        )

    def in_sector(self, queryset, name, value):
        return queryset.filter(
            Q(primary_sector__code=value) | Q(primary_sector__parent__code=value)
        )

    def holding(self, queryset, name, value):
        day = self.form.cleaned_data.get("designation_valid_on") or timezone.localdate()
        valid = Designation.objects.valid_on(day).filter(enterprise=OuterRef("pk"), type=value)
        return queryset.filter(Exists(valid))

    def is_listed(self, queryset, name, value):
        listed = Exists(
            Listing.objects.listed_on(timezone.localdate()).filter(enterprise=OuterRef("pk"))
        )
        return queryset.filter(listed) if value else queryset.exclude(listed)


class ReportFilterSet(FilterSet):
    q = filters.CharFilter(method="search", label="firm name contains, or exact USCC")
    district = filters.CharFilter(field_name="enterprise__district__code", label="district code")
    enterprise = IntegerFilter(field_name="enterprise_id")
    period = filters.CharFilter(method="in_period", label="quarter, e.g. 2025Q3")

    class Meta:
        model = QuarterlyReport
        fields = ["status", "year", "quarter"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(enterprise__name_zh__icontains=value) | Q(enterprise__uscc=value.upper())
        )

    def in_period(self, queryset, name, value):
        try:
            return queryset.for_quarter(Quarter.parse(value))
        except ValueError:
            return queryset.none()


class ProjectFilterSet(FilterSet):
    district = filters.CharFilter(field_name="district__code")
    started_since = filters.DateFilter(field_name="started_on", lookup_expr="gte")

    class Meta:
        model = ResearchProject
        fields = ["level", "is_major", "status"]


# --- views ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Enterprises / 企业列表", responses={200: EnterpriseSerializer(many=True), **ERRORS}
    ),
    retrieve=extend_schema(
        summary="One enterprise with designations, listings, milestones",
        responses={200: EnterpriseSerializer, **ERRORS},
    ),
    create=extend_schema(
        summary="Register an enterprise / 登记企业", responses={201: EnterpriseSerializer, **ERRORS}
    ),
    update=extend_schema(responses={200: EnterpriseSerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: EnterpriseSerializer, **ERRORS}),
)
class EnterpriseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilterSet
    ordering_fields = ["name_zh", "uscc", "founded_on"]
    ordering = ["name_zh"]

    def get_queryset(self):
        return (
            Enterprise.objects.visible_to(self.request.user)
            .select_related("district")
            .prefetch_related(
                "sectors",
                Prefetch("designations", Designation.objects.order_by("-valid_from")),
                Prefetch("listings", Listing.objects.order_by("-listed_on")),
                Prefetch("milestones", Milestone.objects.order_by("-occurred_on")),
            )
            .order_by("name_zh", "pk")
        )

    def perform_create(self, serializer):
        enterprise_save(
            actor=self.request.user,
            writer=serializer,
            district=serializer.validated_data["district"],
        )

    def perform_update(self, serializer):
        enterprise_save(
            actor=self.request.user,
            writer=serializer,
            district=serializer.validated_data.get("district", serializer.instance.district),
        )


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


REASON = ReasonSerializer
REPORT_CONFLICT = inline_serializer(
    "Conflict",
    {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": serializers.DictField(),
        "current": ReportSerializer(),
    },
)


@extend_schema_view(
    list=extend_schema(
        summary="Quarterly reports / 季度报表",
        responses={200: ReportSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(responses={200: ReportSerializer, **ERRORS}),
    create=extend_schema(
        summary="Enter a report (draft) / 填报",
        responses={201: ReportSerializer, 409: REPORT_CONFLICT, **ERRORS},
    ),
    update=extend_schema(
        summary="Change a report; send the version you read",
        responses={200: ReportSerializer, 409: REPORT_CONFLICT, **ERRORS},
    ),
    partial_update=extend_schema(responses={200: ReportSerializer, 409: REPORT_CONFLICT, **ERRORS}),
)
class ReportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReportSerializer
    filterset_class = ReportFilterSet
    ordering_fields = ["year", "quarter", "updated_at"]

    def get_queryset(self):
        return (
            QuarterlyReport.objects.visible_to(self.request.user)
            .select_related("enterprise")
            .order_by("-year", "-quarter", "enterprise__name_zh", "pk")
        )

    def _save(self, request, instance=None, partial=False):
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        enterprise = data.get("enterprise", instance.enterprise if instance else None)
        quarter = data.get("period", instance.period if instance else None)
        if instance is not None and "version" not in data:
            raise serializers.ValidationError({"version": _("Send the version you read.")})
        figures = {f: data.get(f, getattr(instance, f) if instance else None) for f in FIGURES}
        try:
            report = report_save(
                actor=request.user,
                enterprise=enterprise,
                quarter=quarter,
                figures=figures,
                version=data.get("version") if instance else None,
                anomaly_note=data.get("anomaly_note", ""),
                change_reason=data.get("change_reason", ""),
            )
        except ReportConflict as conflict:
            return conflict_response(ReportSerializer(conflict.current).data, str(conflict))
        return Response(
            ReportSerializer(report).data,
            status=status.HTTP_200_OK if instance else status.HTTP_201_CREATED,
        )

    def create(self, request, *args, **kwargs):
        return self._save(request)

    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object(), partial=kwargs.get("partial", False))

    @extend_schema(
        summary="Submit this report for review / 报送",
        request=None,
        responses={200: ReportSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        report = self.get_object()
        reports_submit(
            actor=request.user,
            district=report.enterprise.district,
            quarter=report.period,
            enterprise_ids=[report.enterprise_id],
        )
        report.refresh_from_db()
        return Response(ReportSerializer(report).data)

    @extend_schema(
        summary="Approve (stewards) / 审核通过",
        request=None,
        responses={200: ReportSerializer, **ERRORS, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        report = self.get_object()
        reports_approve(actor=request.user, report_ids=[report.pk])
        report.refresh_from_db()
        return Response(ReportSerializer(report).data)

    @extend_schema(
        summary="Return with a reason (stewards) / 退回",
        request=REASON,
        responses={200: ReportSerializer, **ERRORS, 409: ErrorSerializer},
    )
    @action(detail=True, methods=["post"], url_path="return")
    def send_back(self, request, pk=None):
        report = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reports_return(
            actor=request.user, report_ids=[report.pk], reason=body.validated_data["reason"]
        )
        report.refresh_from_db()
        return Response(ReportSerializer(report).data)

    @extend_schema(
        summary="Bulk entry (and submission) of many rows, all or nothing / 批量报送",
        request=BulkSerializer,
        responses={
            200: inline_serializer(
                "BulkResult",
                {
                    "new": serializers.IntegerField(),
                    "changed": serializers.IntegerField(),
                    "unchanged": serializers.IntegerField(),
                    "submitted": serializers.IntegerField(),
                },
            ),
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """The rows are checked as a whole by the import's service: any error, nothing is
        written, and the errors come back per row. Sending the same rows again changes
        nothing."""
        payload = BulkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        dataset = tablib.Dataset(headers=list(REPORT_COLUMNS))
        for row in data["rows"]:
            dataset.append([row.get(key) for key in REPORT_COLUMNS])
        outcome = reports_import(
            actor=request.user,
            dataset=dataset,
            unit=data["unit"],
            mode=data["mode"],
            dry_run=False,
        )
        if outcome.errors:
            errors = {}
            for error in outcome.errors:
                errors.setdefault(f"rows[{error.line - 2}]", {}).setdefault(
                    error.column, []
                ).append(error.reason)
            return Response(
                {
                    "code": "invalid",
                    "message": _("The file has errors; nothing was imported."),
                    "errors": errors,
                },
                status=400,
            )
        submitted = 0
        if data["submit"]:
            groups: dict[tuple, list[int]] = {}
            for row in outcome.rows:
                groups.setdefault((row.enterprise.district, row.quarter), []).append(
                    row.enterprise.pk
                )
            for (district, quarter), ids in groups.items():
                submitted += reports_submit(
                    actor=request.user, district=district, quarter=quarter, enterprise_ids=ids
                )
        return Response({**outcome.totals, "submitted": submitted})


@extend_schema_view(
    list=extend_schema(
        summary="Research projects / 科研项目",
        responses={200: ResearchProjectSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(responses={200: ResearchProjectSerializer, **ERRORS}),
)
class ResearchProjectViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ResearchProjectSerializer
    filterset_class = ProjectFilterSet
    ordering_fields = ["started_on", "funding"]

    def get_queryset(self):
        return (
            ResearchProject.objects.visible_to(self.request.user)
            .select_related("district")
            .prefetch_related("partners")
            .order_by("-started_on", "pk")
        )

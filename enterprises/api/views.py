"""Views of the register's API. Writes go through the same services as the pages and the
import; every queryset is scoped to the user's districts (another district's object answers 404)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response

from cluster import clock
from cluster.api.errors import ERRORS, ErrorSerializer, conflict_response
from cluster.api.pagination import KeysetPagination
from cluster.quarters import Quarter

from ..choices import EntryMode
from ..models import (
    FIGURES,
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ResearchProject,
)
from ..periods import ReportingWindow
from ..services.register import (
    enterprise_save,
    project_delete,
    project_save,
    record_delete,
    record_save,
)
from ..services.report_entry import FigureRow, ReportConflict, report_save, reports_enter
from ..services.reports import reports_approve, reports_return, reports_submit
from .filtersets import (
    ClusterMembershipFilterSet,
    DesignationFilterSet,
    EnterpriseFilterSet,
    ListingFilterSet,
    MilestoneFilterSet,
    ProjectFilterSet,
    ReportFilterSet,
)
from .serializers import (
    REPORT_CONFLICT,
    BulkSerializer,
    ClusterMembershipSerializer,
    DesignationSerializer,
    EnterpriseSerializer,
    ListingSerializer,
    MilestoneSerializer,
    ReasonSerializer,
    ReportSerializer,
    ResearchProjectSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary="Enterprises / 企业列表", responses={200: EnterpriseSerializer(many=True), **ERRORS}
    ),
    retrieve=extend_schema(
        summary="One enterprise with its clusters, designations, listings, milestones",
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
    pagination_class = KeysetPagination
    ordering_fields = ["name_zh", "uscc", "founded_on"]
    ordering = ["name_zh"]

    def get_queryset(self):
        return (
            Enterprise.objects.visible_to(self.request.user)
            .select_related("district")
            .prefetch_related(
                Prefetch(
                    "memberships",
                    ClusterMembership.objects.select_related("cluster", "sector")
                    .prefetch_related("further_sectors")
                    .order_by("cluster__sort_order", "joined_on", "pk"),
                ),
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


def _quarter_or_none(text) -> Quarter | None:
    try:
        return Quarter.parse_spelling(text)
    except ValueError:
        return None


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
    pagination_class = KeysetPagination
    ordering_fields = ["year", "quarter", "updated_at"]
    # Newest quarter first, then by firm id: unique (one report per firm and quarter) and
    # read backwards along the report_period_firm index, so every page is a short seek.
    ordering = ["-year", "-quarter", "-enterprise_id"]

    def get_queryset(self):
        return QuarterlyReport.objects.visible_to(self.request.user).select_related("enterprise")

    def _save(self, request, instance=None, partial=False):
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if instance is not None:
            if "version" not in data:
                raise serializers.ValidationError({"version": _("Send the version you read.")})
            moved = {}
            if "enterprise" in data and data["enterprise"] != instance.enterprise:
                moved["enterprise"] = _("A report's firm cannot change; enter a new report.")
            if "period" in data and _quarter_or_none(data["period"]) != instance.period:
                moved["period"] = _("A report's quarter cannot change; enter a new report.")
            if moved:
                raise serializers.ValidationError(moved)
        # A partial update carries only the figures it names; the others keep their values.
        carried = [f for f in FIGURES if f in data] if partial else FIGURES
        try:
            report = report_save(
                actor=request.user,
                enterprise=instance.enterprise if instance else data["enterprise"],
                quarter=instance.period if instance else None,
                period=None if instance else data["period"],
                values={figure: data.get(figure) for figure in carried},
                version=data.get("version") if instance else None,
                mode=data.get("mode", EntryMode.QUARTERLY),
                anomaly_note=data.get("anomaly_note", ""),
                change_reason=data.get("change_reason", ""),
                source="api",
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
        request=ReasonSerializer,
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
        """The rows are checked as a whole by the report pipeline, as an import file is: any
        error (submission included), nothing is written, and the errors come back per row.
        Sending the same rows again changes nothing."""
        payload = BulkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        outcome = reports_enter(
            actor=request.user,
            rows=[
                FigureRow(
                    {figure: row[figure] for figure in FIGURES if figure in row},
                    ref=index,
                    uscc=row["uscc"],
                    period=row["period"],
                    anomaly_note=row.get("anomaly_note", ""),
                    change_reason=row.get("change_reason", ""),
                )
                for index, row in enumerate(data["rows"])
            ],
            unit=data["unit"],
            mode=data["mode"],
            submit=data["submit"],
            source="api",
        )
        if outcome.errors:
            errors: dict = {}
            for error in outcome.errors:
                errors.setdefault(f"rows[{error.line}]", {}).setdefault(error.column, []).append(
                    error.reason
                )
            return Response(
                {
                    "code": "invalid",
                    "message": _("The rows have errors; nothing was written."),
                    "errors": errors,
                },
                status=400,
            )
        submitted = outcome.submitted
        return Response({**outcome.totals, "submitted": submitted})


def register_schema(serializer, name: str, name_zh: str):
    """The documented operations of a register endpoint written through the services."""
    return extend_schema_view(
        list=extend_schema(
            summary=f"{name.capitalize()} / {name_zh}列表",
            responses={200: serializer(many=True), **ERRORS},
        ),
        retrieve=extend_schema(
            summary=f"One of the {name} / {name_zh}", responses={200: serializer, **ERRORS}
        ),
        create=extend_schema(
            summary=f"Add one of the {name} / 新增{name_zh}", responses={201: serializer, **ERRORS}
        ),
        update=extend_schema(
            summary=f"Change one of the {name} / 修改{name_zh}",
            responses={200: serializer, **ERRORS},
        ),
        partial_update=extend_schema(
            summary=f"Change some fields of one of the {name} / 修改{name_zh}",
            responses={200: serializer, **ERRORS},
        ),
        destroy=extend_schema(
            summary=f"Delete one of the {name}; its history stays / 删除{name_zh}",
            responses={204: None, **ERRORS},
        ),
    )


class FirmRecordViewSet(viewsets.ModelViewSet):
    """A firm's memberships, designations, listings or milestones. Only the caller's
    districts' records exist (another district's answers 404); writes go through the
    register's services, the same as the enterprise page's rows and the admin."""

    pagination_class = KeysetPagination

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        further_sectors = data.pop("further_sectors", None)
        serializer.instance = record_save(
            actor=self.request.user,
            record=serializer.Meta.model(**data),
            further_sectors=further_sectors,
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        further_sectors = data.pop("further_sectors", None)
        record = serializer.instance
        for field, value in data.items():
            setattr(record, field, value)
        record_save(actor=self.request.user, record=record, further_sectors=further_sectors)

    def perform_destroy(self, instance):
        record_delete(actor=self.request.user, record=instance)


@register_schema(ClusterMembershipSerializer, "cluster memberships", "集群成员")
class ClusterMembershipViewSet(FirmRecordViewSet):
    queryset = (
        ClusterMembership.objects.select_related("enterprise__district", "cluster", "sector")
        .prefetch_related("further_sectors")
        .order_by("cluster__sort_order", "enterprise__name_zh", "joined_on", "pk")
    )
    serializer_class = ClusterMembershipSerializer
    filterset_class = ClusterMembershipFilterSet
    ordering_fields = ["joined_on", "left_on"]


@register_schema(DesignationSerializer, "designations", "资质")
class DesignationViewSet(FirmRecordViewSet):
    queryset = Designation.objects.select_related("enterprise__district").order_by(
        "-valid_from", "pk"
    )
    serializer_class = DesignationSerializer
    filterset_class = DesignationFilterSet
    ordering_fields = ["valid_from", "valid_to", "type"]


@register_schema(ListingSerializer, "listings", "上市")
class ListingViewSet(FirmRecordViewSet):
    queryset = Listing.objects.select_related("enterprise__district").order_by("-listed_on", "pk")
    serializer_class = ListingSerializer
    filterset_class = ListingFilterSet
    ordering_fields = ["listed_on", "delisted_on", "ticker"]


@register_schema(MilestoneSerializer, "milestones", "大事记")
class MilestoneViewSet(FirmRecordViewSet):
    queryset = Milestone.objects.select_related("enterprise__district").order_by(
        "-occurred_on", "pk"
    )
    serializer_class = MilestoneSerializer
    filterset_class = MilestoneFilterSet
    ordering_fields = ["occurred_on", "amount"]


@register_schema(ResearchProjectSerializer, "research projects", "科研项目")
class ResearchProjectViewSet(viewsets.ModelViewSet):
    """Research projects of the caller's districts; writes go through the register's
    services, which check the district and every firm the project names."""

    queryset = (
        ResearchProject.objects.select_related("district")
        .prefetch_related("partners", "clusters")
        .order_by("-started_on", "pk")
    )
    serializer_class = ResearchProjectSerializer
    filterset_class = ProjectFilterSet
    pagination_class = KeysetPagination
    ordering_fields = ["started_on", "funding"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        partners, clusters = data.pop("partners", None), data.pop("clusters", None)
        serializer.instance = project_save(
            actor=self.request.user,
            project=ResearchProject(**data),
            partners=partners,
            clusters=clusters,
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        partners, clusters = data.pop("partners", None), data.pop("clusters", None)
        project = serializer.instance
        for field, value in data.items():
            setattr(project, field, value)
        project_save(actor=self.request.user, project=project, partners=partners, clusters=clusters)

    def perform_destroy(self, instance):
        project_delete(actor=self.request.user, project=instance)


@extend_schema(
    summary="Which quarters are open for reporting / 可填报季度",
    responses={
        200: inline_serializer(
            "ReportingWindow",
            {
                "first": serializers.CharField(help_text="The register's first quarter."),
                "last": serializers.CharField(help_text="The latest quarter open for entry."),
                "being_reported": serializers.CharField(
                    help_text="The quarter districts are reporting now (the latest ended)."
                ),
                "current_quarter_drafts": serializers.BooleanField(),
                "deadline_days": serializers.IntegerField(),
                "statement": serializers.CharField(help_text="The rule in words."),
            },
        ),
        **ERRORS,
    },
)
@api_view(["GET"])
def reporting_window(request):
    """The reporting window every door applies (enterprises.periods): a report for a quarter
    outside it is refused with the reason."""
    window = ReportingWindow.on(clock.today())
    return Response(
        {
            "first": str(window.first),
            "last": str(window.last),
            "being_reported": str(window.being_reported),
            "current_quarter_drafts": window.current_open,
            "deadline_days": settings.REPORT_DEADLINE_DAYS,
            "statement": window.statement(),
        }
    )

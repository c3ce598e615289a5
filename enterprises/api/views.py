"""Views of the register's API. Writes go through the same services as the pages and the
import; every queryset is scoped to the user's districts (another district's object answers 404)."""

from __future__ import annotations

import tablib
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cluster.api.errors import ERRORS, ErrorSerializer, conflict_response

from ..imports import REPORT_COLUMNS, reports_import
from ..models import (
    FIGURES,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ResearchProject,
)
from ..services.register import (
    enterprise_save,
    project_delete,
    project_save,
    record_delete,
    record_save,
)
from ..services.reports import (
    ReportConflict,
    report_save,
    reports_approve,
    reports_return,
    reports_submit,
)
from .filtersets import (
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
    """A firm's designations, listings or milestones. Only the caller's districts' records
    exist (another district's answers 404); writes go through the register's services, the
    same as the enterprise page's rows and the admin."""

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        record = serializer.Meta.model(**serializer.validated_data)
        serializer.instance = record_save(actor=self.request.user, record=record)

    def perform_update(self, serializer):
        record = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(record, field, value)
        record_save(actor=self.request.user, record=record)

    def perform_destroy(self, instance):
        record_delete(actor=self.request.user, record=instance)


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
        .prefetch_related("partners")
        .order_by("-started_on", "pk")
    )
    serializer_class = ResearchProjectSerializer
    filterset_class = ProjectFilterSet
    ordering_fields = ["started_on", "funding"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        partners = data.pop("partners", None)
        serializer.instance = project_save(
            actor=self.request.user, project=ResearchProject(**data), partners=partners
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        partners = data.pop("partners", None)
        project = serializer.instance
        for field, value in data.items():
            setattr(project, field, value)
        project_save(actor=self.request.user, project=project, partners=partners)

    def perform_destroy(self, instance):
        project_delete(actor=self.request.user, project=instance)

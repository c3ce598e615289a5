"""Views of the targets engine's API: targets (with the gap explanation), progress snapshots
(current or as of a vintage), alerts with their lifecycle."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cluster import clock
from cluster.access import scope_of
from cluster.api.errors import ERRORS
from cluster.api.pagination import KeysetPagination
from cluster.quarters import Quarter

from ..choices import Basis
from ..models import Alert, ProgressSnapshot, Target
from ..selectors.counted import FirmsBehindCount
from ..selectors.explanation import gap_explanation, latest_vintage
from ..selectors.metrics import Figures
from ..services.alerts import alert_acknowledge, alert_resolve, alert_snooze
from .filtersets import AlertFilterSet, SnapshotFilterSet, TargetFilterSet
from .serializers import (
    AlertSerializer,
    CommentSerializer,
    CountedRowSerializer,
    FirmsQuerySerializer,
    SnapshotSerializer,
    SnoozeSerializer,
    TargetSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary="The plan's targets / 目标", responses={200: TargetSerializer(many=True), **ERRORS}
    ),
    retrieve=extend_schema(responses={200: TargetSerializer, **ERRORS}),
)
class TargetViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TargetSerializer
    filterset_class = TargetFilterSet
    queryset = (
        Target.objects.select_related("metric", "district", "sector", "plan__cluster")
        .prefetch_related("rule_versions")
        .order_by("plan__cluster__sort_order", "plan__starts_on", "sort_order", "pk")
    )

    @extend_schema(
        summary="The firms behind the target's figure / 计数明细",
        parameters=[FirmsQuerySerializer],
        responses={200: CountedRowSerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["get"])
    def firms(self, request, pk=None):
        """Each firm (or research project) the counting rule looks at, with the value or the
        listing, designation or project counted for it and whether it counts; counted ones
        first. A district user sees their district's rows only."""
        target = self.get_object()
        query = FirmsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        quarter, basis = params["quarter"], params["basis"]
        vintage = (
            params.get("vintage")
            or latest_vintage(target, quarter, basis)
            or Figures.latest(basis).vintage
        )
        district = params.get("district")
        listing = FirmsBehindCount(
            target,
            quarter,
            Figures(basis, vintage),
            user=request.user,
            district_id=district.pk if district else None,
        )
        page = self.paginate_queryset(listing.queryset)
        return self.get_paginated_response(CountedRowSerializer(listing.rows(page), many=True).data)

    @extend_schema(
        summary="Why the target stands where it does / 差距分析",
        parameters=[
            OpenApiParameter("quarter", str, description="e.g. 2025Q4", required=True),
            OpenApiParameter(
                "basis", str, enum=Basis.values, description="approved (default) or preview"
            ),
            OpenApiParameter("vintage", OpenApiTypes.DATETIME, description="default: the newest"),
        ],
        responses={
            200: inline_serializer(
                "Explanation",
                {
                    "target": serializers.CharField(),
                    "quarter": serializers.CharField(),
                    "basis": serializers.CharField(),
                    "vintage": serializers.DateTimeField(allow_null=True),
                    "by_district": SnapshotSerializer(many=True),
                    "by_direction": SnapshotSerializer(many=True),
                    "top_firms": serializers.ListField(child=serializers.DictField()),
                    "pipeline": serializers.ListField(child=serializers.DictField()),
                    "entered": serializers.ListField(child=serializers.DictField()),
                    "left": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["get"])
    def explanation(self, request, pk=None):
        target = self.get_object()
        try:
            quarter = Quarter.parse(request.query_params.get("quarter", ""))
        except ValueError as exc:
            raise serializers.ValidationError({"quarter": [str(exc)]}) from None
        basis = request.query_params.get("basis", Basis.APPROVED)
        if basis not in Basis.values:
            invalid = serializers.ChoiceField.default_error_messages["invalid_choice"]
            raise serializers.ValidationError({"basis": [invalid.format(input=basis)]})
        vintage = None
        if request.query_params.get("vintage"):
            try:
                vintage = serializers.DateTimeField().run_validation(
                    request.query_params["vintage"]
                )
            except serializers.ValidationError as invalid:
                raise serializers.ValidationError({"vintage": invalid.detail}) from None
        result = gap_explanation(target, quarter, basis=basis, vintage=vintage)
        scope = scope_of(request.user)
        if not scope.is_city:
            # A district user sees their district's share and firms, nothing of the others.
            result.by_district = [s for s in result.by_district if scope.covers(s.district_id)]
            result.by_direction = []
            for name in ("top_firms", "pipeline"):
                setattr(
                    result,
                    name,
                    [
                        line
                        for line in getattr(result, name)
                        if scope.covers(line.enterprise.district_id)
                    ],
                )
            result.entered = [e for e in result.entered if scope.covers(e.district_id)]
            result.left = [e for e in result.left if scope.covers(e.district_id)]

        def firm(line):
            return {
                "id": line.enterprise.pk,
                "uscc": line.enterprise.uscc,
                "name": line.enterprise.name,
                "value": str(line.value),
                "gap": None if line.gap is None else str(line.gap),
                # Below a strict threshold ("超 N 亿元") the firm needs more than the gap.
                "needs_more_than": line.needs_more_than,
            }

        def who(enterprise):
            return {"id": enterprise.pk, "uscc": enterprise.uscc, "name": enterprise.name}

        return Response(
            {
                "target": target.key,
                "quarter": str(quarter),
                "basis": basis,
                "vintage": result.vintage,
                "by_district": SnapshotSerializer(result.by_district, many=True).data,
                "by_direction": SnapshotSerializer(result.by_direction, many=True).data,
                "top_firms": [firm(line) for line in result.top_firms],
                "pipeline": [firm(line) for line in result.pipeline],
                "entered": [who(e) for e in result.entered],
                "left": [who(e) for e in result.left],
            }
        )


@extend_schema_view(
    list=extend_schema(
        summary="Progress snapshots: the newest vintage, or as of a moment / 进度快照",
        responses={200: SnapshotSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(responses={200: SnapshotSerializer, **ERRORS}),
)
class SnapshotViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilterSet
    pagination_class = KeysetPagination
    ordering_fields = ["year", "quarter", "vintage"]

    def get_queryset(self):
        return (
            ProgressSnapshot.objects.visible_to(self.request.user)
            .select_related("target__plan", "district", "sector")
            .order_by("target__sort_order", "-year", "-quarter", "scope_key", "pk")
        )

    def get_serializer_context(self):
        # One day for every row: the phase of each snapshot's quarter (selectors.plans).
        return {**super().get_serializer_context(), "today": clock.today()}


def _body(serializer_class, request) -> dict:
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


@extend_schema_view(
    list=extend_schema(
        summary="Alerts / 预警", responses={200: AlertSerializer(many=True), **ERRORS}
    ),
    retrieve=extend_schema(responses={200: AlertSerializer, **ERRORS}),
)
class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    pagination_class = KeysetPagination
    ordering_fields = ["opened_at", "severity"]
    write_right = "can_act_on_alerts"

    def get_queryset(self):
        return (
            Alert.objects.visible_to(self.request.user)
            .select_related("rule", "owner", "target", "enterprise")
            .order_by("-severity", "-opened_at", "pk")
        )

    def _act(self, service, body):
        # The alert first: another district's alert is a 404 whatever the body says.
        alert = self.get_object()
        service(actor=self.request.user, alert_id=alert.pk, **_body(body, self.request))
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(
        summary="Acknowledge with a comment / 确认",
        request=CommentSerializer,
        responses={200: AlertSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._act(alert_acknowledge, CommentSerializer)

    @extend_schema(
        summary="Snooze until a date / 暂缓",
        request=SnoozeSerializer,
        responses={200: AlertSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        return self._act(alert_snooze, SnoozeSerializer)

    @extend_schema(
        summary="Resolve / 解除",
        request=CommentSerializer,
        responses={200: AlertSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._act(alert_resolve, CommentSerializer)

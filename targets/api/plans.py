"""The API of clusters and plans: each cluster with its official quarter and that quarter's
phase, each plan with its phase on a day (`?on=YYYY-MM-DD`, default today) and, once it has
ended, its final evaluation with the lines; a city steward closes the evaluation here too
(the same service as the evaluation page and the admin)."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cluster import clock
from cluster.access import scope_of
from cluster.api.errors import ERRORS
from cluster.api.filters import FilterSet
from cluster.models import Cluster, Plan

from ..selectors.evaluation import evaluation_shown, evaluations_of
from ..selectors.plans import cluster_plans, official_quarters, phase_of
from ..services.evaluation import evaluation_close
from .serializers import FigureField, NullableFigureField, figure_json


class DayQuerySerializer(serializers.Serializer):
    on = serializers.DateField(required=False, help_text="the day of the phase (default: today)")


def _day(request):
    query = DayQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("on") or clock.today()


class PlanBriefSerializer(serializers.ModelSerializer):
    phase = serializers.SerializerMethodField(help_text="upcoming, in_force or ended on the day")

    class Meta:
        model = Plan
        fields = ["id", "key", "name_zh", "name_en", "starts_on", "ends_on", "phase"]

    def get_phase(self, plan) -> str:
        return plan.phase_on(self.context["day"])


class CoverageSerializer(serializers.Serializer):
    quarter = serializers.CharField()
    expected = serializers.IntegerField(help_text="firms expected to report (members then)")
    approved = serializers.IntegerField(help_text="of them, with approved figures")
    complete = serializers.BooleanField(help_text="at least the steward's official share")

    def to_representation(self, coverage) -> dict:
        return {
            "quarter": str(coverage.quarter),
            "expected": coverage.expected,
            "approved": coverage.approved,
            "complete": coverage.complete,
        }


class ClusterSerializer(serializers.ModelSerializer):
    plans = serializers.SerializerMethodField()
    official_quarter = serializers.SerializerMethodField(
        help_text="the quarter its pages open on, with its coverage"
    )
    mode = serializers.SerializerMethodField(
        help_text="in_force, evaluation or monitoring: how the official quarter is shown"
    )
    plan = serializers.SerializerMethodField(help_text="key of the plan the quarter shows")

    class Meta:
        model = Cluster
        fields = ["id", "key", "name_zh", "name_en", "plans", "official_quarter", "mode", "plan"]

    def _phase(self, cluster):
        coverage = self.context["coverage"][cluster.pk]
        plans = self.context["plans"][cluster.pk]
        return phase_of(cluster, coverage.quarter, self.context["day"], plans=plans)

    @extend_schema_field(PlanBriefSerializer(many=True))
    def get_plans(self, cluster) -> list[dict]:
        return PlanBriefSerializer(
            self.context["plans"][cluster.pk], many=True, context=self.context
        ).data

    @extend_schema_field(CoverageSerializer)
    def get_official_quarter(self, cluster) -> dict:
        return CoverageSerializer(self.context["coverage"][cluster.pk]).data

    def get_mode(self, cluster) -> str:
        return self._phase(cluster).mode

    def get_plan(self, cluster) -> str | None:
        plan = self._phase(cluster).plan
        return plan.key if plan else None


class EvaluationLineSerializer(serializers.Serializer):
    target = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    value = NullableFigureField()
    target_value = FigureField()
    comparison = serializers.CharField()
    unit = serializers.CharField()
    achieved = serializers.BooleanField(allow_null=True)
    completion = serializers.DecimalField(max_digits=20, decimal_places=4, allow_null=True)
    rule_version = serializers.IntegerField(allow_null=True)
    revised_value = NullableFigureField(
        help_text="approved after the evaluation was closed; shown beside the frozen value",
    )
    assessment = serializers.DictField(allow_null=True)

    def to_representation(self, line) -> dict:
        target, assessment = line.target, line.assessment
        return {
            "target": target.key,
            "name_zh": target.name_zh,
            "name_en": target.name_en,
            "value": figure_json(target, line.value),
            "target_value": figure_json(target, target.target_value),
            "comparison": target.comparison,
            "unit": target.unit,
            "achieved": line.achieved,
            "completion": None if line.share is None else f"{line.share:.4f}",
            "rule_version": line.rule_version,
            "revised_value": figure_json(target, line.revised),
            "assessment": None
            if assessment is None
            else {
                "id": assessment.pk,
                "assessed_on": assessment.assessed_on.isoformat(),
                "status": assessment.status,
                "summary": assessment.summary,
            },
        }


class EvaluationSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=["open", "closed"])
    quarter = serializers.CharField(help_text="the deadline quarter")
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.CharField(allow_null=True)
    note = serializers.CharField()
    vintage = serializers.DateTimeField(allow_null=True, help_text="the approved figures used")
    lines = EvaluationLineSerializer(many=True)

    def to_representation(self, evaluation) -> dict:
        record = evaluation.record if evaluation.is_closed else None
        return {
            "state": "closed" if record else "open",
            "quarter": str(evaluation.quarter),
            "closed_at": serializers.DateTimeField().to_representation(record.closed_at)
            if record
            else None,
            "closed_by": record.closed_by.get_username() if record else None,
            "note": record.note if record else "",
            "vintage": serializers.DateTimeField().to_representation(evaluation.vintage)
            if evaluation.vintage
            else None,
            "lines": EvaluationLineSerializer(evaluation.lines, many=True).data,
        }


class PlanSerializer(serializers.ModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="key", read_only=True)
    on = serializers.SerializerMethodField(help_text="the day of the phase")
    phase = serializers.SerializerMethodField(help_text="upcoming, in_force or ended on the day")
    evaluation = serializers.SerializerMethodField(
        help_text="once the plan has ended: its final evaluation (city-wide users)"
    )

    class Meta:
        model = Plan
        fields = [
            "id",
            "key",
            "cluster",
            "name_zh",
            "name_en",
            "document_number",
            "issuer",
            "issued_on",
            "starts_on",
            "ends_on",
            "baseline_year",
            "schedule_bands",
            "on",
            "phase",
            "evaluation",
        ]

    def get_on(self, plan) -> str:
        return self.context["day"].isoformat()

    def get_phase(self, plan) -> str:
        return plan.phase_on(self.context["day"])

    @extend_schema_field(EvaluationSerializer(allow_null=True))
    def get_evaluation(self, plan) -> dict | None:
        evaluation = self.context["evaluations"].get(plan.pk)
        if evaluation is None:
            return None
        return EvaluationSerializer(evaluation).data


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True, help_text="kept in the evaluation's history")


class PlanFilterSet(FilterSet):
    cluster = filters.CharFilter(field_name="cluster__key")

    class Meta:
        model = Plan
        fields = ["cluster"]


ON = OpenApiParameter("on", str, description="YYYY-MM-DD, the day of the phase (default today)")


@extend_schema_view(
    list=extend_schema(
        summary="Clusters with their official quarter and its phase / 产业集群",
        parameters=[ON],
        responses={200: ClusterSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(parameters=[ON], responses={200: ClusterSerializer, **ERRORS}),
)
class ClusterViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ClusterSerializer
    queryset = Cluster.objects.order_by("sort_order", "key")

    def _context(self, clusters) -> dict:
        day = _day(self.request)
        return {
            **self.get_serializer_context(),
            "day": day,
            "plans": cluster_plans(clusters),
            "coverage": official_quarters(clusters, day),
        }

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = ClusterSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        cluster = self.get_object()
        return Response(ClusterSerializer(cluster, context=self._context([cluster])).data)


@extend_schema_view(
    list=extend_schema(
        summary="Plans with their phase on a day and the final evaluation / 行动计划与终期评估",
        parameters=[ON],
        responses={200: PlanSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(parameters=[ON], responses={200: PlanSerializer, **ERRORS}),
)
class PlanViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PlanSerializer
    filterset_class = PlanFilterSet
    queryset = Plan.objects.select_related("cluster").order_by(
        "cluster__sort_order", "cluster__key", "starts_on"
    )
    write_right = "can_edit"

    def _context(self, plans) -> dict:
        day = _day(self.request)
        ended = [p for p in plans if evaluation_shown(p, day)]
        # The lines are city-wide figures: a district user reads their district's pages.
        evaluations = evaluations_of(ended) if scope_of(self.request.user).is_city else {}
        return {**self.get_serializer_context(), "day": day, "evaluations": evaluations}

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = PlanSerializer(page, many=True, context=self._context(page)).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        plan = self.get_object()
        return Response(PlanSerializer(plan, context=self._context([plan])).data)

    @extend_schema(
        summary="Close the final evaluation / 终期评估定稿",
        request=NoteSerializer,
        responses={200: PlanSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="close-evaluation")
    def close_evaluation(self, request, pk=None):
        plan = self.get_object()
        body = NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        evaluation_close(
            actor=request.user, plan=plan, note=body.validated_data["note"], today=clock.today()
        )
        return Response(PlanSerializer(plan, context=self._context([plan])).data)

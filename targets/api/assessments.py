"""The API's door to the assessments of a qualitative target: its history (GET) and a new
assessment by a city steward (POST), through the one service that owns the rule."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from cluster.api.errors import ERRORS
from cluster.clock import today

from ..models import Assessment, Target
from ..services.assessments import assessment_record

# Under a target: /api/targets/{id}/assessments/ (ids bounded like the router's own).
ASSESSMENTS = r"targets/(?P<target_pk>[0-9]{1,18})/assessments"


class AssessmentSerializer(serializers.ModelSerializer):
    """An assessment as recorded. What is required of a new one (a status among achieved, on
    track, at risk, off track; a summary; evidence; a date up to today) is the service's rule:
    the fields here only take the values in."""

    target = serializers.SlugRelatedField(slug_field="key", read_only=True)
    assessed_on = serializers.DateField(required=False, allow_null=True, help_text="default: today")
    status = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="achieved, on_track, at_risk or off_track",
    )
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    summary = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    evidence = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False
    )
    assessed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "target",
            "assessed_on",
            "status",
            "status_label",
            "summary",
            "evidence",
            "assessed_by",
        ]


TARGET = OpenApiParameter(
    "target_pk", int, OpenApiParameter.PATH, description="the target's id (a qualitative target)"
)


@extend_schema_view(
    list=extend_schema(
        parameters=[TARGET],
        summary="The assessments of a qualitative target, newest first / 定性目标评估记录",
        responses={200: AssessmentSerializer(many=True), **ERRORS},
    ),
    create=extend_schema(
        parameters=[TARGET],
        summary="Assess a qualitative target (city steward) / 评估定性目标",
        request=AssessmentSerializer,
        responses={201: AssessmentSerializer, **ERRORS},
    ),
)
class AssessmentViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    # Targets are the city's: everyone with a role reads their assessments; writing is the
    # service's to allow (a city steward), whatever the role's general right to edit.
    serializer_class = AssessmentSerializer

    def target(self) -> Target:
        return get_object_or_404(
            Target.objects.select_related("metric", "plan"), pk=self.kwargs["target_pk"]
        )

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Assessment.objects.none()  # the schema is drawn without a target
        return (
            Assessment.objects.filter(target=self.target())
            .select_related("target", "assessed_by")
            .order_by("-assessed_on", "-pk")
        )

    def create(self, request, *args, **kwargs):
        target = self.target()
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        assessment = assessment_record(
            actor=request.user,
            target=target,
            assessed_on=values.get("assessed_on") or today(),
            status=values["status"],
            summary=values["summary"],
            evidence=values["evidence"],
        )
        return Response(self.get_serializer(assessment).data, status=status.HTTP_201_CREATED)

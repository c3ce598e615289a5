"""Read-only endpoints of the reference data: districts and focus directions/materials."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from ..models import District, Sector
from .errors import ERRORS
from .filtersets import DistrictFilterSet, SectorFilterSet
from .serializers import DistrictSerializer, SectorSerializer


@extend_schema_view(
    list=extend_schema(
        summary="Districts (区/县级市) / 区县列表",
        responses={200: DistrictSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One district / 区县", responses={200: DistrictSerializer, **ERRORS}
    ),
)
class DistrictViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = District.objects.order_by("sort_order")
    serializer_class = DistrictSerializer
    filterset_class = DistrictFilterSet
    ordering_fields = ["sort_order", "code"]


@extend_schema_view(
    list=extend_schema(
        summary="Focus directions and materials / 重点方向与材料",
        responses={200: SectorSerializer(many=True), **ERRORS},
    ),
    retrieve=extend_schema(
        summary="One sector / 领域", responses={200: SectorSerializer, **ERRORS}
    ),
)
class SectorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Sector.objects.order_by("code")
    serializer_class = SectorSerializer
    filterset_class = SectorFilterSet
    ordering_fields = ["code"]

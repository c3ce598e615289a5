"""Serializers of the reference data: districts and sectors."""

from __future__ import annotations

from rest_framework import serializers

from ..models import District, Sector


class DistrictSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["id", "code", "code_system", "name_zh", "name_en", "kind", "parent"]


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ["id", "code", "level", "parent", "name_zh", "name_en", "source"]

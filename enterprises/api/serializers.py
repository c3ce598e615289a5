"""Serializers of the register's API: enterprises with their cluster memberships,
designations, listings and milestones, quarterly reports, bulk rows, research projects."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from cluster.models import Cluster, District, Sector

from ..choices import EntryMode, Unit
from ..models import (
    FIGURES,
    MONEY_FIGURES,
    ClusterMembership,
    Designation,
    Enterprise,
    Listing,
    Milestone,
    QuarterlyReport,
    ResearchProject,
)


class _FigureField(serializers.Field):
    """A figure as written, a number or a text ("1,234.5", "1234.5万元"): the report
    pipeline (enterprises.services.report_entry) parses and bounds it, for every door alike."""

    default_error_messages = {"invalid": gettext_lazy("Not a number.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool | list | dict):
            self.fail("invalid")
        return data


# Written as a number or a text; always answered as a text with two decimals ("1234.50"), so
# that no digit is lost to a float.
MONEY_SCHEMA = {
    "oneOf": [
        {"type": "string", "format": "decimal", "example": "1234.50"},
        {"type": "number"},
    ]
}


@extend_schema_field(MONEY_SCHEMA)
class MoneyField(_FigureField):
    """Money in yuan (or in the call's unit for the bulk API)."""

    def to_representation(self, value):
        return f"{value:.2f}"


@extend_schema_field(OpenApiTypes.INT)
class CountField(_FigureField):
    def to_representation(self, value):
        return int(value)


def figure_fields() -> dict:
    return {figure: (MoneyField if figure in MONEY_FIGURES else CountField)() for figure in FIGURES}


class SectorCodeField(serializers.CharField):
    """A sector by its code, read in the tree of the membership's cluster (codes repeat from
    one cluster's tree to another's)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value.code


class SectorCodesField(serializers.ListField):
    child = SectorCodeField()

    def to_representation(self, data):
        return [sector.code for sector in data.all()]


def cluster_field(help_text: str = "The cluster's key, e.g. nano.", **kwargs):
    return serializers.SlugRelatedField(
        slug_field="key", queryset=Cluster.objects.all(), help_text=help_text, **kwargs
    )


class NestedMembershipSerializer(serializers.ModelSerializer):
    """A membership inside its firm's representation."""

    cluster = serializers.SlugRelatedField(slug_field="key", read_only=True)
    sector = SectorCodeField(read_only=True)
    further_sectors = SectorCodesField(read_only=True)

    class Meta:
        model = ClusterMembership
        fields = ["id", "cluster", "sector", "further_sectors", "joined_on", "left_on"]


class NestedDesignationSerializer(serializers.ModelSerializer):
    """A designation inside its firm's representation."""

    class Meta:
        model = Designation
        fields = ["id", "type", "tier", "issuer", "certificate_no", "valid_from", "valid_to"]


class NestedListingSerializer(serializers.ModelSerializer):
    is_listing = serializers.BooleanField(read_only=True, help_text="False for a NEEQ quotation.")

    class Meta:
        model = Listing
        fields = ["id", "venue", "ticker", "listed_on", "delisted_on", "is_listing"]


class NestedMilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "kind", "occurred_on", "amount", "note"]


class EnterpriseSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(
        slug_field="code",
        queryset=District.objects.exclude(code=None),
        help_text="GB/T 2260 (or statistical) code of the district.",
    )
    memberships = NestedMembershipSerializer(
        many=True,
        read_only=True,
        help_text="Its clusters; written through /api/cluster-memberships/.",
    )
    designations = NestedDesignationSerializer(many=True, read_only=True)
    listings = NestedListingSerializer(many=True, read_only=True)
    milestones = NestedMilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Enterprise
        fields = [
            "id",
            "uscc",
            "name_zh",
            "name_en",
            "district",
            "park",
            "founded_on",
            "size_class",
            "status",
            "above_designated_size",
            "is_demo",
            "memberships",
            "designations",
            "listings",
            "milestones",
        ]
        read_only_fields = ["is_demo"]

    def validate(self, attrs):
        instance = Enterprise(**attrs)
        if self.instance:
            for field in Enterprise._meta.concrete_fields:
                if field.name not in attrs:
                    setattr(instance, field.attname, getattr(self.instance, field.attname))
            instance.pk = self.instance.pk
        instance.clean()
        return attrs


class ReportSerializer(serializers.ModelSerializer):
    """A quarterly report. Writes pass the figures as written to the report pipeline, which
    checks them exactly as the worksheet, the import and the admin do."""

    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.all())
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    period = serializers.CharField(help_text="The quarter, e.g. 2025Q3.", max_length=40)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="Required on update: the version you read. A newer one answers 409.",
    )
    mode = serializers.ChoiceField(
        choices=EntryMode.choices,
        default=EntryMode.QUARTERLY,
        write_only=True,
        help_text="ytd: the figures are year-to-date (cumulative) values.",
    )
    anomaly_note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Note confirming a change of more than the jump threshold (波动说明).",
    )
    change_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Reason for changing an approved report (修改原因).",
    )

    class Meta:
        model = QuarterlyReport
        fields = [
            "id",
            "enterprise",
            "uscc",
            "period",
            "mode",
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
        fields.update(figure_fields())
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            fields["enterprise"].queryset = Enterprise.objects.visible_to(request.user)
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["period"] = str(instance.period)
        return data


class BulkRowSerializer(serializers.Serializer):
    """One row of a bulk call, as written: the report pipeline parses and checks it."""

    uscc = serializers.CharField(max_length=100)
    period = serializers.CharField(max_length=40, help_text="The quarter, e.g. 2025Q3.")
    anomaly_note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    change_reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)

    def get_fields(self):
        return {**super().get_fields(), **figure_fields()}


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


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


REPORT_CONFLICT = inline_serializer(
    "Conflict",
    {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "errors": serializers.DictField(),
        "current": ReportSerializer(),
    },
)


# The register's records and projects, written through enterprises.services.register.


class FirmUSCCField(serializers.CharField):
    """The firm's USCC: shown on every row, and a way to name the firm when writing (instead
    of its id). Only firms in the caller's districts can be named."""

    default_error_messages = {"unknown": gettext_lazy("No firm with this code in your districts.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 18)
        kwargs.setdefault(
            "help_text", "The firm's unified social credit code, instead of `enterprise`."
        )
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance.enterprise.uscc

    def run_validation(self, data=serializers.empty):
        code = super().run_validation(data).strip().upper()
        firm = visible_firms(self.context).filter(uscc=code).first()
        if firm is None:
            self.fail("unknown")
        return firm


def visible_firms(context):
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return Enterprise.objects.none()
    return Enterprise.objects.visible_to(request.user)


class FirmRecordSerializer(serializers.ModelSerializer):
    """A designation, listing or milestone with the firm it belongs to, named by id
    (`enterprise`) or by USCC (`uscc`)."""

    enterprise = serializers.PrimaryKeyRelatedField(
        queryset=Enterprise.objects.all(),
        required=False,
        help_text="The firm's id; or name the firm by `uscc`.",
    )
    uscc = FirmUSCCField()
    district = serializers.CharField(
        source="enterprise.district.code",
        read_only=True,
        allow_null=True,
        help_text="The firm's district code (none for an org unit without one).",
    )

    FIRM_FIELDS = ["id", "enterprise", "uscc", "district"]

    def get_fields(self):
        fields = super().get_fields()
        fields["enterprise"].queryset = visible_firms(self.context)
        return fields

    def validate(self, attrs):
        by_code = attrs.pop("uscc", None)
        if by_code is not None:
            if attrs.get("enterprise", by_code) != by_code:
                raise serializers.ValidationError(
                    {"uscc": _("This code names another firm than the enterprise id.")}
                )
            attrs["enterprise"] = by_code
        if self.instance is None and "enterprise" not in attrs:
            raise serializers.ValidationError(
                {"enterprise": _("Name the firm by its id (enterprise) or its code (uscc).")}
            )
        return attrs


class ClusterMembershipSerializer(FirmRecordSerializer):
    """A firm's membership of a cluster. Its sectors are named by code in the cluster's tree;
    a code found only in another cluster's tree names that sector, which the register's rule
    then refuses for this cluster, in the same words as on the pages."""

    cluster = cluster_field()
    sector = SectorCodeField(help_text="Code of a material of the cluster's tree, e.g. 1.04.")
    further_sectors = SectorCodesField(
        required=False, help_text="Codes of further materials of the cluster's tree."
    )

    class Meta:
        model = ClusterMembership
        fields = [*FirmRecordSerializer.FIRM_FIELDS, *NestedMembershipSerializer.Meta.fields[1:]]
        validators = []

    def validate(self, attrs):
        attrs = super().validate(attrs)
        codes = [attrs["sector"]] if "sector" in attrs else []
        codes += attrs.get("further_sectors", [])
        if not codes:
            return attrs
        cluster = attrs.get("cluster") or getattr(self.instance, "cluster", None)
        sectors = sectors_by_code(cluster, codes)
        unknown = {
            field: [_("No sector with the code %(code)s.") % {"code": code}]
            for field, field_codes in (
                ("sector", codes[:1] if "sector" in attrs else []),
                ("further_sectors", attrs.get("further_sectors", [])),
            )
            for code in field_codes
            if code not in sectors
        }
        if unknown:
            raise serializers.ValidationError(unknown)
        if "sector" in attrs:
            attrs["sector"] = sectors[attrs["sector"]]
        if "further_sectors" in attrs:
            attrs["further_sectors"] = [sectors[code] for code in attrs["further_sectors"]]
        return attrs


def sectors_by_code(cluster: Cluster | None, codes: list[str]) -> dict[str, Sector]:
    """Code → sector, the cluster's own first, then another cluster's (refused later by the
    register's rule, with its reason)."""
    found: dict[str, Sector] = {}
    for sector in Sector.objects.filter(code__in=codes).order_by("cluster__sort_order", "pk"):
        if sector.code not in found or (cluster and sector.cluster_id == cluster.pk):
            found[sector.code] = sector
    return found


class DesignationSerializer(FirmRecordSerializer):
    class Meta:
        model = Designation
        fields = [*FirmRecordSerializer.FIRM_FIELDS, *NestedDesignationSerializer.Meta.fields[1:]]
        # Uniqueness is the service's check (on the field it concerns), not the serializer's.
        validators = []


class ListingSerializer(FirmRecordSerializer):
    is_listing = serializers.BooleanField(read_only=True, help_text="False for a NEEQ quotation.")

    class Meta:
        model = Listing
        fields = [*FirmRecordSerializer.FIRM_FIELDS, *NestedListingSerializer.Meta.fields[1:]]
        validators = []


class MilestoneSerializer(FirmRecordSerializer):
    class Meta:
        model = Milestone
        fields = [*FirmRecordSerializer.FIRM_FIELDS, *NestedMilestoneSerializer.Meta.fields[1:]]
        validators = []


class ResearchProjectSerializer(serializers.ModelSerializer):
    district = serializers.SlugRelatedField(
        slug_field="code",
        queryset=District.objects.exclude(code=None),
        help_text="GB/T 2260 (or statistical) code of the project's district.",
    )
    lead_enterprise = serializers.PrimaryKeyRelatedField(
        queryset=Enterprise.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the leading firm, if a firm leads the project.",
    )
    partners = serializers.PrimaryKeyRelatedField(
        queryset=Enterprise.objects.all(),
        many=True,
        required=False,
        help_text="Ids of the partner firms.",
    )
    # Whether a project may have no cluster is the register's rule (project_save), not a
    # serializer's: an empty list is passed on for it to answer.
    clusters = cluster_field(
        many=True,
        required=False,
        allow_empty=True,
        help_text="Keys of the clusters whose plans the project counts toward.",
    )

    class Meta:
        model = ResearchProject
        fields = [
            "id",
            "clusters",
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
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        fields["lead_enterprise"].queryset = visible_firms(self.context)
        fields["partners"].child_relation.queryset = visible_firms(self.context)
        return fields

"""Import and export of the register through django-import-export.

Firms are written in bulk, and the bulk writes go through simple-history's bulk helpers so
that an import leaves the same history as an edit in the admin. A row also names the firm's
membership of a cluster; memberships are written through the register's service (record_save)
once the firms exist, so that an import follows the same rules as the pages, the API and the
admin.
"""

from __future__ import annotations

import copy
import datetime as dt

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Model, Prefetch
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.results import RowResult
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from cluster.access import scope_of
from cluster.bulk import cycle_collection_paused
from cluster.models import Cluster, District, Park, Sector

from .choices import EnterpriseStatus, SizeClass
from .models import ClusterMembership, Enterprise
from .services.register import record_save
from .services.register.rules import OVERLAP, counting_changed, full_validate


class LookupWidget(widgets.ForeignKeyWidget):
    """A foreign key written as a code or a Chinese or English name.

    The whole (small) reference table is read once per import instead of once per row.
    """

    def __init__(self, model: type[Model], keys: tuple[str, ...], **kwargs) -> None:
        super().__init__(model, field="pk", **kwargs)
        self.keys = keys
        self._index: dict[str, Model] | None = None

    def reset(self) -> None:
        self._index = None

    def _lookup(self) -> dict[str, Model]:
        if self._index is None:
            self._index = {}
            for obj in self.model.objects.all():
                for key in self.keys:
                    value = getattr(obj, key)
                    if value:
                        self._index.setdefault(str(value).strip(), obj)
        return self._index

    def clean(self, value, row=None, **kwargs):
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        try:
            return self._lookup()[text]
        except KeyError:
            raise ValueError(
                _("%(model)s %(value)r is not known")
                % {
                    "model": self.model._meta.verbose_name,
                    "value": text,
                }
            ) from None

    def render(self, value, obj=None, **kwargs):
        return getattr(value, self.keys[0]) if value else ""


class DayWidget(widgets.DateWidget):
    """A date as a spreadsheet stores it, or written as text (2025-03-15 …); one that is not a
    date is refused in the user's language, as a form would."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        text = str(value).strip() if value is not None else ""
        try:
            return forms.DateField(required=False).clean(text)
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None


class ChoiceWidget(widgets.Widget):
    """A choice written as its stored value or its label in Chinese or English."""

    def __init__(self, choices) -> None:
        super().__init__()
        self.choices = choices
        self._spellings: dict[str, str] | None = None

    def _lookup(self) -> dict[str, str]:
        if self._spellings is None:
            self._spellings = {}
            for choice in self.choices:
                self._spellings[choice.value] = choice.value
                for language in ("zh-hans", "en"):
                    with translation.override(language):
                        self._spellings[str(choice.label)] = choice.value
        return self._spellings

    def clean(self, value, row=None, **kwargs):
        text = str(value).strip() if value is not None else ""
        if text in self._lookup():
            return self._lookup()[text]
        raise ValueError(
            _("%(value)r is not one of: %(allowed)s")
            % {"value": text, "allowed": ", ".join(self.choices.values)}
        )

    def render(self, value, obj=None, **kwargs):
        return value or ""


class HistoricalBulkResourceMixin:
    """All-or-nothing bulk import whose writes also leave history rows, credited to the
    importing user."""

    def import_data(self, dataset, **kwargs):
        # One bad row refuses the whole file: nothing partial is ever written.
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        # Committed outside the pause (the import's own transaction is a savepoint of this
        # one): the jobs the commit runs in eager mode run with the collector.
        with transaction.atomic(), cycle_collection_paused(len(dataset)):
            return super().import_data(dataset, **kwargs)

    def before_import(self, dataset, **kwargs):
        self._history_user = kwargs.get("user")
        for field in self.fields.values():
            if isinstance(field.widget, LookupWidget):
                field.widget.reset()
        super().before_import(dataset, **kwargs)

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.create_instances and (using_transactions or not dry_run):
            try:
                bulk_create_with_history(
                    self.create_instances,
                    self._meta.model,
                    batch_size=batch_size,
                    default_user=self._history_user,
                    default_change_reason=_("import"),
                )
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.create_instances.clear()

    def bulk_update(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        if self.update_instances and (using_transactions or not dry_run):
            try:
                # Stamped as save() would (auto_now): what is stored from the firms checks
                # their newest change (a firm moved to another district).
                stamped = [
                    f.name
                    for f in self._meta.model._meta.concrete_fields
                    if getattr(f, "auto_now", False)
                ]
                now = timezone.now()
                for instance in self.update_instances:
                    for name in stamped:
                        setattr(instance, name, now)
                bulk_update_with_history(
                    self.update_instances,
                    self._meta.model,
                    [*self.get_bulk_update_fields(), *stamped],
                    batch_size=batch_size,
                    default_user=self._history_user,
                    default_change_reason=_("import"),
                )
                # A firm's district or status may have changed: who counts where.
                for instance in self.update_instances:
                    counting_changed(instance)
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.update_instances.clear()


# The columns of the enterprise template, import and export, with their Chinese headers: the
# firm's, then its membership of a cluster.
FIRM_COLUMNS = {
    "uscc": "统一社会信用代码",
    "name_zh": "企业名称",
    "name_en": "英文名称",
    "district": "所属区/县级市",
    "park": "园区",
    "founded_on": "成立日期",
    "size_class": "企业规模",
    "status": "状态",
    "above_designated_size": "规模以上",
}
MEMBERSHIP_COLUMNS = {
    "cluster": "所属集群",
    "primary_sector": "主营领域",
    "in_cluster_from": "纳入集群日期",
    "in_cluster_until": "退出集群日期",
}
ENTERPRISE_COLUMNS = {**FIRM_COLUMNS, **MEMBERSHIP_COLUMNS}
# A membership's field → the column a user fills it in.
MEMBERSHIP_FIELD_COLUMNS = {
    "cluster": "cluster",
    "sector": "primary_sector",
    "joined_on": "in_cluster_from",
    "left_on": "in_cluster_until",
    "enterprise": "uscc",
}
EXPORTED_MEMBERSHIPS = "exported_memberships"
NEEDS_SECTOR = gettext_lazy(
    "Name the firm's primary sector: a material of the cluster's sector tree, by code or name."
)


class SectorLookup:
    """A sector named by code or name in the tree of the row's cluster. A name found only in
    another cluster's tree names that sector, for the register's rule to refuse with its
    reason; the whole table (small) is read once per import."""

    def __init__(self) -> None:
        self._index: tuple[dict, dict] | None = None

    def reset(self) -> None:
        self._index = None

    def clean(self, value, cluster: Cluster | None) -> Sector | None:
        text = str(value).strip() if value is not None else ""
        if not text:
            return None
        if self._index is None:
            by_cluster, anywhere = {}, {}
            for sector in Sector.objects.order_by("cluster__sort_order", "code"):
                for key in (sector.code, sector.name_zh, sector.name_en):
                    if key:
                        by_cluster.setdefault((sector.cluster_id, key.strip()), sector)
                        anywhere.setdefault(key.strip(), sector)
            self._index = (by_cluster, anywhere)
        by_cluster, anywhere = self._index
        found = by_cluster.get((cluster.pk if cluster else None, text)) or anywhere.get(text)
        if found is None:
            raise ValueError(_("No sector with the code or name %(value)r.") % {"value": text})
        return found


class EnterpriseResource(HistoricalBulkResourceMixin, resources.ModelResource):
    district = fields.Field(
        attribute="district",
        column_name="district",
        widget=LookupWidget(District, ("code", "name_zh", "name_en")),
    )
    park = fields.Field(
        attribute="park", column_name="park", widget=LookupWidget(Park, ("name_zh", "name_en"))
    )
    founded_on = fields.Field(attribute="founded_on", column_name="founded_on", widget=DayWidget())
    size_class = fields.Field(
        attribute="size_class", column_name="size_class", widget=ChoiceWidget(SizeClass)
    )
    status = fields.Field(
        attribute="status", column_name="status", widget=ChoiceWidget(EnterpriseStatus)
    )
    # The membership's columns: no attribute of the firm; read by _membership_of_row and
    # written by dehydrate_* on export.
    cluster = fields.Field(
        column_name="cluster", widget=LookupWidget(Cluster, ("key", "name_zh", "name_en"))
    )
    primary_sector = fields.Field(column_name="primary_sector")
    in_cluster_from = fields.Field(column_name="in_cluster_from", widget=DayWidget())
    in_cluster_until = fields.Field(column_name="in_cluster_until", widget=DayWidget())

    class Meta:
        model = Enterprise
        import_id_fields = ("uscc",)
        fields = tuple(ENTERPRISE_COLUMNS)
        export_order = fields
        use_bulk = True
        batch_size = 1000
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def get_queryset(self):
        return super().get_queryset().select_related("district", "park")

    def get_bulk_update_fields(self):
        return [field for field in FIRM_COLUMNS if field not in self._meta.import_id_fields]

    # --- import ---------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        super().before_import(dataset, **kwargs)
        self._sectors = SectorLookup()
        self._lines = kwargs.get("lines")
        self._firms: dict[str, tuple[int, dict]] = {}  # USCC → its first row and its values
        # Each row's membership: (the firm's USCC, membership, whether the row changes it).
        self._pending: list[tuple[str, ClusterMembership, bool]] = []
        self._row: dict = {}
        clusters = list(Cluster.objects.all()[:2])
        self._only_cluster = clusters[0] if len(clusters) == 1 else None
        usccs = {str(code).strip() for code in dataset["uscc"]} if "uscc" in dataset.headers else ()
        self._stored: dict[str, list[ClusterMembership]] = {}
        stored = ClusterMembership.objects.filter(enterprise__uscc__in=usccs).select_related(
            "enterprise"
        )
        for membership in stored.order_by("joined_on", "pk"):
            self._stored.setdefault(membership.enterprise.uscc, []).append(membership)

    def _line(self, row_number: int) -> int:
        """The line shown for a row: the file's (the import page knows it) or the row's."""
        if self._lines and 0 < row_number <= len(self._lines):
            return self._lines[row_number - 1]
        return row_number

    def import_instance(self, instance, row, **kwargs):
        """The firm's fields, then its membership of the row's cluster: every error of the row
        at once, each on its column. A district officer imports only firms of their own
        district."""
        district_before = instance.district_id if instance.pk else None
        new_firm = instance.pk is None
        errors: dict = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if self._history_user is not None:
            scope = scope_of(self._history_user)
            if instance.pk and not scope.covers(district_before):
                errors.setdefault("uscc", []).append(_("The firm belongs to another district."))
            elif "district" not in errors and not scope.covers(instance.district_id):
                errors.setdefault("district", []).append(
                    _("You can only register firms of your own district.")
                )
        row_number = kwargs.get("row_number", 0)
        uscc = instance.uscc
        first = self._firms.get(uscc)
        self._row = {"repeats": first is not None, "membership": None}
        if first is not None:
            line, values = first
            for field in FIRM_COLUMNS:
                if field in row and self.fields[field].get_value(instance) != values.get(field):
                    errors.setdefault(field, []).append(
                        _("This firm's details differ from those of line %(line)s.")
                        % {"line": line}
                    )
                    break
        else:
            self._firms[uscc] = (
                self._line(row_number),
                {field: self.fields[field].get_value(instance) for field in FIRM_COLUMNS},
            )
        try:
            self._row["membership"] = self._membership_of_row(
                instance, row, new_firm=new_firm and first is None
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def _membership_of_row(self, firm: Enterprise, row, *, new_firm: bool):
        """The membership the row describes — a stored one of the firm in that cluster (the
        one joined on the same day, else the one whose period the row's overlaps) or a new
        one — changed as the row says and checked by the register's rules; None when the row
        leaves the membership columns empty (a firm registered before keeps its memberships).
        """
        cells = {column: row.get(column) for column in MEMBERSHIP_COLUMNS}
        if all(value in (None, "") for value in cells.values()):
            if new_firm:
                raise ValidationError({"primary_sector": NEEDS_SECTOR})
            return None
        errors: dict = {}
        values = {}
        for column in ("cluster", "in_cluster_from", "in_cluster_until"):
            try:
                values[column] = self.fields[column].widget.clean(cells[column])
            except ValueError as error:
                errors[column] = [str(error)]
        cluster = values.get("cluster") or (None if "cluster" in errors else self._only_cluster)
        if cluster is None and "cluster" not in errors:
            errors["cluster"] = [_("Name the cluster (its key or name): the city has several.")]
        try:
            sector = self._sectors.clean(cells["primary_sector"], cluster)
        except ValueError as error:
            errors["primary_sector"] = [str(error)]
            sector = None
        if errors:
            raise ValidationError(errors)
        joined, left = values["in_cluster_from"], values["in_cluster_until"]
        membership = self._stored_membership(firm, cluster, joined, left)
        if membership is None:
            membership = ClusterMembership(enterprise=firm if firm.pk else None, cluster=cluster)
        else:
            membership = copy.copy(membership)
        if sector is None and membership.pk is None:
            raise ValidationError({"primary_sector": NEEDS_SECTOR})
        before = (membership.sector_id, membership.joined_on, membership.left_on)
        membership.sector = sector or membership.sector
        membership.joined_on, membership.left_on = joined, left
        try:
            full_validate(membership, exclude=() if firm.pk else ("enterprise",))
        except ValidationError as error:
            raise ValidationError(
                {
                    MEMBERSHIP_FIELD_COLUMNS.get(field, NON_FIELD_ERRORS): messages
                    for field, messages in error.message_dict.items()
                }
            ) from None
        for uscc, other, _changed in self._pending:
            if (
                uscc == firm.uscc
                and other.cluster_id == membership.cluster_id
                and (other.overlaps(membership) or (other.pk and other.pk == membership.pk))
            ):
                raise ValidationError({"in_cluster_from": [OVERLAP]})
        changed = membership.pk is None or before != (
            membership.sector_id,
            membership.joined_on,
            membership.left_on,
        )
        self._pending.append((firm.uscc, membership, changed))
        return membership if changed else None

    def _stored_membership(self, firm, cluster, joined, left) -> ClusterMembership | None:
        if firm.pk is None:
            return None
        stored = [m for m in self._stored.get(firm.uscc, []) if m.cluster_id == cluster.pk]
        for membership in stored:
            if membership.joined_on == joined:
                return membership
        row = ClusterMembership(joined_on=joined, left_on=left)
        overlapping = [m for m in stored if m.overlaps(row)]
        return overlapping[0] if len(overlapping) == 1 else None

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """A firm's second row writes no firm (its first did); its membership is written
        after the firms."""
        if not import_validation_errors and self._row.get("repeats"):
            return True
        return super().skip_row(instance, original, row, import_validation_errors)

    def after_import_row(self, row, row_result, **kwargs):
        super().after_import_row(row, row_result, **kwargs)
        if row_result.import_type == RowResult.IMPORT_TYPE_SKIP and self._row.get("membership"):
            row_result.import_type = RowResult.IMPORT_TYPE_UPDATE

    def after_import(self, dataset, result, **kwargs):
        """The rows' memberships, once their firms are written: each through the register's
        service, which checks it again (under the firm's lock) and credits the history."""
        super().after_import(dataset, result, **kwargs)
        if result.has_errors() or result.has_validation_errors():
            return
        changed = [(uscc, membership) for uscc, membership, changes in self._pending if changes]
        firms = dict(
            Enterprise.objects.filter(uscc__in={uscc for uscc, _m in changed}).values_list(
                "uscc", "pk"
            )
        )
        for uscc, membership in changed:
            membership.enterprise_id = firms[uscc]
            membership._change_reason = _("import")
            record_save(actor=self._history_user, record=membership)

    # --- export: a row per membership -----------------------------------------------------

    def export(self, queryset=None, **kwargs):
        queryset = self.get_queryset() if queryset is None else queryset
        queryset = queryset.prefetch_related(
            Prefetch(
                "memberships",
                ClusterMembership.objects.select_related("cluster", "sector").order_by(
                    "cluster__sort_order", "joined_on", "pk"
                ),
                to_attr=EXPORTED_MEMBERSHIPS,
            )
        )
        return super().export(queryset=queryset, **kwargs)

    def iter_queryset(self, queryset):
        for firm in super().iter_queryset(queryset):
            memberships = getattr(firm, EXPORTED_MEMBERSHIPS, [])
            if not memberships:
                yield firm
            for membership in memberships:
                row = copy.copy(firm)
                row.exported_membership = membership
                yield row

    def _exported(self, firm) -> ClusterMembership | None:
        return getattr(firm, "exported_membership", None)

    def dehydrate_cluster(self, firm) -> str:
        membership = self._exported(firm)
        return membership.cluster.key if membership else ""

    def dehydrate_primary_sector(self, firm) -> str:
        membership = self._exported(firm)
        return membership.sector.code if membership else ""

    def dehydrate_in_cluster_from(self, firm) -> str:
        membership = self._exported(firm)
        return membership.joined_on.isoformat() if membership and membership.joined_on else ""

    def dehydrate_in_cluster_until(self, firm) -> str:
        membership = self._exported(firm)
        return membership.left_on.isoformat() if membership and membership.left_on else ""

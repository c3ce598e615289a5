"""Import and export of the register through django-import-export.

Rows are written in bulk, and the bulk writes go through simple-history's bulk helpers so
that an import leaves the same history as an edit in the admin.
"""

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils import translation
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from cluster.access import scope_of
from cluster.models import District, Park

from .choices import EnterpriseStatus, SizeClass
from .models import Enterprise


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
                bulk_update_with_history(
                    self.update_instances,
                    self._meta.model,
                    self.get_bulk_update_fields(),
                    batch_size=batch_size,
                    default_user=self._history_user,
                    default_change_reason=_("import"),
                )
            except Exception as exc:
                self.handle_import_error(result, exc, raise_errors)
            finally:
                self.update_instances.clear()


# The columns of the enterprise template, import and export, with their Chinese headers.
ENTERPRISE_COLUMNS = {
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


class EnterpriseResource(HistoricalBulkResourceMixin, resources.ModelResource):
    district = fields.Field(
        attribute="district",
        column_name="district",
        widget=LookupWidget(District, ("code", "name_zh", "name_en")),
    )
    park = fields.Field(
        attribute="park", column_name="park", widget=LookupWidget(Park, ("name_zh", "name_en"))
    )
    size_class = fields.Field(
        attribute="size_class", column_name="size_class", widget=ChoiceWidget(SizeClass)
    )
    status = fields.Field(
        attribute="status", column_name="status", widget=ChoiceWidget(EnterpriseStatus)
    )

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

    def import_instance(self, instance, row, **kwargs):
        """A district officer imports only firms of their own district."""
        district_before = instance.district_id if instance.pk else None
        super().import_instance(instance, row, **kwargs)
        if self._history_user is None:
            return
        scope = scope_of(self._history_user)
        if instance.pk and not scope.covers(district_before):
            raise ValidationError({"uscc": _("The firm belongs to another district.")})
        if not scope.covers(instance.district_id):
            raise ValidationError(
                {"district": _("You can only register firms of your own district.")}
            )

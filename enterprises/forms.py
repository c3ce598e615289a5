from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from cluster.access import scope_of
from cluster.models import District, Park, Sector

from .models import ClusterMembership, Designation, Enterprise, Listing, Milestone
from .services.register.rules import (
    OVERLAP,
    further_sectors_in_the_clusters_tree,
    project_counts_toward_a_cluster,
    rules_validate,
)


class EnterpriseForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = [
            "uscc",
            "name_zh",
            "name_en",
            "district",
            "park",
            "founded_on",
            "size_class",
            "above_designated_size",
            "status",
        ]
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        districts = scope.filter(District.objects.all(), "pk")
        self.fields["district"].queryset = districts
        self.fields["park"].queryset = Park.objects.filter(district__in=districts)
        if not scope.is_city and districts.count() == 1:
            self.fields["district"].initial = districts.first()
        self.fields["uscc"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "maxlength": 18}
        )


class RegisterRecordForm(forms.ModelForm):
    """A form for a firm's record or a research project (the page's rows, the admin): the
    checks beyond its fields are the services' own (`rules_validate`), so a form names the
    same field with the same message as the API."""

    def validate_constraints(self):
        try:
            rules_validate(self.instance, exclude=self._get_validation_exclusions())
        except ValidationError as error:
            self._update_errors(error)


class ResearchProjectForm(RegisterRecordForm):
    """A research project in the admin: whether it may name no cluster is the register's rule,
    answered on the clusters field in the services' words."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "clusters" in self.fields:
            self.fields["clusters"].required = False

    def validate_constraints(self):
        super().validate_constraints()
        if "clusters" in self.fields and "clusters" not in self.errors:
            try:
                project_counts_toward_a_cluster(self.instance, self.cleaned_data.get("clusters"))
            except ValidationError as error:
                self._update_errors(error)


def _formset(model, fields, widgets=None):
    return inlineformset_factory(
        Enterprise,
        model,
        form=RegisterRecordForm,
        fields=fields,
        extra=1,
        can_delete=True,
        widgets=widgets or {},
    )


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DesignationFormSet = _formset(
    Designation,
    ["type", "tier", "issuer", "certificate_no", "valid_from", "valid_to"],
    {"valid_from": DATE, "valid_to": DATE},
)
ListingFormSet = _formset(
    Listing,
    ["venue", "ticker", "listed_on", "delisted_on"],
    {"listed_on": DATE, "delisted_on": DATE},
)
MilestoneFormSet = _formset(
    Milestone,
    ["kind", "occurred_on", "amount", "note"],
    {"occurred_on": DATE, "note": forms.TextInput()},
)


def grouped_materials() -> list:
    """Every cluster's materials as choices grouped by cluster › focus direction, read once
    per formset (a row's choices are the same for every row)."""
    groups: dict[str, list] = {}
    materials = Sector.objects.materials().select_related("cluster", "parent")
    for material in materials.order_by(
        "cluster__sort_order", "cluster__key", "parent__sort_order", "parent__code", "code"
    ):
        group = f"{material.cluster} › {material.parent}"
        groups.setdefault(group, []).append((material.pk, f"{material.code} {material}"))
    return list(groups.items())


class MembershipForm(RegisterRecordForm):
    """A firm's membership of a cluster. The sectors are offered grouped by cluster and focus
    direction; one of another cluster's tree is refused by the register's rules, on its
    field, as through every other door."""

    def __init__(self, *args, materials: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if "sector" not in self.fields:
            return  # the view-only page: every field is read-only
        materials = grouped_materials() if materials is None else materials
        self.fields["sector"].choices = [("", "---------"), *materials]
        self.fields["further_sectors"].choices = materials

    def validate_constraints(self):
        super().validate_constraints()
        if not {"cluster", "further_sectors"} & set(self.errors):
            try:
                further_sectors_in_the_clusters_tree(
                    self.instance, self.cleaned_data.get("further_sectors") or ()
                )
            except ValidationError as error:
                self._update_errors(error)


class BaseMembershipFormSet(BaseInlineFormSet):
    """A firm's memberships as rows of a page or of the admin: the rows together, as they are
    about to be saved, still follow the register's rules — no two of one cluster overlap —
    and a firm belongs to at least one cluster."""

    def __init__(self, *args, **kwargs):
        kwargs["form_kwargs"] = {**kwargs.get("form_kwargs", {}), "materials": grouped_materials()}
        super().__init__(*args, **kwargs)

    def clean(self):
        super().clean()
        kept = [
            form
            for form in self.forms
            if form.is_valid()
            and not self._should_delete_form(form)
            and (form.instance.pk is not None or form.has_changed())
        ]
        for index, form in enumerate(kept):
            if any(
                other.instance.cluster_id == form.instance.cluster_id
                and other.instance.overlaps(form.instance)
                for other in kept[:index]
            ):
                form.add_error("joined_on", OVERLAP)
        if not kept and not any(form.errors for form in self.forms):
            raise ValidationError(
                _("A firm belongs to at least one cluster: enter its membership.")
            )


MembershipFormSet = inlineformset_factory(
    Enterprise,
    ClusterMembership,
    form=MembershipForm,
    formset=BaseMembershipFormSet,
    fields=["cluster", "sector", "further_sectors", "joined_on", "left_on"],
    extra=1,
    can_delete=True,
    widgets={
        "joined_on": DATE,
        "left_on": DATE,
        "further_sectors": forms.SelectMultiple(attrs={"size": 6}),
    },
)

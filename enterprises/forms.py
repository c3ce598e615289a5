from django import forms
from django.core.exceptions import ValidationError
from django.db.models.fields import BLANK_CHOICE_LABEL
from django.forms import BaseInlineFormSet, inlineformset_factory
from django.utils.translation import gettext_lazy as _

from cluster.access import scope_of
from cluster.models import Cluster, District, Park, Sector

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
        districts = list(scope.filter(District.objects.all(), "pk"))
        self.fields["district"].queryset = scope.filter(District.objects.all(), "pk")
        parks = Park.objects.filter(district__in=districts).select_related("district")
        self.fields["park"].queryset = parks
        if len(districts) == 1:
            # An officer's firm can only be of their district: nothing to choose. (The
            # instance's own empty district would otherwise win over a field's initial.)
            self.fields["district"].empty_label = None
            if self.instance.district_id is None:
                self.initial["district"] = districts[0].pk
        else:
            self.fields["park"].choices = [("", BLANK_CHOICE_LABEL), *parks_by_district(parks)]
        self.fields["uscc"].widget.attrs.update(
            {"autocomplete": "off", "spellcheck": "false", "maxlength": 18}
        )


def parks_by_district(parks) -> list:
    """Parks as choices grouped by their district, for a user who chooses among several."""
    groups: dict[District, list] = {}
    for park in parks.order_by("district__sort_order", "district__code", "name_zh"):
        groups.setdefault(park.district, []).append((park.pk, str(park)))
    return [(str(district), choices) for district, choices in groups.items()]


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
    """Every cluster's materials as choices grouped by focus direction (by cluster › focus
    direction when materials of several clusters are offered), read once per formset (a
    row's choices are the same for every row)."""
    materials = list(
        Sector.objects.materials()
        .select_related("cluster", "parent")
        .order_by(
            "cluster__sort_order", "cluster__key", "parent__sort_order", "parent__code", "code"
        )
    )
    several_clusters = len({material.cluster_id for material in materials}) > 1
    groups: dict[str, list] = {}
    for material in materials:
        group = str(material.parent)
        if several_clusters:
            group = f"{material.cluster} › {group}"
        groups.setdefault(group, []).append((material.pk, f"{material.code} {material}"))
    return list(groups.items())


class MembershipForm(RegisterRecordForm):
    """A firm's membership of a cluster. The sectors are offered grouped by cluster and focus
    direction; one of another cluster's tree is refused by the register's rules, on its
    field, as through every other door."""

    def __init__(
        self, *args, materials: list | None = None, only_cluster: Cluster | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        if "sector" not in self.fields:
            return  # the view-only page: every field is read-only
        materials = grouped_materials() if materials is None else materials
        self.fields["sector"].choices = [("", BLANK_CHOICE_LABEL), *materials]
        self.fields["further_sectors"].choices = materials
        if only_cluster is not None and self.instance.cluster_id is None:
            # Chosen already, the cluster of an untouched extra row still counts as unchanged
            # (it is the row's initial), so the row is skipped as an empty one.
            self.initial.setdefault("cluster", only_cluster.pk)

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
        clusters = list(Cluster.objects.all()[:2])
        kwargs["form_kwargs"] = {
            **kwargs.get("form_kwargs", {}),
            "materials": grouped_materials(),
            "only_cluster": clusters[0] if len(clusters) == 1 else None,
        }
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

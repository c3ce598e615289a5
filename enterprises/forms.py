from django import forms
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory

from cluster.access import scope_of
from cluster.models import District, Park, Sector

from .models import ClusterMembership, Designation, Enterprise, Listing, Milestone
from .services.register.rules import rules_validate


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


class MembershipForm(RegisterRecordForm):
    """A firm's membership of a cluster: the sectors offered are the materials of the cluster
    chosen (a sector of another cluster's tree is refused by the model's clean)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        materials = Sector.objects.materials().select_related("cluster", "parent")
        self.fields["sector"].queryset = materials
        self.fields["further_sectors"].queryset = materials
        self.fields["sector"].label_from_instance = _sector_label
        self.fields["further_sectors"].label_from_instance = _sector_label


def _sector_label(sector: Sector) -> str:
    return f"{sector.cluster} › {sector.parent} › {sector}"


MembershipFormSet = inlineformset_factory(
    Enterprise,
    ClusterMembership,
    form=MembershipForm,
    fields=["cluster", "sector", "further_sectors", "joined_on", "left_on"],
    extra=1,
    can_delete=True,
    widgets={
        "joined_on": DATE,
        "left_on": DATE,
        "further_sectors": forms.SelectMultiple(attrs={"size": 6}),
    },
)

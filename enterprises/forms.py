from django import forms
from django.core.exceptions import ValidationError
from django.forms import inlineformset_factory

from cluster.access import scope_of
from cluster.models import District, Park, Sector

from .models import Designation, Enterprise, Listing, Milestone
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
            "primary_sector",
            "sectors",
            "founded_on",
            "size_class",
            "above_designated_size",
            "status",
            "in_cluster_from",
            "in_cluster_until",
        ]
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "in_cluster_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "in_cluster_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "sectors": forms.SelectMultiple(attrs={"size": 8}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        scope = scope_of(user)
        districts = scope.filter(District.objects.all(), "pk")
        self.fields["district"].queryset = districts
        self.fields["park"].queryset = Park.objects.filter(district__in=districts)
        self.fields["primary_sector"].queryset = Sector.objects.materials().select_related("parent")
        self.fields["sectors"].queryset = Sector.objects.materials()
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

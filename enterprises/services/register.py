"""Registering and editing firms with their designations, listings and milestones."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cluster.access import scope_of

from ..models import Enterprise


@transaction.atomic
def enterprise_save(*, actor, form, formsets) -> Enterprise:
    """Save a validated enterprise form and its inline formsets as one change."""
    scope = scope_of(actor)
    enterprise = form.instance
    district_before = (
        Enterprise.objects.filter(pk=enterprise.pk).values_list("district", flat=True).first()
        if enterprise.pk
        else None
    )
    if not scope.can_edit or not scope.covers(form.cleaned_data["district"].pk):
        raise PermissionDenied
    if district_before is not None and not scope.covers(district_before):
        raise PermissionDenied
    enterprise._history_user = actor
    enterprise = form.save()
    for formset in formsets:
        formset.instance = enterprise
        formset.save()
    return enterprise

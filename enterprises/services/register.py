"""Registering and editing firms with their designations, listings and milestones."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cluster.access import scope_of
from cluster.models import District

from ..models import Enterprise


@transaction.atomic
def enterprise_save(*, actor, writer, district: District, formsets=()) -> Enterprise:
    """Save a validated enterprise form (pages) or serializer (API), and the page's inline
    formsets, as one change. Both the district it moves to and the one it comes from must
    be in the actor's scope."""
    scope = scope_of(actor)
    current = getattr(writer, "instance", None)
    district_before = (
        Enterprise.objects.filter(pk=current.pk).values_list("district", flat=True).first()
        if current is not None and current.pk
        else None
    )
    if not scope.can_edit or not scope.covers(district.pk):
        raise PermissionDenied
    if district_before is not None and not scope.covers(district_before):
        raise PermissionDenied
    if current is not None:
        current._history_user = actor
    enterprise = writer.save()
    for formset in formsets:
        formset.instance = enterprise
        formset.save()
    return enterprise

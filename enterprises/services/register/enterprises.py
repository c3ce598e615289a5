"""Registering and editing firms, with the rows of their page (designations, listings,
milestones) saved in the same change."""

from django.db import transaction

from cluster.models import District

from ...models import Enterprise
from .records import records_save
from .rules import counting_changed, require_writable


@transaction.atomic
def enterprise_save(*, actor, writer, district: District, formsets=()) -> Enterprise:
    """Save a validated enterprise form (pages) or serializer (API), and the page's inline
    formsets of the firm's records, as one change. Both the district it moves to and the
    one it comes from must be in the actor's scope."""
    current = getattr(writer, "instance", None)
    district_before = (
        Enterprise.objects.filter(pk=current.pk).values_list("district", flat=True)
        if current is not None and current.pk
        else []
    )
    require_writable(actor, [district.pk, *district_before])
    if current is not None:
        current._history_user = actor
    enterprise = writer.save()
    for formset in formsets:
        formset.instance = enterprise
        records_save(actor=actor, formset=formset)
    counting_changed(enterprise)
    return enterprise

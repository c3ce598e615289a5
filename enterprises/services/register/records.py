"""A firm's records: its cluster memberships, designations, listings and milestones. The
API's endpoints, the enterprise page's rows, the admin's pages, the enterprise admin's
inline rows and the enterprise import all write them through these functions."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from cluster.models import Sector

from ...models import ClusterMembership, Designation, Enterprise, Listing, Milestone
from .rules import (
    full_validate,
    further_sectors_in_the_clusters_tree,
    remove,
    require_writable,
    store,
)

FirmRecord = ClusterMembership | Designation | Listing | Milestone


def _stored_district(record: FirmRecord) -> list[int]:
    """The district of the firm the stored record belongs to (none for a new record)."""
    if record.pk is None:
        return []
    return list(
        type(record).objects.filter(pk=record.pk).values_list("enterprise__district", flat=True)
    )


@transaction.atomic
def record_save(
    *, actor, record: FirmRecord, further_sectors: Iterable[Sector] | None = None
) -> FirmRecord:
    """Create or change a membership, designation, listing or milestone. The firm it belonged
    to and the firm it belongs to now must both be in the actor's scope. `further_sectors`,
    when given, replaces a membership's further sectors.

    The firm's row is locked first: two writes of the same firm's records (two memberships
    of one cluster, say) are checked one after the other, never both against the state
    before either."""
    firm_district = list(
        Enterprise.objects.select_for_update()
        .filter(pk=record.enterprise_id)
        .values_list("district", flat=True)
    )
    require_writable(actor, [*_stored_district(record), *firm_district])
    further_sectors = None if further_sectors is None else list(further_sectors)
    errors: dict = {}
    try:
        full_validate(record)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if further_sectors is not None:
        try:
            further_sectors_in_the_clusters_tree(record, further_sectors)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    store(record, actor=actor)
    if further_sectors is not None:
        record.further_sectors.set(further_sectors)
    return record


@transaction.atomic
def record_delete(*, actor, record: FirmRecord) -> None:
    require_writable(actor, _stored_district(record))
    remove(record, actor=actor)


def _further_sectors(form) -> list[Sector] | None:
    return form.cleaned_data.get("further_sectors") if "further_sectors" in form.fields else None


@transaction.atomic
def records_save(*, actor, formset) -> None:
    """The rows of a validated inline formset of a firm's records (the enterprise page, the
    enterprise admin): deleted rows, then new and changed ones, each through the services."""
    formset.save(commit=False)
    for record in formset.deleted_objects:
        record_delete(actor=actor, record=record)
    for form in formset.saved_forms:
        record_save(actor=actor, record=form.instance, further_sectors=_further_sectors(form))

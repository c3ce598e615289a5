"""A firm's records: its cluster memberships, designations, listings and milestones. The
API's endpoints, the enterprise page's rows, the admin's pages and the enterprise admin's
inline rows all write them through these functions."""

from __future__ import annotations

from django.db import transaction

from ...models import ClusterMembership, Designation, Enterprise, Listing, Milestone
from .rules import full_validate, remove, require_writable, store

FirmRecord = ClusterMembership | Designation | Listing | Milestone


def _stored_district(record: FirmRecord) -> list[int]:
    """The district of the firm the stored record belongs to (none for a new record)."""
    if record.pk is None:
        return []
    return list(
        type(record).objects.filter(pk=record.pk).values_list("enterprise__district", flat=True)
    )


@transaction.atomic
def record_save(*, actor, record: FirmRecord) -> FirmRecord:
    """Create or change a designation, listing or milestone. The firm it belonged to and the
    firm it belongs to now must both be in the actor's scope."""
    firm_district = Enterprise.objects.filter(pk=record.enterprise_id).values_list(
        "district", flat=True
    )
    require_writable(actor, [*_stored_district(record), *firm_district])
    full_validate(record)
    store(record, actor=actor)
    return record


@transaction.atomic
def record_delete(*, actor, record: FirmRecord) -> None:
    require_writable(actor, _stored_district(record))
    remove(record, actor=actor)


@transaction.atomic
def records_save(*, actor, formset) -> None:
    """The rows of a validated inline formset of a firm's records (the enterprise page, the
    enterprise admin): deleted rows, then new and changed ones, each through the services."""
    records = formset.save(commit=False)
    for record in formset.deleted_objects:
        record_delete(actor=actor, record=record)
    for record in records:
        record_save(actor=actor, record=record)
    formset.save_m2m()  # a membership's further sectors

"""What every write of the register checks, defined once: who may write where, the model's
validation with each error on the field a user would correct, and saving or deleting with
the history credited to the actor."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from cluster.access import scope_of
from cluster.jobs import enqueue_on_commit
from cluster.models import Sector

from ...choices import ListingVenue, MilestoneKind
from ...models import (
    ClusterMembership,
    CountingChange,
    Enterprise,
    Listing,
    Milestone,
    ResearchProject,
)

# Constraints whose violation is about one field: the error is put on it, so that every door
# (API field errors, a form's field, a formset row's cell) shows it beside that field.
CONSTRAINT_FIELDS = {
    "membership_joined_on_before_left_on": "left_on",
    "designation_valid_from_before_valid_to": "valid_to",
    "designation_unique_award": "type",
    "listing_ticker_unique": "ticker",
    "listing_listed_on_before_delisted_on": "delisted_on",
    "milestone_amount_non_negative": "amount",
    "project_started_on_before_ends_on": "ends_on",
    "project_funding_non_negative": "funding",
    "project_has_lead": "lead_enterprise",
}


def require_writable(actor, district_ids: Iterable[int]) -> None:
    """Who may write the register: a role that may edit, and every district the change
    touches (where the object was, where it goes) in the actor's scope."""
    scope = scope_of(actor)
    if not scope.can_edit or not all(scope.covers(district) for district in district_ids):
        raise PermissionDenied


def quotation_is_not_a_listing(listing: Listing, exclude: set[str]) -> None:
    """A NEEQ (新三板) quotation is not a listing, so it is not registered as one. Quotations
    registered before this rule stay readable (counted as no listing) and can be corrected
    or deleted; only a new row or a change of venue to a quotation is refused."""
    if "venue" in exclude or listing.venue not in ListingVenue.quotations():
        return
    if listing.pk is not None:
        stored = Listing.objects.filter(pk=listing.pk).values_list("venue", flat=True).first()
        if stored == listing.venue:
            return
    raise ValidationError({"venue": _("A NEEQ (New Third Board) quotation is not a listing.")})


def sector_in_the_clusters_tree(membership: ClusterMembership, exclude: set[str]) -> None:
    """A membership's primary sector is a material (not a whole focus direction) of the tree
    of the cluster it is a membership of."""
    if {"sector", "cluster"} & exclude or not (membership.sector_id and membership.cluster_id):
        return
    if membership.sector.level != Sector.Level.MATERIAL:
        raise ValidationError(
            {"sector": _("Choose a material as the primary sector, not a whole focus direction.")}
        )
    if membership.sector.cluster_id != membership.cluster_id:
        raise ValidationError({"sector": _("Choose a material of this cluster's sector tree.")})


def further_sectors_in_the_clusters_tree(
    membership: ClusterMembership, sectors: Iterable[Sector]
) -> None:
    """A membership's further sectors are materials of its cluster's tree too."""
    if not membership.cluster_id:
        return
    if any(
        sector.level != Sector.Level.MATERIAL or sector.cluster_id != membership.cluster_id
        for sector in sectors
    ):
        raise ValidationError(
            {"further_sectors": _("Further sectors are materials of this cluster's sector tree.")}
        )


OVERLAP = _("The firm is already a member of this cluster for part of this period.")


def one_membership_of_a_cluster_at_a_time(membership: ClusterMembership, exclude: set[str]) -> None:
    """A firm's memberships of one cluster do not overlap: a firm that left and came back has
    two memberships, one after the other."""
    if {"enterprise", "cluster", "joined_on", "left_on"} & exclude:
        return
    if not (membership.enterprise_id and membership.cluster_id):
        return
    others = ClusterMembership.objects.filter(
        enterprise_id=membership.enterprise_id, cluster_id=membership.cluster_id
    ).exclude(pk=membership.pk)
    if any(membership.overlaps(other) for other in others):
        raise ValidationError({"joined_on": OVERLAP})


def project_counts_toward_a_cluster(project: ResearchProject, clusters: Iterable | None) -> None:
    """A research project counts toward the plans of the clusters it names: one that names
    none would count toward no target. `clusters` None keeps a stored project's clusters."""
    if clusters is None and project.pk is not None:
        return
    if not clusters:
        raise ValidationError(
            {
                "clusters": _(
                    "Name the clusters whose plans the project counts toward: a project of no "
                    "cluster counts toward no target."
                )
            }
        )


# The register's rules beyond its models' own validation, per model.
RULES = {
    ClusterMembership: (sector_in_the_clusters_tree, one_membership_of_a_cluster_at_a_time),
    Listing: (quotation_is_not_a_listing,),
}


def rules_validate(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """The model's constraints, each violation on its field, and the register's rules for
    the model. Forms call this where Django would check constraints (they have validated
    the fields already); `full_validate` calls it for the services."""
    exclude = set(exclude)
    errors: dict[str, list[ValidationError]] = {}
    for constraint in instance._meta.constraints:
        try:
            constraint.validate(type(instance), instance, exclude=exclude)
        except ValidationError as error:
            field = CONSTRAINT_FIELDS.get(constraint.name, NON_FIELD_ERRORS)
            errors.setdefault(field, []).extend(error.error_list)
    for rule in RULES.get(type(instance), ()):
        try:
            rule(instance, exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def full_validate(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Fields, the model's clean(), uniqueness, then `rules_validate` on the fields that
    passed: every error at once, each on its field. `exclude`: fields not known yet (the
    firm of a membership whose firm an import is registering)."""
    exclude = set(exclude)
    errors: dict = {}
    try:
        instance.full_clean(exclude=exclude, validate_constraints=False)
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    try:
        rules_validate(
            instance, exclude=exclude | {name for name in errors if name != NON_FIELD_ERRORS}
        )
    except ValidationError as error:
        errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def counting_changed(instance: models.Model, *, clusters_before=()) -> None:
    """After a write that can move who counts where or who is expected to report (a firm: its
    district, status, founding; a membership; a moved-out milestone), the targets engine
    stores its clusters' page figures again once the write commits: a CountingChange row per
    cluster in this transaction, and a job that drains them (by task name: the register does
    not import the targets app). A burst of writes (an import) is drained by one job."""
    if isinstance(instance, ClusterMembership):
        firm, clusters = instance.enterprise_id, {instance.cluster_id, *clusters_before}
    elif isinstance(instance, Enterprise):
        firm = instance.pk
        clusters = set(instance.memberships.values_list("cluster_id", flat=True))
    elif isinstance(instance, Milestone) and instance.kind == MilestoneKind.MOVED_OUT:
        firm = instance.enterprise_id
        clusters = set(
            ClusterMembership.objects.filter(enterprise_id=firm).values_list(
                "cluster_id", flat=True
            )
        )
    else:
        return
    if clusters:
        CountingChange.objects.bulk_create(
            CountingChange(enterprise_id=firm, cluster_id=cluster) for cluster in sorted(clusters)
        )
        enqueue_on_commit("targets.store_figures_again")


def store(instance: models.Model, *, actor) -> None:
    """Save a validated `instance`, its history credited to `actor`. A concurrent write that
    broke a constraint between the check and the save is answered like the check would
    have answered it, not with a database error."""
    instance._history_user = actor
    # A membership moved to another cluster changes the one it leaves too.
    before = (
        list(ClusterMembership.objects.filter(pk=instance.pk).values_list("cluster_id", flat=True))
        if isinstance(instance, ClusterMembership) and instance.pk
        else []
    )
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        full_validate(instance)
        raise
    counting_changed(instance, clusters_before=before)


def remove(instance: models.Model, *, actor) -> None:
    """Delete `instance`; its history keeps the deletion, credited to `actor`."""
    instance._history_user = actor
    counting_changed(instance)
    instance.delete()

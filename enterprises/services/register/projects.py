"""Research projects: written by the API and the admin through these functions."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from cluster.models import Cluster

from ...models import Enterprise, ResearchProject
from .rules import full_validate, project_counts_toward_a_cluster, remove, require_writable, store


def _touched_districts(project: ResearchProject, firm_ids: set[int]) -> list[int]:
    """The districts of the project (stored and new) and of every firm it names."""
    districts = {project.district_id}
    if project.pk is not None:
        stored = ResearchProject.objects.filter(pk=project.pk)
        districts.update(stored.values_list("district", flat=True))
        firm_ids |= set(stored.values_list("lead_enterprise", flat=True))
        firm_ids |= set(stored.values_list("partners", flat=True))
    firms = Enterprise.objects.filter(pk__in=firm_ids - {None})
    districts.update(firms.values_list("district", flat=True))
    return [district for district in districts if district is not None]


@transaction.atomic
def project_save(
    *,
    actor,
    project: ResearchProject,
    partners: Iterable[Enterprise] | None = None,
    clusters: Iterable[Cluster] | None = None,
) -> ResearchProject:
    """Create or change a research project; `partners` and `clusters`, when given, replace
    its partner firms and the clusters whose plans it counts toward (a new project names at
    least one). The project's district and every firm it names, before and after the
    change, must be in the actor's scope: a project shared with another district's firm is
    the city steward's to change."""
    partners = None if partners is None else list(partners)
    clusters = None if clusters is None else list(clusters)
    named = {project.lead_enterprise_id} - {None}
    named |= {firm.pk for firm in partners or ()}
    require_writable(actor, _touched_districts(project, named))
    errors: dict = {}
    for check in (
        lambda: full_validate(project),
        lambda: project_counts_toward_a_cluster(project, clusters),
    ):
        try:
            check()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    store(project, actor=actor)
    if partners is not None:
        project.partners.set(partners)
    if clusters is not None:
        project.clusters.set(clusters)
    return project


@transaction.atomic
def project_delete(*, actor, project: ResearchProject) -> None:
    require_writable(actor, _touched_districts(project, set()))
    remove(project, actor=actor)

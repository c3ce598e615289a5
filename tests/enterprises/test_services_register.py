"""The register's write services and the admin doors that call them: research projects,
deletions that leave history, and constraint violations named by field."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from cluster.access import Role
from cluster.models import Cluster, District
from enterprises.models import ClusterMembership, Designation, Listing, Milestone, ResearchProject
from enterprises.services.register import project_save, record_delete, record_save
from enterprises.services.register.rules import CONSTRAINT_FIELDS, store
from tests.conftest import KUNSHAN, SIP

pytestmark = pytest.mark.django_db


def test_every_constraint_named_for_a_field_exists_and_the_field_too():
    constraints = {
        constraint.name: model
        for model in (ClusterMembership, Designation, Listing, Milestone, ResearchProject)
        for constraint in model._meta.constraints
    }
    for name, field in CONSTRAINT_FIELDS.items():
        assert name in constraints, name
        constraints[name]._meta.get_field(field)
    # Every constraint of the register's records and projects is shown beside a field.
    assert set(constraints) == set(CONSTRAINT_FIELDS)


def test_a_duplicate_saved_by_someone_else_in_between_is_a_field_error_not_a_crash(
    designation_factory, officer_sip
):
    existing = designation_factory(valid_from=dt.date(2024, 1, 1))
    duplicate = Designation(
        enterprise=existing.enterprise,
        type=existing.type,
        tier=existing.tier,
        valid_from=existing.valid_from,
    )
    # store() is the step after validation: the database's constraint catches the
    # duplicate, and it is reported as the check would have reported it.
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        store(duplicate, actor=officer_sip)
    assert raised.value.message_dict == {
        "type": ["This firm already holds this designation at this tier from that date."]
    }
    assert Designation.objects.count() == 1


def test_a_record_moved_to_another_districts_firm_is_refused(
    enterprise_factory, designation_factory, officer_sip
):
    kunshan_firm = enterprise_factory(district=District.objects.get(code=KUNSHAN))
    designation = designation_factory(
        enterprise=enterprise_factory(district=District.objects.get(code=SIP))
    )
    designation.enterprise = kunshan_firm
    with pytest.raises(PermissionDenied):
        record_save(actor=officer_sip, record=designation)
    theirs = designation_factory(enterprise=kunshan_firm)
    with pytest.raises(PermissionDenied):
        record_delete(actor=officer_sip, record=theirs)
    assert Designation.objects.filter(enterprise=kunshan_firm).count() == 1


def test_a_projects_partners_are_checked_against_the_scope(enterprise_factory, officer_sip):
    sip, kunshan = District.objects.get(code=SIP), District.objects.get(code=KUNSHAN)
    mine, theirs = enterprise_factory(district=sip), enterprise_factory(district=kunshan)
    project = ResearchProject(
        title="共建项目",
        lead_enterprise=mine,
        district=sip,
        level="city",
        started_on=dt.date(2025, 1, 1),
    )
    nano = Cluster.objects.get(key="nano")
    with pytest.raises(PermissionDenied):
        project_save(actor=officer_sip, project=project, partners=[theirs], clusters=[nano])
    assert not ResearchProject.objects.exists()
    project_save(actor=officer_sip, project=project, partners=[mine], clusters=[nano])
    assert list(project.partners.all()) == [mine]
    assert list(project.clusters.all()) == [nano]


@pytest.fixture
def steward_client(client, city_steward):
    client.force_login(city_steward)
    return client


def project_form(**overrides):
    data = {
        "clusters": [Cluster.objects.get(key="nano").pk],
        "title": "纳米银线透明电极中试",
        "lead_enterprise": "",
        "lead_institution": "中国科学院苏州纳米所",
        "partner_institutions": "",
        "district": District.objects.get(code=SIP).pk,
        "level": "national",
        "is_major": "on",
        "funding": "",
        "started_on": "2025-04-01",
        "ends_on": "",
        "status": "ongoing",
    }
    data.update(overrides)
    return data


def test_the_admin_saves_a_project_with_its_partners_through_the_service(
    steward_client, city_steward, enterprise_factory
):
    partners = enterprise_factory.create_batch(2)
    response = steward_client.post(
        reverse("admin:enterprises_researchproject_add"),
        project_form(partners=[p.pk for p in partners]),
    )
    assert response.status_code == 302
    project = ResearchProject.objects.get()
    assert set(project.partners.all()) == set(partners)
    assert {h.history_user for h in project.history.all()} == {city_steward}
    assert project.history.earliest("history_date").history_type == "+"


def test_the_admin_names_the_field_of_a_project_that_ends_before_it_starts(steward_client):
    response = steward_client.post(
        reverse("admin:enterprises_researchproject_add"),
        project_form(ends_on="2025-03-31"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.context["adminform"].form.errors == {
        "ends_on": ["项目结束日期不能早于开始日期。"]
    }
    assert not ResearchProject.objects.exists()


def test_the_admin_refuses_a_project_of_no_cluster_in_the_services_words(steward_client):
    response = steward_client.post(
        reverse("admin:enterprises_researchproject_add"),
        project_form(clusters=[]),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.context["adminform"].form.errors == {
        "clusters": [
            "Name the clusters whose plans the project counts toward: a project of no cluster "
            "counts toward no target."
        ]
    }
    assert not ResearchProject.objects.exists()


def test_two_writes_of_one_firms_memberships_are_checked_one_after_the_other(
    enterprise_factory, officer_sip
):
    firm = enterprise_factory(joined_on=dt.date(2020, 1, 1), left_on=dt.date(2022, 12, 31))
    stored = firm.memberships.get()
    again = ClusterMembership(
        enterprise=firm, cluster=stored.cluster, sector=stored.sector, joined_on=dt.date(2023, 1, 1)
    )
    record_save(actor=officer_sip, record=again)
    overlapping = ClusterMembership(
        enterprise=firm, cluster=stored.cluster, sector=stored.sector, joined_on=dt.date(2024, 1, 1)
    )
    with translation.override("en"):  # the message is lazy: read it in English too
        with pytest.raises(ValidationError) as raised:
            record_save(actor=officer_sip, record=overlapping)
        assert raised.value.message_dict == {
            "joined_on": ["The firm is already a member of this cluster for part of this period."]
        }
    assert firm.memberships.count() == 2


def test_an_officer_allowed_into_the_project_admin_picks_partners_of_the_district_only(
    client, make_user, enterprise_factory
):
    from django.contrib.auth.models import Permission

    officer = make_user("staff_officer", Role.DISTRICT_OFFICER, SIP, staff=True)
    officer.user_permissions.add(Permission.objects.get(codename="add_researchproject"))
    mine = enterprise_factory(district=District.objects.get(code=SIP))
    theirs = enterprise_factory(district=District.objects.get(code=KUNSHAN))
    client.force_login(officer)
    url = reverse("admin:enterprises_researchproject_add")
    refused = client.post(url, project_form(partners=[mine.pk, theirs.pk]))
    assert set(refused.context["adminform"].form.errors) == {"partners"}
    assert not ResearchProject.objects.exists()
    assert client.post(url, project_form(partners=[mine.pk])).status_code == 302
    assert list(ResearchProject.objects.get().partners.all()) == [mine]


def test_deleting_in_the_admin_leaves_history_credited_to_the_steward(
    steward_client, city_steward, designation_factory, listing_factory
):
    designation = designation_factory()
    listings = [listing_factory(), listing_factory()]
    response = steward_client.post(
        reverse("admin:enterprises_designation_delete", args=[designation.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    response = steward_client.post(
        reverse("admin:enterprises_listing_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [listing.pk for listing in listings],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Designation.objects.exists() and not Listing.objects.exists()
    deleted = [
        *Designation.history.filter(history_type="-"),
        *Listing.history.filter(history_type="-"),
    ]
    assert len(deleted) == 3
    assert {h.history_user for h in deleted} == {city_steward}

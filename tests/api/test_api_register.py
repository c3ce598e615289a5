"""The API writes the whole register: cluster memberships, designations, listings, milestones
and research projects, through the same services as the pages and the admin, scoped like every
endpoint."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.core.management import call_command

from cluster.models import Cluster, District, Sector
from enterprises.models import ClusterMembership, Designation, Listing, Milestone, ResearchProject
from tests.api.test_api import api
from tests.conftest import KUNSHAN, SIP
from tests.factories import cluster_with_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def firms(enterprise_factory):
    """Two SIP firms and a Kunshan one, members of the nano cluster since 2020 but for the
    second SIP firm, a member of none yet."""
    return {
        "sip": enterprise_factory(name_zh="园区甲公司", district=District.objects.get(code=SIP)),
        "sip2": enterprise_factory(
            name_zh="园区丙公司", district=District.objects.get(code=SIP), cluster=None
        ),
        "kunshan": enterprise_factory(
            name_zh="昆山乙公司", district=District.objects.get(code=KUNSHAN)
        ),
    }


@pytest.fixture
def records(firms, designation_factory, listing_factory):
    """One membership, designation, listing and milestone of each of the SIP and the Kunshan
    firm."""
    made = {}
    for key in ("sip", "kunshan"):
        firm = firms[key]
        made[key] = {
            "cluster-memberships": firm.memberships.get(),
            "designations": designation_factory(enterprise=firm),
            "listings": listing_factory(enterprise=firm),
            "milestones": Milestone.objects.create(
                enterprise=firm, kind="moved_in", occurred_on=dt.date(2023, 5, 1)
            ),
        }
    return made


def history(record):
    return [
        (h.history_type, h.history_user and h.history_user.username)
        for h in type(record).history.filter(id=record.pk).order_by("history_id")
    ]


def test_an_officer_adds_changes_and_deletes_a_designation_naming_the_firm_by_uscc(
    firms, officer_sip
):
    client = api(officer_sip)
    created = client.post(
        "/api/designations/",
        {
            "uscc": firms["sip"].uscc.lower(),
            "type": "little_giant",
            "tier": "national",
            "issuer": "工业和信息化部",
            "valid_from": "2025-07-01",
            "valid_to": "2028-06-30",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "enterprise": firms["sip"].pk,
        "uscc": firms["sip"].uscc,
        "district": SIP,
        "type": "little_giant",
        "tier": "national",
        "issuer": "工业和信息化部",
        "certificate_no": "",
        "valid_from": "2025-07-01",
        "valid_to": "2028-06-30",
    }
    url = f"/api/designations/{body['id']}/"
    patched = client.patch(url, {"certificate_no": "GXB-2025-17"}, format="json")
    assert patched.json()["certificate_no"] == "GXB-2025-17"
    replaced = client.put(
        url,
        {
            "enterprise": firms["sip2"].pk,
            "type": "little_giant",
            "tier": "provincial",
            "valid_from": "2025-07-01",
            "valid_to": None,
        },
        format="json",
    )
    assert replaced.status_code == 200, replaced.json()
    designation = Designation.objects.get(pk=body["id"])
    assert (designation.enterprise, designation.tier, designation.valid_to) == (
        firms["sip2"],
        "provincial",
        None,
    )
    assert client.delete(url).status_code == 204
    assert not Designation.objects.filter(pk=body["id"]).exists()
    assert history(designation) == [
        ("+", "officer_sip"),
        ("~", "officer_sip"),
        ("~", "officer_sip"),
        ("-", "officer_sip"),
    ]


def test_listings_and_milestones_are_written_through_the_api(firms, officer_sip):
    client = api(officer_sip)
    listing = client.post(
        "/api/listings/",
        {
            "enterprise": firms["sip"].pk,
            "venue": "star",
            "ticker": "688777",
            "listed_on": "2025-10-20",
        },
        format="json",
    )
    assert listing.status_code == 201, listing.json()
    assert (listing.json()["is_listing"], listing.json()["uscc"]) == (True, firms["sip"].uscc)
    delisted = client.patch(
        f"/api/listings/{listing.json()['id']}/", {"delisted_on": "2026-01-05"}, format="json"
    )
    assert delisted.json()["delisted_on"] == "2026-01-05"
    milestone = client.post(
        "/api/milestones/",
        {
            "uscc": firms["sip"].uscc,
            "kind": "financing_round",
            "occurred_on": "2025-11-11",
            "amount": "30000000",
            "note": "A轮",
        },
        format="json",
    )
    assert milestone.status_code == 201, milestone.json()
    assert milestone.json()["amount"] == "30000000.00"
    without = client.patch(
        f"/api/milestones/{milestone.json()['id']}/", {"amount": None}, format="json"
    )
    assert without.status_code == 400
    assert without.json()["errors"] == {"amount": ["A financing round needs its amount."]}
    assert Milestone.objects.get(pk=milestone.json()["id"]).amount == Decimal("30000000.00")


def test_the_firm_is_named_once_and_consistently(firms, officer_sip):
    client = api(officer_sip)
    row = {"type": "gazelle", "tier": "city", "valid_from": "2025-01-01"}
    nameless = client.post("/api/designations/", row, format="json")
    assert nameless.json()["errors"] == {
        "enterprise": ["Name the firm by its id (enterprise) or its code (uscc)."]
    }
    both = client.post(
        "/api/designations/",
        {**row, "enterprise": firms["sip"].pk, "uscc": firms["sip2"].uscc},
        format="json",
    )
    assert both.json()["errors"] == {
        "uscc": ["This code names another firm than the enterprise id."]
    }
    unknown = client.post(
        "/api/designations/", {**row, "uscc": firms["kunshan"].uscc}, format="json"
    )
    assert unknown.json()["errors"] == {"uscc": ["No firm with this code in your districts."]}
    assert not Designation.objects.exists()


def test_errors_are_translated(firms, officer_sip, listing_factory):
    listing_factory(enterprise=firms["sip2"], venue="star", ticker="688001")
    client = api(officer_sip, "zh-hans")
    taken = client.post(
        "/api/listings/",
        {
            "enterprise": firms["sip"].pk,
            "venue": "star",
            "ticker": "688001",
            "listed_on": "2025-01-02",
        },
        format="json",
    )
    assert taken.json() == {
        "code": "invalid",
        "message": "请求中有无效的值。",
        "errors": {"ticker": ["该板块已登记此证券代码。"]},
    }
    quoted = client.post(
        "/api/listings/",
        {
            "enterprise": firms["sip"].pk,
            "venue": "neeq",
            "ticker": "830001",
            "listed_on": "2025-01-02",
        },
        format="json",
    )
    assert quoted.json()["errors"] == {"venue": ["新三板挂牌不是上市，不能登记为上市。"]}
    unknown = client.post(
        "/api/listings/",
        {
            "uscc": firms["kunshan"].uscc,
            "venue": "star",
            "ticker": "688002",
            "listed_on": "2025-01-02",
        },
        format="json",
    )
    assert unknown.json()["errors"] == {"uscc": ["您所辖区县中没有使用该代码的企业。"]}


def test_an_officer_adds_changes_and_deletes_a_membership_naming_sectors_by_code(
    firms, officer_sip
):
    # Photonics' codes 1.01 and 1.02 are also nano's: a code is read in the cluster's tree.
    cluster_with_tree("photonics")
    client = api(officer_sip)
    created = client.post(
        "/api/cluster-memberships/",
        {
            "uscc": firms["sip"].uscc,
            "cluster": "photonics",
            "sector": "1.01",
            "further_sectors": ["1.02", "2.01"],
            "joined_on": "2024-07-01",
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {
        "id": body["id"],
        "enterprise": firms["sip"].pk,
        "uscc": firms["sip"].uscc,
        "district": SIP,
        "cluster": "photonics",
        "sector": "1.01",
        "further_sectors": ["1.02", "2.01"],
        "joined_on": "2024-07-01",
        "left_on": None,
    }
    membership = ClusterMembership.objects.get(pk=body["id"])
    assert membership.sector == Sector.objects.get(cluster__key="photonics", code="1.01")
    assert {s.cluster.key for s in membership.further_sectors.all()} == {"photonics"}
    url = f"/api/cluster-memberships/{body['id']}/"
    left = client.patch(url, {"left_on": "2026-06-30", "further_sectors": []}, format="json")
    assert left.status_code == 200, left.json()
    assert (left.json()["left_on"], left.json()["further_sectors"]) == ("2026-06-30", [])
    # The whole row again: the sector is read in the tree of the cluster sent with it.
    moved = client.put(
        url,
        {"enterprise": firms["sip"].pk, "cluster": "nano", "sector": "1.01", "left_on": None},
        format="json",
    )
    assert moved.status_code == 400
    assert moved.json()["errors"] == {
        "joined_on": ["The firm is already a member of this cluster for part of this period."]
    }
    assert client.delete(url).status_code == 204
    assert not ClusterMembership.objects.filter(pk=body["id"]).exists()
    assert history(membership)[0] == ("+", "officer_sip")
    assert {user for _kind, user in history(membership)} == {"officer_sip"}
    assert history(membership)[-1] == ("-", "officer_sip")
    assert firms["sip"].memberships.get().cluster.key == "nano"


def test_membership_errors_name_their_field_in_chinese(firms, officer_sip):
    cluster_with_tree("photonics")
    client = api(officer_sip, "zh-hans")
    row = {"enterprise": firms["sip"].pk, "cluster": "photonics", "joined_on": "2024-07-01"}
    other_tree = client.post("/api/cluster-memberships/", {**row, "sector": "1.04"}, format="json")
    assert other_tree.json()["errors"] == {"sector": ["请选择本集群产业领域中的材料。"]}
    unknown = client.post("/api/cluster-memberships/", {**row, "sector": "9.99"}, format="json")
    assert unknown.json()["errors"] == {"sector": ["没有代码为 9.99 的产业领域。"]}
    backwards = client.post(
        "/api/cluster-memberships/",
        {**row, "sector": "1.01", "left_on": "2024-06-30"},
        format="json",
    )
    assert backwards.json()["errors"] == {"left_on": ["企业迁出集群的日期不能早于加入日期。"]}
    again = client.post(
        "/api/cluster-memberships/",
        {**row, "cluster": "nano", "sector": "1.02"},
        format="json",
    )
    assert again.json()["errors"] == {"joined_on": ["该企业在此期间已是本集群成员（时段有重叠）。"]}
    assert firms["sip"].memberships.count() == 1


def test_membership_filters(firms, city_steward, enterprise_factory):
    photonics = cluster_with_tree("photonics")
    both = firms["sip"]
    ClusterMembership.objects.create(
        enterprise=both,
        cluster=photonics,
        sector=Sector.objects.get(cluster=photonics, code="2.01"),
        joined_on=dt.date(2025, 1, 1),
    )
    left = enterprise_factory(name_zh="园区丁公司", left_on=dt.date(2024, 12, 31))
    client = api(city_steward)

    def ids(path, **params):
        return sorted(row["id"] for row in client.get(path, params).json()["results"])

    memberships = "/api/cluster-memberships/"
    nano = sorted(
        ClusterMembership.objects.filter(cluster__key="nano").values_list("pk", flat=True)
    )
    assert ids(memberships, cluster="nano") == nano
    assert ids(memberships, cluster="photonics") == [both.memberships.get(cluster=photonics).pk]
    # A sector code alone means it in every tree; with the cluster, in that cluster's.
    assert len(ids(memberships, sector="2")) == 1
    assert len(ids(memberships, sector="1")) == len(nano)
    assert ids(memberships, sector="1", cluster="photonics") == []
    assert left.memberships.get().pk not in ids(memberships, valid_on="2025-06-30")
    enterprises = "/api/enterprises/"
    assert ids(enterprises, cluster="photonics") == [both.pk]
    assert ids(enterprises, cluster="photonics", sector="2.01") == [both.pk]
    assert ids(enterprises, cluster="photonics", sector="1.04") == []
    assert ids(enterprises, cluster="nano", sector="1.04") == sorted(
        [both.pk, firms["kunshan"].pk, left.pk]
    )
    assert ids(enterprises, cluster="nano", member_on="2025-06-30") == sorted(
        [both.pk, firms["kunshan"].pk]
    )
    # A firm of two clusters is listed once.
    assert ids(enterprises, sector="1") == sorted([both.pk, firms["kunshan"].pk, left.pk])
    assert client.get(enterprises, {"member_on": "2025-02-30"}).status_code == 400


def test_enterprises_show_their_memberships(firms, city_steward):
    cluster_with_tree("photonics")
    membership = firms["sip"].memberships.get()
    membership.further_sectors.set(Sector.objects.filter(cluster__key="nano", code="1.02"))
    shown = api(city_steward).get(f"/api/enterprises/{firms['sip'].pk}/").json()
    assert shown["memberships"] == [
        {
            "id": membership.pk,
            "cluster": "nano",
            "sector": "1.04",
            "further_sectors": ["1.02"],
            "joined_on": "2020-01-01",
            "left_on": None,
        }
    ]


def test_a_neeq_quotation_registered_earlier_can_still_be_corrected(
    firms, officer_sip, listing_factory
):
    quotation = listing_factory(enterprise=firms["sip"], venue="neeq", ticker="830123")
    client = api(officer_sip)
    fixed = client.patch(f"/api/listings/{quotation.pk}/", {"ticker": "830124"}, format="json")
    assert fixed.status_code == 200
    assert (fixed.json()["ticker"], fixed.json()["is_listing"]) == ("830124", False)
    star = listing_factory(enterprise=firms["sip"], venue="star", ticker="688124")
    to_neeq = client.patch(f"/api/listings/{star.pk}/", {"venue": "neeq"}, format="json")
    assert to_neeq.status_code == 400 and set(to_neeq.json()["errors"]) == {"venue"}
    assert Listing.objects.get(pk=star.pk).venue == "star"


ENDPOINTS = ("cluster-memberships", "designations", "listings", "milestones")
RECORDS = (ClusterMembership, Designation, Listing, Milestone)


def snapshot():
    return [
        sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]))
        for model in RECORDS
    ] + [[model.history.count() for model in RECORDS]]


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_another_districts_records_do_not_exist_for_an_officer(
    kind, records, firms, officer_sip, caplog
):
    caplog.set_level(logging.WARNING, logger="cluster.security")
    theirs = records["kunshan"][kind]
    client = api(officer_sip)
    before = snapshot()
    url = f"/api/{kind}/{theirs.pk}/"
    for method, body in (
        ("get", None),
        ("put", {"enterprise": firms["sip"].pk}),
        ("patch", {"enterprise": firms["sip"].pk}),
        ("delete", None),
    ):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 404, (method, response.status_code)
        assert response.json()["code"] == "not_found"
    refused = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    assert len(refused) == 4 and all("user=officer_sip" in line for line in refused)
    # Nor can a record of theirs be moved to, or made for, the other district's firm.
    mine = records["sip"][kind]
    moved = client.patch(
        f"/api/{kind}/{mine.pk}/", {"enterprise": firms["kunshan"].pk}, format="json"
    )
    assert moved.status_code == 400 and set(moved.json()["errors"]) == {"enterprise"}
    listed = client.get(f"/api/{kind}/").json()
    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert snapshot() == before


@pytest.mark.parametrize("kind", ENDPOINTS)
def test_a_read_only_administrator_writes_no_record(kind, records, firms, sip_viewer):
    mine = records["sip"][kind]
    client = api(sip_viewer)
    before = snapshot()
    assert client.get(f"/api/{kind}/{mine.pk}/").status_code == 200
    for method, url, body in (
        ("post", f"/api/{kind}/", {"enterprise": firms["sip"].pk}),
        ("put", f"/api/{kind}/{mine.pk}/", {"enterprise": firms["sip"].pk}),
        ("patch", f"/api/{kind}/{mine.pk}/", {}),
        ("delete", f"/api/{kind}/{mine.pk}/", None),
    ):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == 403, (method, response.status_code)
        assert response.json()["code"] == "permission_denied"
    assert snapshot() == before


def test_record_filters(records, firms, city_steward):
    client = api(city_steward)
    sip_firm = firms["sip"]
    by_id = client.get("/api/designations/", {"enterprise_id": sip_firm.pk}).json()
    by_code = client.get("/api/designations/", {"enterprise": sip_firm.uscc}).json()
    by_district = client.get("/api/designations/", {"district": SIP}).json()
    assert [r["id"] for r in by_id["results"]] == [records["sip"]["designations"].pk]
    assert by_id["results"] == by_code["results"] == by_district["results"]
    district_id = District.objects.get(code=KUNSHAN).pk
    assert [
        r["uscc"]
        for r in client.get("/api/milestones/", {"district_id": district_id}).json()["results"]
    ] == [firms["kunshan"].uscc]
    assert client.get("/api/designations/", {"valid_on": "2023-12-31"}).json()["count"] == 0
    assert client.get("/api/designations/", {"valid_on": "2024-01-01"}).json()["count"] == 2
    assert client.get("/api/listings/", {"q": "昆山"}).json()["count"] == 1
    assert client.get("/api/listings/", {"listed_as_of": "2022-05-31"}).json()["count"] == 0
    assert client.get("/api/milestones/", {"occurred_since": "2023-05-02"}).json()["count"] == 0
    assert client.get("/api/designations/", {"valid_on": "2025-02-30"}).status_code == 400


@pytest.fixture
def project_body(firms):
    return {
        "clusters": ["nano"],
        "title": "纳米压印光刻胶攻关",
        "lead_enterprise": firms["sip"].pk,
        "partners": [firms["sip2"].pk],
        "partner_institutions": "苏州大学",
        "district": SIP,
        "level": "provincial",
        "is_major": True,
        "funding": "12000000.00",
        "started_on": "2025-03-01",
        "ends_on": "2027-02-28",
        "status": "ongoing",
    }


def test_an_officer_registers_changes_and_deletes_a_research_project(
    firms, officer_sip, project_body
):
    client = api(officer_sip)
    created = client.post("/api/research-projects/", project_body, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body == {**project_body, "id": body["id"], "lead_institution": ""}
    url = f"/api/research-projects/{body['id']}/"
    changed = client.put(
        url, {**project_body, "partners": [], "status": "completed"}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert (changed.json()["partners"], changed.json()["status"]) == ([], "completed")
    project = ResearchProject.objects.get(pk=body["id"])
    assert list(project.partners.all()) == []
    assert client.delete(url).status_code == 204
    assert not ResearchProject.objects.filter(pk=body["id"]).exists()
    kinds = list(
        ResearchProject.history.filter(id=body["id"])
        .order_by("history_id")
        .values_list("history_type", "history_user__username")
    )
    assert kinds[0] == ("+", "officer_sip") and kinds[-1] == ("-", "officer_sip")
    assert {user for _kind, user in kinds} == {"officer_sip"}


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"partners": ["kunshan"]}, 400, "partners"),
        ({"lead_enterprise": "kunshan"}, 400, "lead_enterprise"),
        ({"district": KUNSHAN}, 403, None),
        ({"ends_on": "2025-02-28"}, 400, "ends_on"),
        ({"lead_enterprise": None}, 400, "lead_enterprise"),
        ({"started_on": "2025-02-29"}, 400, "started_on"),
        ({"funding": "-5"}, 400, "funding"),
        ({"clusters": []}, 400, "clusters"),
        ({"clusters": ["mars"]}, 400, "clusters"),
    ],
)
def test_a_project_outside_the_officers_scope_or_invalid_is_refused(
    firms, officer_sip, project_body, change, status, field
):
    resolved = {
        key: (
            [firms[v].pk for v in value]
            if key == "partners"
            else firms[value].pk
            if key == "lead_enterprise" and value in firms
            else value
        )
        for key, value in change.items()
    }
    response = api(officer_sip).post(
        "/api/research-projects/", {**project_body, **resolved}, format="json"
    )
    assert response.status_code == status, response.json()
    if field:
        assert set(response.json()["errors"]) == {field}
    assert not ResearchProject.objects.exists()


def test_a_project_counts_toward_the_clusters_it_names(firms, officer_sip, project_body):
    photonics = cluster_with_tree("photonics")
    client = api(officer_sip, "zh-hans")
    nameless = {key: value for key, value in project_body.items() if key != "clusters"}
    refused = client.post("/api/research-projects/", nameless, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {
        "clusters": ["请注明项目计入哪些集群的行动计划：不属于任何集群的项目不计入任何目标。"]
    }
    created = client.post(
        "/api/research-projects/",
        {**project_body, "clusters": ["nano", "photonics"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    project = ResearchProject.objects.get()
    assert set(project.clusters.all()) == {Cluster.objects.get(key="nano"), photonics}
    url = f"/api/research-projects/{project.pk}/"
    renamed = client.patch(url, {"title": "纳米压印光刻胶攻关（二期）"}, format="json")
    assert renamed.json()["clusters"] == ["nano", "photonics"]
    emptied = client.patch(url, {"clusters": []}, format="json")
    assert emptied.status_code == 400 and set(emptied.json()["errors"]) == {"clusters"}
    assert project.clusters.count() == 2
    listed = client.get("/api/research-projects/", {"cluster": "photonics"}).json()
    assert [row["id"] for row in listed["results"]] == [project.pk]
    assert client.get("/api/research-projects/", {"cluster": "mars"}).json()["count"] == 0


def test_a_project_shared_with_another_district_is_the_stewards_to_change(
    firms, officer_sip, officer_kunshan, city_steward, project_body
):
    shared = {**project_body, "partners": [firms["sip2"].pk, firms["kunshan"].pk]}
    created = api(city_steward).post("/api/research-projects/", shared, format="json")
    assert created.status_code == 201
    url = f"/api/research-projects/{created.json()['id']}/"
    refused = api(officer_sip).patch(url, {"title": "改名"}, format="json")
    assert refused.status_code == 403
    assert api(officer_sip).delete(url).status_code == 403
    assert api(officer_kunshan).patch(url, {"title": "改名"}, format="json").status_code == 404
    assert ResearchProject.objects.get().title == project_body["title"]


def test_a_read_only_administrator_writes_no_project(firms, sip_viewer, project_body):
    client = api(sip_viewer)
    assert client.post("/api/research-projects/", project_body, format="json").status_code == 403
    assert not ResearchProject.objects.exists()


def test_the_schema_documents_every_write(tmp_path):
    import json

    path = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(path))
    paths = json.loads(path.read_text())["paths"]
    for kind in (
        "cluster-memberships",
        "designations",
        "listings",
        "milestones",
        "research-projects",
    ):
        assert set(paths[f"/api/{kind}/"]) == {"get", "post"}
        assert set(paths[f"/api/{kind}/{{id}}/"]) == {"get", "put", "patch", "delete"}
    designation = paths["/api/designations/"]["post"]
    assert set(designation["responses"]) == {"201", "400", "401", "403", "404", "429"}


def test_a_firm_of_an_org_unit_without_a_code_shows_no_district_code(
    enterprise_factory, designation_factory, city_steward
):
    # 太仓港口管委会 has no GB/T 2260 code (found by the schema fuzz: null is in the schema).
    port = District.objects.get(code=None)
    designation = designation_factory(enterprise=enterprise_factory(district=port))
    shown = api(city_steward).get(f"/api/designations/{designation.pk}/").json()
    assert (shown["uscc"], shown["district"]) == (designation.enterprise.uscc, None)

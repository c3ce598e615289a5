"""One rule, every door: the same cluster membership, designation, listing or milestone sent
through the API, the enterprise page's formset, the admin's own page and the enterprise
admin's inline gets the same answer (saved, or refused with the same field named) and leaves
the same rows and history."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db.models import Model
from django.urls import reverse

from cluster.access import Role
from cluster.models import Cluster, District, Sector
from enterprises.models import ClusterMembership, Designation, Listing, Milestone
from tests.api.test_api import api
from tests.conftest import KUNSHAN, SIP
from tests.factories import cluster_with_tree

pytestmark = pytest.mark.django_db

DOORS = ("api", "page", "admin", "admin_inline")
KINDS = {
    "memberships": ClusterMembership,
    "designations": Designation,
    "listings": Listing,
    "milestones": Milestone,
}
API_PATHS = {"memberships": "cluster-memberships"}


@dataclass(frozen=True)
class Ref:
    """A cluster (by key) or a sector of its tree (by code), as each door names it: the API by
    key and code, the forms by id."""

    cluster: str
    code: str | None = None

    def obj(self):
        if self.code is None:
            return Cluster.objects.get(key=self.cluster)
        return Sector.objects.get(cluster__key=self.cluster, code=self.code)

    def written(self, door: str) -> str:
        if door == "api":
            return self.code or self.cluster
        return str(self.obj().pk)


def as_written(row: dict, door: str) -> dict:
    return {
        field: (
            value.written(door)
            if isinstance(value, Ref)
            else [v.written(door) for v in value]
            if isinstance(value, list)
            else value
        )
        for field, value in row.items()
    }


NANO, PHOTONICS = Ref("nano"), Ref("photonics")
DUPLICATE_AWARD = "This firm already holds this designation at this tier from that date."
# (kind, row as a user types it, expected errors: field → messages, or a set of fields where
# the wording is the framework's own (a date that does not parse), or None when it saves.)
CASES = {
    "good membership of a second cluster": (
        "memberships",
        {
            "cluster": PHOTONICS,
            "sector": Ref("photonics", "1.01"),
            "further_sectors": [Ref("photonics", "2.01")],
            "joined_on": "2024-03-01",
        },
        None,
    ),
    "sector of another cluster's tree": (
        "memberships",
        {"cluster": PHOTONICS, "sector": Ref("nano", "1.04"), "joined_on": "2024-03-01"},
        {"sector": ["Choose a material of this cluster's sector tree."]},
    ),
    "further sector of another cluster's tree": (
        "memberships",
        {
            "cluster": PHOTONICS,
            "sector": Ref("photonics", "1.01"),
            "further_sectors": [Ref("nano", "3.01")],
            "joined_on": "2024-03-01",
        },
        {"further_sectors": ["Further sectors are materials of this cluster's sector tree."]},
    ),
    "a focus direction as the primary sector": (
        "memberships",
        {"cluster": PHOTONICS, "sector": Ref("photonics", "1"), "joined_on": "2024-03-01"},
        {"sector"},
    ),
    "overlapping membership of the same cluster": (
        "memberships",
        {"cluster": NANO, "sector": Ref("nano", "1.02"), "joined_on": "2024-01-01"},
        {"joined_on": ["The firm is already a member of this cluster for part of this period."]},
    ),
    "left before joined": (
        "memberships",
        {
            "cluster": PHOTONICS,
            "sector": Ref("photonics", "1.01"),
            "joined_on": "2025-06-01",
            "left_on": "2025-05-31",
        },
        {"left_on": ["A firm cannot leave the cluster before it joined."]},
    ),
    "good designation": (
        "designations",
        {
            "type": "gazelle",
            "tier": "provincial",
            "issuer": "江苏省科学技术厅",
            "valid_from": "2025-01-01",
            "valid_to": "2027-12-31",
        },
        None,
    ),
    "designation ending before it starts": (
        "designations",
        {
            "type": "high_tech",
            "tier": "national",
            "valid_from": "2025-06-01",
            "valid_to": "2025-05-31",
        },
        {
            "valid_to": [
                "A designation cannot expire before it starts: valid to precedes valid from."
            ]
        },
    ),
    "duplicate award": (
        "designations",
        {"type": "gazelle", "tier": "city", "valid_from": "2024-01-01"},
        {"type": [DUPLICATE_AWARD]},
    ),
    "impossible date": (
        "designations",
        {"type": "high_tech", "tier": "national", "valid_from": "2025-02-30"},
        {"valid_from"},
    ),
    "good listing": (
        "listings",
        {"venue": "star", "ticker": "688999", "listed_on": "2025-06-18"},
        None,
    ),
    "ticker already listed": (
        "listings",
        {"venue": "star", "ticker": "688001", "listed_on": "2025-06-18"},
        {"ticker": ["This ticker is already registered on that venue."]},
    ),
    "NEEQ quotation as a listing": (
        "listings",
        {"venue": "neeq", "ticker": "830999", "listed_on": "2025-06-18"},
        {"venue": ["A NEEQ (New Third Board) quotation is not a listing."]},
    ),
    "delisted before listed": (
        "listings",
        {
            "venue": "chinext",
            "ticker": "300999",
            "listed_on": "2025-06-18",
            "delisted_on": "2025-01-02",
        },
        {"delisted_on": ["A firm cannot be delisted before it was listed."]},
    ),
    "good milestone": (
        "milestones",
        {
            "kind": "financing_round",
            "occurred_on": "2025-09-09",
            "amount": "50000000.00",
            "note": "B轮",
        },
        None,
    ),
    "financing round without amount": (
        "milestones",
        {"kind": "financing_round", "occurred_on": "2025-09-09"},
        {"amount": ["A financing round needs its amount."]},
    ),
    "negative amount": (
        "milestones",
        {"kind": "financing_round", "occurred_on": "2025-09-09", "amount": "-1"},
        {"amount"},
    ),
}


@pytest.fixture
def firm(enterprise_factory, designation_factory, listing_factory):
    """A SIP firm, a member of the nano cluster since 2020-01-01, holding a city gazelle award
    from 2024-01-01; another firm's STAR ticker 688001 is taken. A second cluster (photonics)
    has a tree of its own, whose codes 1 and 1.01 are also nano's."""
    cluster_with_tree("photonics")
    firm = enterprise_factory(name_zh="园区甲公司", district=District.objects.get(code=SIP))
    designation_factory(enterprise=firm, valid_from=dt.date(2024, 1, 1), valid_to=None)
    listing_factory(ticker="688001")
    return firm


@pytest.fixture
def staff_officer(make_user):
    return make_user("staff_officer_sip", Role.DISTRICT_OFFICER, SIP, staff=True)


def form_data(form) -> dict:
    """What a browser posts back for `form` as rendered (prefixed names, values as text)."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, list | tuple):
            value = [str(getattr(v, "pk", v)) for v in value]
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, bool):
            if not value:
                continue
            value = "on"
        elif isinstance(value, Model):
            value = str(value.pk)
        elif value is None:
            value = ""
        data[form.add_prefix(name)] = value
    return data


def formset_data(formset, kind: str, row: dict) -> dict:
    """The formset as rendered, plus `row` as a new form when the formset is the `kind`'s."""
    data = form_data(formset.management_form)
    for form in formset.initial_forms:
        data.update(form_data(form))
    if formset.prefix == kind:
        index = formset.initial_form_count()
        data.update({f"{kind}-{index}-{name}": value for name, value in row.items()})
        data[f"{kind}-TOTAL_FORMS"] = str(index + 1)
    else:
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(formset.initial_form_count())
    return data


def errors_of(form, formset=None) -> dict:
    errors = {
        ("non_field_errors" if field == "__all__" else field): list(messages)
        for field, messages in form.errors.items()
    }
    if formset is not None and formset.non_form_errors():
        errors.setdefault("non_field_errors", []).extend(formset.non_form_errors())
    return errors


def through_api(user, firm, kind, row):
    response = api(user).post(
        f"/api/{API_PATHS.get(kind, kind)}/", {"enterprise": firm.pk, **row}, format="json"
    )
    return response.status_code, (response.json()["errors"] if response.status_code == 400 else {})


def through_page(client, firm, kind, row):
    url = reverse("enterprises:edit", args=[firm.pk])
    page = client.get(url)
    if page.status_code != 200:
        return page.status_code, {}
    shown = page.context
    data = form_data(shown["form"])
    for _title, formset in shown["formset_sections"]:
        data.update(formset_data(formset, kind, row))
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    if response.status_code != 422:
        return response.status_code, {}
    formset = next(f for _t, f in response.context["formset_sections"] if f.prefix == kind)
    assert not response.context["form"].errors
    return response.status_code, errors_of(formset.forms[formset.initial_form_count()], formset)


def through_admin(client, firm, kind, row):
    model = KINDS[kind]._meta.model_name
    response = client.post(
        reverse(f"admin:enterprises_{model}_add"),
        {"enterprise": firm.pk, **row},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    if response.status_code != 200:
        return response.status_code, {}
    return response.status_code, errors_of(response.context["adminform"].form)


def through_admin_inline(client, firm, kind, row):
    url = reverse("admin:enterprises_enterprise_change", args=[firm.pk])
    shown = client.get(url).context
    data = form_data(shown["adminform"].form)
    for inline in shown["inline_admin_formsets"]:
        data.update(formset_data(inline.formset, kind, row))
    response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="en")
    if response.status_code != 200:
        return response.status_code, {}
    assert not response.context["adminform"].form.errors
    formset = next(
        i.formset for i in response.context["inline_admin_formsets"] if i.formset.prefix == kind
    )
    return response.status_code, errors_of(formset.forms[formset.initial_form_count()], formset)


def send(door, client, user, firm, kind, row):
    row = as_written(row, door)
    if door == "api":
        return through_api(user, firm, kind, row)
    client.force_login(user)
    return {"page": through_page, "admin": through_admin, "admin_inline": through_admin_inline}[
        door
    ](client, firm, kind, row)


SAVED = {"api": 201, "page": 302, "admin": 302, "admin_inline": 302}
REFUSED = {"api": 400, "page": 422, "admin": 200, "admin_inline": 200}


def state(model):
    """The rows of `model` (without their ids) and their history: type and author."""
    fields = [f.attname for f in model._meta.concrete_fields if f.name != "id"]
    rows = sorted(model.objects.values_list(*fields), key=str)
    history = sorted(model.history.values_list("history_type", "history_user__username"), key=str)
    return rows, history


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("case", CASES)
def test_every_door_gives_the_same_answer_and_writes_the_same_rows(
    client, door, case, firm, staff_officer
):
    kind, row, expected = CASES[case]
    model = KINDS[kind]
    before = state(model)
    status, errors = send(door, client, staff_officer, firm, kind, row)
    if expected is None:
        assert (status, errors) == (SAVED[door], {})
        new = model.objects.order_by("-pk").first()
        assert new.enterprise == firm
        for field, value in row.items():
            if isinstance(value, Ref):
                assert getattr(new, field) == value.obj(), field
            elif isinstance(value, list):
                assert set(getattr(new, field).all()) == {v.obj() for v in value}, field
            else:
                assert str(getattr(new, field)) == value, field
        rows, history = state(model)
        assert len(rows) == len(before[0]) + 1
        assert {user for _type, user in set(history) - set(before[1])} == {staff_officer.username}
        assert model.history.filter(id=new.pk).earliest("history_id").history_type == "+"
        return
    assert status == REFUSED[door]
    if isinstance(expected, set):
        assert set(errors) == expected
    else:
        assert errors == expected
    assert state(model) == before


@pytest.mark.parametrize("door", DOORS)
def test_a_read_only_administrator_writes_nothing_through_any_door(client, door, firm, make_user):
    viewer = make_user("viewer", Role.ADMINISTRATOR, staff=True)
    row = CASES["good designation"][1]
    before = state(Designation)
    status, _errors = send(door, client, viewer, firm, "designations", row)
    assert status == 403
    assert state(Designation) == before


@pytest.mark.parametrize("door", DOORS)
def test_an_officer_of_another_district_writes_nothing_through_any_door(
    client, door, firm, make_user
):
    other = make_user("staff_officer_ks", Role.DISTRICT_OFFICER, KUNSHAN, staff=True)
    row = CASES["good designation"][1]
    before = state(Designation)
    if door == "api":
        status, errors = through_api(other, firm, "designations", row)
        assert (status, set(errors)) == (400, {"enterprise"})
    else:
        client.force_login(other)
        if door == "admin":
            status, errors = through_admin(client, firm, "designations", row)
            assert (status, set(errors)) == (200, {"enterprise"})
        else:
            # Another district's firm does not exist for them: the page and the admin both
            # answer 404.
            url = (
                reverse("enterprises:edit", args=[firm.pk])
                if door == "page"
                else reverse("admin:enterprises_enterprise_change", args=[firm.pk])
            )
            assert client.post(url, {}).status_code == 404
    assert state(Designation) == before

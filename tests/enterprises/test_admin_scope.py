"""What the admin shows a district officer beyond the object pages: the autocomplete of the
register's forms and the export hold their district's firms only; every admin whose model
keeps history guards its history views."""

import csv
import io

import pytest
from django.contrib import admin
from django.urls import reverse

from cluster.access import Role
from cluster.admin import HistoryAdmin
from tests.conftest import SIP

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_user):
    return make_user("officer_sip_staff", Role.DISTRICT_OFFICER, SIP, staff=True)


def test_autocomplete_offers_only_the_districts_firms(client, officer, two_districts):
    client.force_login(officer)
    response = client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "enterprises",
            "model_name": "designation",
            "field_name": "enterprise",
            "term": "公司",
        },
    )
    assert [row["text"] for row in response.json()["results"]] == ["园区甲公司"]


def test_export_holds_only_the_districts_firms(client, officer, two_districts):
    client.force_login(officer)
    url = reverse("admin:enterprises_enterprise_export")
    form = client.get(url).context["form"]
    data = {name: "on" for name, field in form.fields.items() if field.initial is True}
    formats = {label: value for value, label in form.fields["format"].choices}
    data.update(format=formats["csv"], resource=0)
    exported = client.post(url, data)
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [row["name_zh"] for row in rows] == ["园区甲公司"]


def test_every_admin_with_history_guards_its_history_views():
    unguarded = [
        model._meta.label
        for model, model_admin in admin.site._registry.items()
        if hasattr(model, "history")
        and not isinstance(model_admin, HistoryAdmin)
        # A proxy's admin leads to its concrete model's history pages.
        and not (model._meta.proxy and "history_view" in type(model_admin).__dict__)
    ]
    assert unguarded == []

"""The clusters-and-plans page and the steward's door to load a plan file."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.urls import reverse

from cluster.models import Cluster, Plan
from targets.models import Target

from .test_plan_files import NANO, PHOTONICS, line_of

pytestmark = pytest.mark.django_db


def upload(client, text: str, reason: str = "据行动计划原文编写"):
    handle = io.BytesIO(text.encode("utf-8"))
    handle.name = "plan.yaml"
    return client.post(
        reverse("targets:plan-upload"),
        {"file": handle, "reason": reason},
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_the_page_shows_each_plans_phase_on_the_day(client, city_viewer):
    client.force_login(city_viewer)
    for day, phase in (
        (dt.datetime(2022, 6, 1, tzinfo=dt.UTC), "not yet in force"),
        (dt.datetime(2025, 6, 30, tzinfo=dt.UTC), "in force"),
        (dt.datetime(2026, 11, 30, tzinfo=dt.UTC), "ended"),
    ):
        with time_machine.travel(day, tick=False):
            page = client.get(reverse("targets:plans"), HTTP_ACCEPT_LANGUAGE="en")
        text = page.content.decode()
        assert "苏创新集群办〔2022〕13号" in text
        assert f'">{phase}</span>' in text, day
    assert "Load a plan file" not in text  # a read-only administrator loads nothing


def test_a_steward_previews_then_loads_a_second_cluster(client, steward):
    client.force_login(steward)
    preview = upload(client, PHOTONICS)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "24 changes" in page and "rd_intensity" in page
    assert not Cluster.objects.filter(key="photonics").exists()  # nothing written yet
    confirm = preview.context["confirm"]
    done = client.post(
        reverse("targets:plan-confirm"),
        {"text": confirm.initial["text"], "reason": confirm.initial["reason"]},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "loaded: 24 new, 0 changed, 0 unchanged" in done.content.decode()
    plan = Plan.objects.get(key="photonics-2024-2026")
    assert Target.objects.filter(plan=plan).count() == 8
    assert plan.history.latest().history_user == steward
    # The same file again: nothing to load.
    again = upload(client, PHOTONICS).content.decode()
    assert "Nothing changes: the database already holds this plan file." in again


def test_errors_are_listed_with_their_lines_and_nothing_is_loaded(client, steward):
    client.force_login(steward)
    bad = PHOTONICS.replace("value: 20}", "value: twenty}", 1)
    response = upload(client, bad)
    assert response.status_code == 422
    [error] = response.context["errors"]
    assert (error.line, error.field) == (line_of(PHOTONICS, "value: 20}"), "targets[1].goal.value")
    assert "Write a whole number of firms or projects." in response.content.decode()
    assert not Cluster.objects.filter(key="photonics").exists()


def test_an_overlapping_plan_is_refused_at_the_preview(client, steward):
    client.force_login(steward)
    text = NANO.replace("key: nano-2023-2025", "key: nano-2025-2027").replace(
        "  starts_on: 2023-01-01\n  ends_on: 2025-12-31\n  baseline_year: 2022",
        "  starts_on: 2025-01-01\n  ends_on: 2027-12-31\n  baseline_year: 2024",
    )
    response = upload(client, text)
    assert response.status_code == 422
    assert "overlaps the cluster&#x27;s plan nano-2023-2025" in response.content.decode()
    assert b"Load the plan file" not in response.content


@pytest.mark.parametrize("who", ["officer_sip", "city_viewer"])
def test_only_a_steward_loads(client, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse("targets:plan-upload")).status_code == 403
    response = client.post(reverse("targets:plan-confirm"), {"text": PHOTONICS, "reason": "越权"})
    assert response.status_code == 403
    assert not Cluster.objects.filter(key="photonics").exists()


def test_the_plans_admin_leads_a_steward_to_the_plan_file_upload(client, city_steward, city_viewer):
    """Plans are added from plan files: the admin's list offers the upload to a steward only."""
    upload = reverse("targets:plan-upload")
    city_steward.is_staff = city_viewer.is_staff = True
    city_steward.save()
    city_viewer.save()
    client.force_login(city_steward)
    assert (
        f'href="{upload}"' in client.get(reverse("admin:cluster_plan_changelist")).content.decode()
    )
    client.force_login(city_viewer)
    listing = client.get(reverse("admin:cluster_plan_changelist"))
    assert "nano-2023-2025" in listing.content.decode()
    assert f'href="{upload}"' not in listing.content.decode()

"""A qualitative target is assessed by a city steward, on a date, with the evidence it rests
on; each assessment is kept (the history), and the target is recomputed once it commits. The
rule has one owner (targets.services.assessments) and two doors, the admin and the API: the
same case through every door gives the same outcome."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import translation

from targets.choices import Basis, ScopeKind, Status
from targets.models import Assessment, ProgressSnapshot
from targets.services.assessments import assessment_record

from .kinds_data import approved, load_photonics, member, target_of

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 30)
DOORS = ("service", "admin", "api")
PHOTONICS_CHIPS = ("photonics", "1.01")
GOOD = {
    "assessed_on": "2026-09-28",
    "status": Status.ON_TRACK,
    "summary": "国家级光子制造业创新中心已通过工信部专家论证，待正式批复",
    "evidence": "工信部专家论证意见（2026年9月）",
}


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(dt.datetime(2026, 11, 30, 10), tick=False):
        yield


@pytest.fixture(autouse=True)
def eager(settings):
    """The recompute an assessment enqueues on commit runs in this process."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def photonics(steward):
    load_photonics(steward)
    # Reports up to 2026Q3: the quarters the progress job computes.
    approved(member("光子", PHOTONICS_CHIPS), 2026, 3, revenue=10, rd="0.4")
    return target_of("innovation_centre")


@pytest.fixture
def staff(make_user):
    """Users of every role who may open the admin."""
    from cluster.access import Role

    return {
        "steward": make_user("steward_staff", Role.CITY_STEWARD, staff=True),
        "officer": make_user("officer_staff", Role.DISTRICT_OFFICER, "320571", staff=True),
        "administrator": make_user("viewer_staff", Role.ADMINISTRATOR, staff=True),
    }


def through(door, user, target, data, client, api) -> tuple:
    """Record an assessment through `door`: ("ok",), ("refused",) or ("invalid", field,
    message), the message in English."""
    if door == "service":
        values = dict(data)
        values["assessed_on"] = dt.date.fromisoformat(values["assessed_on"])
        try:
            with translation.override("en"):
                assessment_record(actor=user, target=target, **values)
        except PermissionDenied:
            return ("refused",)
        except ValidationError as invalid:
            [(field, [message])] = invalid.message_dict.items()
            return ("invalid", field, message)
        return ("ok",)
    if door == "admin":
        client.force_login(user)
        response = client.post(
            reverse("admin:targets_assessment_add"),
            {"target": target.pk, **data},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        if response.status_code == 403:
            return ("refused",)
        if response.status_code == 302:
            return ("ok",)
        form = response.context["adminform"].form
        [(field, [message])] = form.errors.items()
        return ("invalid", field, message)
    response = api(user, "en").post(
        reverse("target-assessment-list", kwargs={"target_pk": target.pk}), data, format="json"
    )
    if response.status_code == 403:
        return ("refused",)
    if response.status_code == 201:
        return ("ok",)
    assert response.status_code == 400, response.content
    [(field, [message])] = response.json()["errors"].items()
    return ("invalid", field, message)


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize(
    ("role", "change", "expected"),
    [
        ("steward", {}, ("ok",)),
        ("officer", {}, ("refused",)),
        ("administrator", {}, ("refused",)),
        (
            "steward",
            {"evidence": "  "},
            ("invalid", "evidence", "Give the evidence the assessment rests on."),
        ),
        (
            "steward",
            {"summary": ""},
            ("invalid", "summary", "Say what the assessment finds."),
        ),
        (
            "steward",
            {"status": ""},
            ("invalid", "status", "Choose achieved, on track, at risk or off track."),
        ),
        (
            "steward",
            {"assessed_on": "2026-12-01"},
            ("invalid", "assessed_on", "An assessment cannot be dated after today."),
        ),
        (
            "steward",
            {"assessed_on": "2023-12-31"},
            (
                "invalid",
                "assessed_on",
                "An assessment is dated within or after its plan (from 2024-01-01).",
            ),
        ),
    ],
)
def test_one_rule_through_every_door(
    photonics, staff, client, api, door, role, change, expected, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outcome = through(door, staff[role], photonics, {**GOOD, **change}, client, api)
    assert outcome == expected
    assessments = list(Assessment.objects.values_list("assessed_on", "status", "assessed_by"))
    if expected == ("ok",):
        assert assessments == [(dt.date(2026, 9, 28), Status.ON_TRACK, staff["steward"].pk)]
        # Recomputed on commit: the 2026Q3 card follows the assessment made by its end.
        snapshot = ProgressSnapshot.objects.get(
            target=photonics, scope_kind=ScopeKind.CITY, year=2026, quarter=3, basis=Basis.APPROVED
        )
        assert snapshot.status == Status.ON_TRACK
        assert GOOD["summary"] in snapshot.basis_note["zh"]
    else:
        assert assessments == []


@pytest.mark.parametrize("door", DOORS)
def test_only_a_qualitative_target_is_assessed(photonics, staff, client, api, door):
    ratio = target_of("rd_intensity")
    outcome = through(door, staff["steward"], ratio, GOOD, client, api)
    if door == "admin":
        # The admin offers qualitative targets only: another is not a choice.
        assert outcome[:2] == ("invalid", "target")
    else:
        assert outcome == (
            "invalid",
            "target",
            "Only a qualitative target is assessed; the others are counted.",
        )
    assert not Assessment.objects.exists()


def test_the_history_keeps_every_assessment_newest_first(photonics, staff, api):
    """Two assessments: the API lists both, newest first, with who made them; the history
    of each records the steward."""
    steward = staff["steward"]
    assessment_record(
        actor=steward,
        target=photonics,
        **{**GOOD, "assessed_on": dt.date(2026, 3, 15), "status": Status.AT_RISK},
    )
    assessment_record(
        actor=steward, target=photonics, **{**GOOD, "assessed_on": dt.date(2026, 9, 28)}
    )
    response = api(staff["officer"], "en").get(
        reverse("target-assessment-list", kwargs={"target_pk": photonics.pk})
    )
    assert response.status_code == 200
    rows = [(r["assessed_on"], r["status"], r["assessed_by"]) for r in response.json()["results"]]
    assert rows == [
        ("2026-09-28", "on_track", "steward_staff"),
        ("2026-03-15", "at_risk", "steward_staff"),
    ]
    assert {a.history.get().history_user for a in Assessment.objects.all()} == {steward}


def test_the_list_of_assessments_keeps_its_query_count(photonics, staff, api):
    steward = staff["steward"]
    client = api(staff["officer"], "en")
    url = reverse("target-assessment-list", kwargs={"target_pk": photonics.pk})

    def queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    assessment_record(
        actor=steward, target=photonics, **{**GOOD, "assessed_on": dt.date(2026, 3, 1)}
    )
    one = queries()
    for day in (2, 3, 4, 5):
        assessment_record(
            actor=steward, target=photonics, **{**GOOD, "assessed_on": dt.date(2026, 3, day)}
        )
    assert queries() == one


def test_an_unknown_target_is_a_404(photonics, staff, api):
    response = api(staff["steward"], "en").post(
        reverse("target-assessment-list", kwargs={"target_pk": 999999}), GOOD, format="json"
    )
    assert response.status_code == 404


def test_an_assessment_is_kept_as_made_nobody_changes_or_deletes_it(photonics, staff, client):
    assessment_record(
        actor=staff["steward"], target=photonics, **{**GOOD, "assessed_on": dt.date(2026, 9, 28)}
    )
    assessment = Assessment.objects.get()
    client.force_login(staff["steward"])
    url = reverse("admin:targets_assessment_change", args=[assessment.pk])
    response = client.post(url, {**GOOD, "target": photonics.pk, "status": Status.ACHIEVED})
    assert response.status_code == 403
    delete = reverse("admin:targets_assessment_delete", args=[assessment.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Assessment.objects.get().status == Status.ON_TRACK

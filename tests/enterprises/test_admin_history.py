"""The admin's history and revert views follow the admin's scope and roles like its other views:
another district's object (live or deleted) does not exist (404, logged as refused), only
those who may edit revert, only to a state inside their scope, through the register's
services; the history of workflow data stays readable and is never reverted around its
services."""

import logging

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from cluster.access import Role
from cluster.models import District
from enterprises.models import Enterprise, QuarterlyReport, ResearchProject
from enterprises.services.reports import reports_approve, reports_submit
from tests.conftest import KUNSHAN, SIP
from tests.enterprises.test_admin import enterprise_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user):
    """Staff users of each role, the way a city gives its officers the admin."""
    return {
        "officer_sip": make_user("officer_sip_staff", Role.DISTRICT_OFFICER, SIP, staff=True),
        "sip_viewer": make_user("sip_viewer_staff", Role.ADMINISTRATOR, SIP, staff=True),
        "city_viewer": make_user("city_viewer_staff", Role.ADMINISTRATOR, staff=True),
        "city_steward": make_user("city_steward_staff", Role.CITY_STEWARD, staff=True),
    }


def history_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])


def revert_url(obj, record) -> str:
    opts = obj._meta
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_simple_history",
        args=[obj.pk, record.history_id],
    )


def renamed(enterprise, name_zh):
    enterprise.name_zh = name_zh
    enterprise.save()
    return enterprise


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused access")]


@pytest.fixture
def kunshan_objects(two_districts, designation_factory):
    firm = renamed(two_districts["kunshan"], "昆山乙公司（更名）")
    return {
        "enterprise": firm,
        "designation": designation_factory(enterprise=firm),
        "report": two_districts["kunshan_report"],
        "project": ResearchProject.objects.create(
            title="昆山重大项目",
            lead_enterprise=firm,
            district=firm.district,
            level="city",
            started_on="2025-01-01",
        ),
    }


@pytest.mark.parametrize("role", ["officer_sip", "sip_viewer"])
@pytest.mark.parametrize("kind", ["enterprise", "designation", "report", "project"])
def test_another_districts_history_and_versions_do_not_exist(
    client, staff, kunshan_objects, caplog, role, kind
):
    caplog.set_level(logging.WARNING, logger="cluster.security")
    obj = kunshan_objects[kind]
    first = obj.history.earliest()
    before = type(obj).history.filter(id=obj.pk).count()
    client.force_login(staff[role])
    assert client.get(history_url(obj)).status_code == 404
    assert client.get(revert_url(obj, first)).status_code == 404
    assert client.post(revert_url(obj, first), {}).status_code == 404
    assert len(refusals(caplog)) == 3
    assert all(f"user={staff[role].username}" in line for line in refusals(caplog))
    assert type(obj).history.filter(id=obj.pk).count() == before


def test_a_deleted_firm_of_another_district_keeps_its_history_to_itself(
    client, staff, two_districts, steward, caplog
):
    caplog.set_level(logging.WARNING, logger="cluster.security")
    firm = two_districts["kunshan"]
    two_districts["kunshan_report"].delete()
    firm_id, name = firm.pk, firm.name_zh
    firm.delete()
    url = reverse("admin:enterprises_enterprise_history", args=[firm_id])
    client.force_login(staff["officer_sip"])
    assert client.get(url).status_code == 404
    assert len(refusals(caplog)) == 1
    client.force_login(steward)
    page = client.get(url)
    assert page.status_code == 200
    assert name in page.content.decode()


def test_an_officer_cannot_revert_another_districts_firm_into_their_own(
    client, staff, two_districts
):
    firm = renamed(two_districts["kunshan"], "昆山乙公司（更名）")
    first = firm.history.earliest()
    client.force_login(staff["officer_sip"])
    data = enterprise_form(
        uscc=firm.uscc,
        name_zh="园区甲公司（抢注）",
        district=District.objects.get(code=SIP).pk,
    )
    assert client.post(revert_url(firm, first), data).status_code == 404
    firm.refresh_from_db()
    assert (firm.district.code, firm.name_zh) == (KUNSHAN, "昆山乙公司（更名）")


@pytest.mark.parametrize("role", ["sip_viewer", "city_viewer"])
def test_a_read_only_administrator_reads_history_and_never_reverts(
    client, staff, two_districts, role
):
    firm = renamed(two_districts["sip"], "园区甲公司（更名）")
    first = firm.history.earliest()
    client.force_login(staff[role])
    assert "园区甲公司（更名）" in client.get(history_url(firm)).content.decode()
    form = client.get(revert_url(firm, first))
    assert form.status_code == 200
    assert 'name="_save"' not in form.content.decode()
    data = enterprise_form(uscc=firm.uscc, district=firm.district_id)
    assert client.post(revert_url(firm, first), data).status_code == 403
    firm.refresh_from_db()
    assert firm.name_zh == "园区甲公司（更名）"
    assert firm.history.count() == 2


def test_a_read_only_administrator_cannot_revert_reference_data(client, staff):
    district = District.objects.get(code=SIP)
    first = district.history.earliest()
    district.name_en = "SIP"
    district.save()
    client.force_login(staff["city_viewer"])
    posted = client.post(
        revert_url(district, first),
        {"name_zh": district.name_zh, "name_en": "Hacked", "code": district.code},
    )
    assert posted.status_code == 403
    district.refresh_from_db()
    assert district.name_en == "SIP"


def test_an_officer_reverts_their_firm_through_the_register_service(
    client, staff, two_districts, city_steward
):
    """Reverting is saving an earlier state: the register's service decides, with both the
    firm's current district and the reverted one in the officer's scope."""
    firm = two_districts["sip"]
    officer = staff["officer_sip"]
    renamed(firm, "园区甲公司（误改）")
    client.force_login(officer)
    first = firm.history.earliest()
    form = client.get(revert_url(firm, first))
    assert 'name="_save"' in form.content.decode()
    data = enterprise_form(
        uscc=firm.uscc,
        name_zh="园区甲公司",
        name_en=first.name_en,
        district=firm.district_id,
    )
    assert client.post(revert_url(firm, first), data).status_code == 302
    firm.refresh_from_db()
    assert firm.name_zh == "园区甲公司"
    assert firm.history.latest().history_user == officer

    # The firm came from Kunshan: going back to that state is outside the officer's scope.
    moved = two_districts["kunshan"]
    moved.district = District.objects.get(code=SIP)
    moved.save()
    kunshan_state = moved.history.earliest()
    refused = client.post(
        revert_url(moved, kunshan_state),
        enterprise_form(uscc=moved.uscc, district=moved.district_id),
    )
    assert refused.status_code == 302
    assert [str(m) for m in get_messages(refused.wsgi_request)][-1] == (
        "该版本属于您权限范围以外的区县，不能恢复。"
    )
    moved.refresh_from_db()
    assert moved.district.code == SIP
    assert moved.history.count() == 2


@pytest.fixture
def approved_report(two_districts, make_user, city_steward):
    """A SIP report entered and submitted by the officer and approved by the steward."""
    officer = make_user("officer_sip_submitter", Role.DISTRICT_OFFICER, SIP)
    report = two_districts["sip_report"]
    reports_submit(
        actor=officer,
        district=report.enterprise.district,
        quarter=report.period,
        enterprise_ids=[report.enterprise_id],
    )
    reports_approve(actor=city_steward, report_ids=[report.pk])
    report.refresh_from_db()
    return report


@pytest.mark.parametrize("user", ["city_steward", "steward"])
def test_an_approved_report_is_not_reverted_around_its_workflow(
    request, client, approved_report, user
):
    draft = approved_report.history.earliest()
    client.force_login(request.getfixturevalue(user))
    history = client.get(history_url(approved_report))
    assert history.status_code == 200
    form = client.get(revert_url(approved_report, draft))
    assert form.status_code == 200
    assert 'name="_save"' not in form.content.decode()
    posted = client.post(
        revert_url(approved_report, draft),
        {
            "enterprise": approved_report.enterprise_id,
            "year": 2025,
            "quarter": 3,
            "output_value": "1.00",
            "statistical_scope": "self_reported",
        },
    )
    assert posted.status_code == 302
    assert [str(m) for m in get_messages(posted.wsgi_request)] == [
        "季度报表须经报送、审核、退回的流程变更，不能在此恢复旧版本。"
    ]
    report = QuarterlyReport.objects.get(pk=approved_report.pk)
    assert (report.status, report.revision, report.version) == (
        "approved",
        1,
        approved_report.version,
    )
    assert report.revisions.count() == 1


def test_an_alerts_history_is_readable_and_never_reverted(client, steward):
    from django.utils import timezone

    from targets.models import Alert, AlertRule

    now = timezone.now()
    alert = Alert.objects.create(
        rule=AlertRule.objects.get(kind="designation_expiring"),
        severity=2,
        owner=District.objects.get(code=SIP),
        dedup_key="k:history",
        message_zh="甲公司资质将到期",
        message_en="Alpha's designation expires",
        opened_at=now,
        last_seen_at=now,
    )
    opened = alert.history.earliest()
    alert.state, alert.resolved_at = "resolved", now
    alert.save()
    client.force_login(steward)
    assert client.get(history_url(alert)).status_code == 200
    form = client.get(revert_url(alert, opened))
    assert 'name="_save"' not in form.content.decode()
    posted = client.post(revert_url(alert, opened), {})
    assert posted.status_code == 302
    assert [str(m) for m in get_messages(posted.wsgi_request)] == [
        "预警须经确认、暂缓、解除的流程变更，不能在此恢复旧版本。"
    ]
    alert.refresh_from_db()
    assert alert.state == "resolved"


def test_enterprise_delete_and_import_are_for_those_who_may_edit(client, staff, two_districts):
    firm = two_districts["sip"]
    client.force_login(staff["city_viewer"])
    assert client.get(reverse("admin:enterprises_enterprise_import")).status_code == 403
    assert (
        client.get(reverse("admin:enterprises_enterprise_delete", args=[firm.pk])).status_code
        == 403
    )
    assert Enterprise.objects.filter(pk=firm.pk).exists()


@pytest.mark.parametrize(
    ("bad", "status"),
    [("abc", 404), ("-1", 404), (str(10**30), 404), ("1e308", 404), ("%00", 400)],
)
def test_a_bad_id_in_a_history_url_is_a_404(client, steward, two_districts, bad, status):
    """Not a record: 404. A control character in the address is refused before any view
    (cluster.middleware, 400 naming it), as on every page."""
    firm = two_districts["sip"]
    record = firm.history.earliest().history_id
    client.force_login(steward)
    for url in (
        f"/admin/enterprises/enterprise/{bad}/history/",
        f"/admin/enterprises/enterprise/{bad}/history/{record}/",
        f"/admin/enterprises/enterprise/{firm.pk}/history/{bad}/",
        f"/admin/enterprises/enterprise/{bad}/change/",
    ):
        assert client.get(url).status_code == status, url
        assert client.post(url, {}).status_code == status, url

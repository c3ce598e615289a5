"""The reporting and register pages: access by district, the numbers they show, htmx saves,
and query counts that do not grow with the number of firms."""

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from cluster.models import District
from enterprises.imports import column_label
from enterprises.models import QuarterlyReport
from tests.conftest import KUNSHAN, SIP

pytestmark = pytest.mark.django_db


def district(code):
    return District.objects.get(code=code)


def urls_for(data):
    """Every page and export that concerns one firm or district, keyed by what it shows."""
    sip, kunshan = district(SIP), district(KUNSHAN)
    out = {}
    for name, d, firm in (("sip", sip, data["sip"]), ("kunshan", kunshan, data["kunshan"])):
        out[name] = [
            reverse("reports:worksheet", args=[d.pk, "2025Q3"]),
            reverse("reports:row", args=[d.pk, "2025Q3", firm.pk]),
            reverse("reports:export", args=[d.pk, "2025Q3", "xlsx"]),
            reverse("reports:export", args=[d.pk, "2025Q3", "csv"]),
            reverse("targets:enterprise", args=[firm.pk]),
            reverse("enterprises:edit", args=[firm.pk]),
        ]
    return out


@pytest.mark.parametrize(
    ("user_fixture", "allowed"),
    [
        ("officer_sip", {"sip"}),
        ("officer_kunshan", {"kunshan"}),
        ("sip_viewer", {"sip"}),
        ("city_viewer", {"sip", "kunshan"}),
        ("city_steward", {"sip", "kunshan"}),
    ],
)
def test_district_scoping_matrix_for_every_page_and_export(
    client, request, two_districts, user_fixture, allowed
):
    user = request.getfixturevalue(user_fixture)
    client.force_login(user)
    read_only = user_fixture in ("sip_viewer", "city_viewer")
    for name, urls in urls_for(two_districts).items():
        for url in urls:
            status = client.get(url).status_code
            if name not in allowed:
                assert status == 404, (user_fixture, url, status)
            elif url.endswith("/edit/") and read_only:
                assert status == 403, (user_fixture, url, status)
            else:
                assert status == 200, (user_fixture, url, status)


def test_anonymous_users_are_sent_to_login(client, two_districts):
    for url in urls_for(two_districts)["sip"] + [reverse("reports:completeness")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_lists_and_exports_only_contain_the_users_district(client, officer_sip, two_districts):
    client.force_login(officer_sip)
    names = [e.name_zh for e in client.get(reverse("enterprises:list")).context["page"]]
    assert names == ["园区甲公司"]
    export = client.get(reverse("enterprises:export", args=["csv"])).content.decode("utf-8-sig")
    assert "园区甲公司" in export and "昆山乙公司" not in export
    table = client.get(reverse("reports:completeness")).context["overview"].table
    assert [cells[0].district.code for cells in table] == [SIP]


def test_refused_access_is_logged(client, officer_kunshan, two_districts, caplog):
    client.force_login(officer_kunshan)
    with caplog.at_level(logging.WARNING, logger="cluster.security"):
        response = client.get(reverse("targets:enterprise", args=[two_districts["sip"].pk]))
    assert response.status_code == 404
    assert "refused access: user=officer_kunshan model=enterprises.Enterprise" in caplog.text


def test_worksheet_shows_figures_in_wan_with_previous_and_last_year(
    client, officer_sip, enterprise_factory, report_factory
):
    firm = enterprise_factory(name_zh="对比公司")
    report_factory(enterprise=firm, year=2025, quarter=3, output_value=Decimal("15000000"))
    report_factory(enterprise=firm, year=2025, quarter=2, output_value=Decimal("10000000"))
    report_factory(enterprise=firm, year=2024, quarter=3, output_value=Decimal("12000000"))
    client.force_login(officer_sip)
    response = client.get(
        reverse("reports:worksheet", args=[firm.district.pk, "2025Q3"]), HTTP_ACCEPT_LANGUAGE="en"
    )
    cell = response.context["rows"][0].cells[0]
    assert (cell.value, cell.previous, cell.last_year) == (
        Decimal("1500.00"),
        Decimal("1000.00"),
        Decimal("1200.00"),
    )
    assert (cell.qoq, cell.yoy) == (Decimal("50"), Decimal("25"))
    assert cell.flagged is False  # exactly 50% is not beyond the threshold
    html = response.content.decode()
    assert 'value="1,500.00"' in html
    assert "+50.0%" in html and "+25.0%" in html


def test_worksheet_in_year_to_date_mode_shows_cumulative_values(
    client, officer_sip, enterprise_factory, report_factory
):
    firm = enterprise_factory()
    for quarter, value in ((1, "1000000"), (2, "2000000"), (3, "3000000")):
        report_factory(enterprise=firm, year=2025, quarter=quarter, output_value=Decimal(value))
    client.force_login(officer_sip)
    response = client.get(
        reverse("reports:worksheet", args=[firm.district.pk, "2025Q3"]), {"mode": "ytd"}
    )
    cell = response.context["rows"][0].cells[0]
    assert (cell.value, cell.previous) == (Decimal("600.00"), Decimal("300.00"))


def post_row(client, firm, version, **values):
    data = {
        "version": version,
        "mode": "quarterly",
        "output_value": "",
        "operating_revenue": "",
        "rd_spending": "",
        "employees": "",
        "invention_patents": "",
        "high_value_patents": "",
    }
    data.update(values)
    return client.post(
        reverse("reports:row", args=[firm.district.pk, "2025Q3", firm.pk]),
        data,
        HTTP_HX_REQUEST="true",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_row_save_returns_the_saved_row(client, officer_sip, enterprise_factory):
    firm = enterprise_factory()
    client.force_login(officer_sip)
    response = post_row(
        client, firm, 0, output_value="1,234.56", operating_revenue="1000", employees="9"
    )
    assert response.status_code == 200
    assert response.context["row"].saved
    report = QuarterlyReport.objects.get()
    assert (report.output_value, report.operating_revenue, report.employees) == (
        Decimal("12345600.00"),
        Decimal("10000000.00"),
        9,
    )
    assert 'value="1,234.56"' in response.content.decode()


def test_row_save_with_bad_input_answers_422_with_the_reasons(
    client, officer_sip, enterprise_factory
):
    firm = enterprise_factory()
    client.force_login(officer_sip)
    response = post_row(
        client, firm, 0, output_value="12a", operating_revenue="-3", employees="2.5"
    )
    assert response.status_code == 422
    errors = {c.figure: c.error for c in response.context["row"].cells if c.error}
    assert errors == {
        "output_value": "Not a number; write it like 1,234.56.",
        "operating_revenue": "Cannot be negative.",
        "employees": "Must be a whole number.",
    }
    assert 'value="12a"' in response.content.decode()  # what was typed is kept
    assert not QuarterlyReport.objects.exists()


def test_second_save_on_a_stale_version_answers_409_with_the_newer_values(
    client, officer_sip, make_user, enterprise_factory
):
    from cluster.access import Role

    firm = enterprise_factory()
    colleague = make_user("colleague", Role.DISTRICT_OFFICER, SIP)
    client.force_login(officer_sip)
    post_row(client, firm, 0, output_value="100", operating_revenue="100")
    client.force_login(colleague)
    assert post_row(client, firm, 1, output_value="120", operating_revenue="100").status_code == 200
    client.force_login(officer_sip)
    response = post_row(client, firm, 1, output_value="999", operating_revenue="100")
    assert response.status_code == 409
    html = response.content.decode()
    assert "changed by someone else (now version 2)" in html
    assert "output value: 120.00" in html
    assert QuarterlyReport.objects.get().output_value == Decimal("1200000.00")


def test_jump_without_note_asks_for_one(client, officer_sip, enterprise_factory, report_factory):
    firm = enterprise_factory()
    report_factory(enterprise=firm, year=2025, quarter=2, output_value=Decimal("1000000"))
    client.force_login(officer_sip)
    response = post_row(client, firm, 0, output_value="300", operating_revenue="100")
    assert response.status_code == 422
    assert response.context["row"].flagged
    assert 'name="anomaly_note"' in response.content.decode()
    ok = post_row(client, firm, 0, output_value="300", operating_revenue="100", anomaly_note="扩产")
    assert ok.status_code == 200


def test_steward_returns_a_row_with_a_reason_and_the_officer_sees_it(
    client, officer_sip, city_steward, enterprise_factory
):
    firm = enterprise_factory()
    client.force_login(officer_sip)
    post_row(client, firm, 0, output_value="100", operating_revenue="90")
    client.post(reverse("reports:submit", args=[firm.district.pk, "2025Q3"]), {"scope": "all"})
    report = QuarterlyReport.objects.get()
    assert report.status == "submitted"
    client.force_login(city_steward)
    response = client.post(
        reverse("reports:review", args=[firm.district.pk, "2025Q3"]),
        {"report": report.pk, "action": "return", "reason": "请核实营业收入"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    client.force_login(officer_sip)
    page = client.get(reverse("reports:worksheet", args=[firm.district.pk, "2025Q3"]))
    row = page.context["rows"][0]
    assert (row.status, row.editable) == ("returned", True)
    assert "请核实营业收入" in page.content.decode()


def test_completeness_counts_and_overdue(
    client, city_steward, enterprise_factory, report_factory, settings
):
    settings.REPORT_DEADLINE_DAYS = 15
    sip = district(SIP)
    firms = enterprise_factory.create_batch(4, district=sip, joined_on=dt.date(2020, 1, 1))
    enterprise_factory(district=sip, joined_on=dt.date(2026, 1, 1))  # joined later
    now = dt.datetime(2025, 10, 10, tzinfo=dt.UTC)
    report_factory(
        enterprise=firms[0],
        year=2025,
        quarter=3,
        status="approved",
        submitted_at=now,
        approved_at=now,
        revision=1,
    )
    report_factory(enterprise=firms[1], year=2025, quarter=3, status="submitted", submitted_at=now)
    report_factory(enterprise=firms[2], year=2025, quarter=3)  # draft
    client.force_login(city_steward)
    response = client.get(reverse("reports:completeness"), {"until": "2025Q3"})
    row = next(cells for cells in response.context["overview"].table if cells[0].district == sip)
    cell = row[-1]
    assert (cell.expected, cell.entered, cell.submitted, cell.approved) == (4, 3, 1, 1)
    assert (cell.outstanding, cell.overdue) == (2, 2)  # today is past 2025-10-15
    outstanding = client.get(
        reverse("reports:worksheet", args=[sip.pk, "2025Q3"]), {"show": "outstanding"}
    )
    assert {r.enterprise for r in outstanding.context["rows"]} == {firms[2], firms[3]}


def count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("page", ["worksheet", "completeness", "enterprises", "detail"])
def test_pages_have_a_constant_number_of_queries(
    client, officer_sip, enterprise_factory, report_factory, page
):
    sip = district(SIP)
    first = enterprise_factory(district=sip)
    report_factory(enterprise=first, year=2025, quarter=3)

    def url():
        return {
            "worksheet": reverse("reports:worksheet", args=[sip.pk, "2025Q3"]),
            "completeness": reverse("reports:completeness"),
            "enterprises": reverse("enterprises:list"),
            "detail": reverse("targets:enterprise", args=[first.pk]),
        }[page]

    client.force_login(officer_sip)
    few = count_queries(client, url())
    for firm in enterprise_factory.create_batch(30, district=sip):
        report_factory(enterprise=firm, year=2025, quarter=3)
        report_factory(enterprise=firm, year=2025, quarter=2)
    for quarter in (1, 2):
        report_factory(enterprise=first, year=2025, quarter=quarter)
    many = count_queries(client, url())
    assert many == few


def test_login_is_logged_and_repeated_failures_lock_out(client, officer_sip, caplog, settings):
    url = reverse("login")
    with caplog.at_level(logging.INFO, logger="cluster.security"):
        ok = client.post(
            url, {"username": "officer_sip", "password": "pass-for-tests-1"}, REMOTE_ADDR="10.0.0.9"
        )
        assert ok.status_code == 302
        client.logout()
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            client.post(
                url, {"username": "officer_sip", "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
            )
    assert "login: user=officer_sip ip=10.0.0.9" in caplog.text
    assert "login failed: user=officer_sip ip=10.0.0.9" in caplog.text
    locked = client.post(
        url, {"username": "officer_sip", "password": "pass-for-tests-1"}, REMOTE_ADDR="10.0.0.9"
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_uscc_check_as_you_type(client, officer_sip, enterprise_factory):
    existing = enterprise_factory()
    client.force_login(officer_sip)
    url = reverse("enterprises:check-uscc")
    bad = client.get(url, {"uscc": "91350100M000100Y44"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "should be 3, not 4" in bad.content.decode()
    taken = client.get(url, {"uscc": existing.uscc}, HTTP_ACCEPT_LANGUAGE="en")
    assert "already registered" in taken.content.decode()
    good = client.get(url, {"uscc": "91350100M000100Y43"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Valid code." in good.content.decode()


def material(cluster: str, code: str) -> int:
    from cluster.models import Sector

    return Sector.objects.get(cluster__key=cluster, code=code).pk


def cluster_pk(key: str) -> int:
    from cluster.models import Cluster

    return Cluster.objects.get(key=key).pk


def enterprise_post(**overrides):
    from tests.factories import valid_uscc

    data = {
        "uscc": valid_uscc(4242),
        "name_zh": "新注册公司",
        "name_en": "",
        "district": district(SIP).pk,
        "park": "",
        "size_class": "small",
        "status": "active",
        "memberships-0-cluster": cluster_pk("nano"),
        "memberships-0-sector": material("nano", "2.01"),
        "memberships-0-joined_on": "2025-01-01",
    }
    for prefix in ("memberships", "designations", "listings", "milestones"):
        data.update({f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_officer_registers_a_firm_with_its_cluster_and_a_designation(client, officer_sip):
    client.force_login(officer_sip)
    response = client.post(
        reverse("enterprises:create"),
        enterprise_post(
            **{
                "memberships-0-further_sectors": [material("nano", "2.02")],
                "designations-0-type": "gazelle",
                "designations-0-tier": "city",
                "designations-0-valid_from": "2025-03-01",
                "designations-0-valid_to": "2027-02-28",
            }
        ),
    )
    assert response.status_code == 302
    from enterprises.models import Enterprise

    firm = Enterprise.objects.get(name_zh="新注册公司")
    assert firm.district.code == SIP
    membership = firm.memberships.get()
    assert (membership.cluster.key, membership.sector.code, membership.joined_on) == (
        "nano",
        "2.01",
        dt.date(2025, 1, 1),
    )
    assert [s.code for s in membership.further_sectors.all()] == ["2.02"]
    assert list(firm.designations.values_list("type", "valid_to")) == [
        ("gazelle", dt.date(2027, 2, 28))
    ]
    assert firm.history.get().history_user == officer_sip
    assert {h.history_user for h in membership.history.all()} == {officer_sip}


def test_the_page_offers_the_materials_of_each_cluster_by_direction(client, officer_sip):
    from tests.factories import cluster_with_tree

    cluster_with_tree("photonics")
    client.force_login(officer_sip)
    page = client.get(reverse("enterprises:create"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert '<optgroup label="苏州市纳米新材料产业创新集群 › 纳米电子信息材料">' in html
    assert '<optgroup label="苏州市光子产业创新集群 › 光通信器件">' in html
    sector = page.context["formset_sections"][0][1].forms[0]["sector"]
    groups = [label for label, _options in sector.field.choices[1:]]
    assert len(groups) == 4 + 2  # nano's four directions, then photonics' two
    assert "1.04 先进封装材料" in html


def test_a_firm_is_registered_with_a_cluster_and_errors_are_on_their_fields(client, officer_sip):
    from enterprises.models import Enterprise
    from tests.factories import cluster_with_tree

    cluster_with_tree("photonics")
    client.force_login(officer_sip)
    url = reverse("enterprises:create")
    none = client.post(
        url,
        enterprise_post(
            **{
                "memberships-0-cluster": "",
                "memberships-0-sector": "",
                "memberships-0-joined_on": "",
            }
        ),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert none.status_code == 422
    memberships = none.context["formset_sections"][0][1]
    assert memberships.non_form_errors() == ["企业至少属于一个产业集群：请填写其所属集群。"]
    wrong_tree = client.post(
        url,
        enterprise_post(**{"memberships-0-sector": material("photonics", "1.01")}),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert wrong_tree.context["formset_sections"][0][1].forms[0].errors == {
        "sector": ["请选择本集群产业领域中的材料。"]
    }
    twice = client.post(
        url,
        enterprise_post(
            **{
                "memberships-TOTAL_FORMS": "2",
                "memberships-1-cluster": cluster_pk("nano"),
                "memberships-1-sector": material("nano", "1.04"),
                "memberships-1-joined_on": "2025-06-01",
            }
        ),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    rows = twice.context["formset_sections"][0][1].forms
    assert (rows[0].errors, rows[1].errors) == (
        {},
        {"joined_on": ["The firm is already a member of this cluster for part of this period."]},
    )
    assert not Enterprise.objects.exists()
    both = client.post(
        url,
        enterprise_post(
            **{
                "memberships-TOTAL_FORMS": "2",
                "memberships-1-cluster": cluster_pk("photonics"),
                "memberships-1-sector": material("photonics", "1.01"),
                "memberships-1-joined_on": "2025-06-01",
            }
        ),
    )
    assert both.status_code == 302
    firm = Enterprise.objects.get()
    assert sorted(firm.memberships.values_list("cluster__key", flat=True)) == [
        "nano",
        "photonics",
    ]


def test_officer_cannot_register_a_firm_in_another_district(client, officer_kunshan):
    client.force_login(officer_kunshan)
    response = client.post(reverse("enterprises:create"), enterprise_post())
    assert response.status_code == 422
    assert "district" in response.context["form"].errors
    from enterprises.models import Enterprise

    assert not Enterprise.objects.exists()


def test_admin_is_scoped_like_the_pages(client, make_user, two_districts):
    from cluster.access import Role

    staff_officer = make_user("staff_officer", Role.DISTRICT_OFFICER, KUNSHAN, staff=True)
    client.force_login(staff_officer)
    listing = client.get(reverse("admin:enterprises_enterprise_changelist"))
    assert [e.name_zh for e in listing.context["cl"].result_list] == ["昆山乙公司"]
    other = two_districts["sip"]
    assert (
        client.get(reverse("admin:enterprises_enterprise_change", args=[other.pk])).status_code
        == 404
    )
    reports = client.get(reverse("admin:enterprises_quarterlyreport_changelist"))
    assert reports.context["cl"].result_count == 1


def test_year_to_date_mode_hides_the_quarter_change_but_keeps_the_jump_flag(
    client, officer_sip, enterprise_factory, report_factory
):
    firm = enterprise_factory()
    report_factory(enterprise=firm, year=2025, quarter=2, output_value=Decimal("1000000"))
    report_factory(enterprise=firm, year=2025, quarter=3, output_value=Decimal("3000000"))
    report_factory(enterprise=firm, year=2025, quarter=1, output_value=Decimal("1000000"))
    client.force_login(officer_sip)
    url = reverse("reports:worksheet", args=[firm.district.pk, "2025Q3"])
    quarterly = client.get(url).context["rows"][0].cells[0]
    cumulative = client.get(url, {"mode": "ytd"}).context["rows"][0].cells[0]
    assert (quarterly.qoq, quarterly.flagged) == (Decimal("200"), True)
    assert (cumulative.value, cumulative.qoq, cumulative.flagged) == (Decimal("500.00"), None, True)


def test_the_profile_shows_each_cluster_with_sector_and_dates(
    client, city_viewer, enterprise_factory
):
    from cluster.models import Sector
    from enterprises.models import ClusterMembership
    from tests.factories import cluster_with_tree

    photonics = cluster_with_tree("photonics")
    firm = enterprise_factory(left_on=dt.date(2025, 6, 30))
    ClusterMembership.objects.create(
        enterprise=firm,
        cluster=photonics,
        sector=Sector.objects.get(cluster=photonics, code="1.02"),
        joined_on=dt.date(2024, 3, 1),
    )
    client.force_login(city_viewer)
    page = client.get(reverse("targets:enterprise", args=[firm.pk]), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert (
        f"<strong>{firm.memberships.get(cluster__key='nano').cluster.name_en}</strong> · "
        "Nano electronic information materials → Advanced packaging materials"
    ) in html
    assert "joined Jan. 1, 2020 · left June 30, 2025" in html
    assert (
        "<strong>Suzhou Photonics Industrial Innovation Cluster</strong> · "
        "Optical communication devices → Photonic chips"
    ) in html
    assert "joined March 1, 2024</span>" in html


@pytest.mark.parametrize(
    ("language", "paragraph", "header"),
    [("en", "(money in ¥10,000)", "(¥10,000)"), ("zh-hans", "金额以万元计", "（万元）")],
)
def test_the_import_page_names_the_money_unit_as_the_templates_header_does(
    client, officer_sip, language, paragraph, header
):
    client.force_login(officer_sip)
    html = client.get(reverse("reports:import"), headers={"accept-language": language})
    text = html.content.decode()
    assert paragraph in text
    with translation.override(language):
        assert column_label("output_value").endswith(header)

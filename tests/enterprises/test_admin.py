import datetime as dt

import pytest
import tablib
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cluster.models import Cluster, District, Sector
from enterprises.models import ClusterMembership, Enterprise, QuarterlyReport
from enterprises.resources import ENTERPRISE_COLUMNS, EnterpriseResource
from tests.factories import valid_uscc

pytestmark = pytest.mark.django_db


def enterprise_form(membership=None, **overrides):
    """The admin's add form of a firm with its membership of the nano cluster (or, on the
    change form, `membership`, the stored one)."""
    data = {
        "uscc": valid_uscc(9001),
        "name_zh": "苏州示例纳米科技有限公司",
        "name_en": "Suzhou Example Nanotech",
        "district": District.objects.get(code="320571").pk,
        "park": "",
        "size_class": "small",
        "status": "active",
        "memberships-TOTAL_FORMS": "1",
        "memberships-INITIAL_FORMS": "1" if membership else "0",
        "memberships-0-cluster": Cluster.objects.get(key="nano").pk,
        "memberships-0-sector": Sector.objects.get(cluster__key="nano", code="1.02").pk,
        "memberships-0-joined_on": "2023-01-01",
    }
    if membership:
        data["memberships-0-id"] = membership.pk
        data["memberships-0-enterprise"] = membership.enterprise_id
    for prefix in ("designations", "listings", "milestones", "reports"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data.update(overrides)
    return data


def test_admin_refuses_a_bad_uscc_with_the_reason_in_chinese(client, steward):
    client.force_login(steward)
    response = client.post(
        reverse("admin:enterprises_enterprise_add"),
        enterprise_form(uscc="91350100M000100Y44"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["uscc"]
    assert errors == ["校验码（最后一位）应为 3，而不是 4：代码中可能有字符输错。"]
    assert not Enterprise.objects.exists()


def test_admin_refuses_a_bad_uscc_with_the_reason_in_english(client, steward):
    client.force_login(steward)
    response = client.post(
        reverse("admin:enterprises_enterprise_add"),
        enterprise_form(uscc="91350100m000100y43"),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.context["adminform"].form.errors["uscc"] == [
        "A USCC is written in capital letters."
    ]


def test_admin_edit_leaves_history_with_who_and_what(client, steward, enterprise_factory):
    client.force_login(steward)
    response = client.post(reverse("admin:enterprises_enterprise_add"), enterprise_form())
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(uscc=valid_uscc(9001))
    membership = enterprise.memberships.get()
    assert (membership.sector.code, membership.joined_on) == ("1.02", dt.date(2023, 1, 1))
    response = client.post(
        reverse("admin:enterprises_enterprise_change", args=[enterprise.pk]),
        enterprise_form(membership, name_zh="苏州示例纳米科技股份有限公司"),
    )
    assert response.status_code == 302
    records = list(enterprise.history.order_by("history_date"))
    assert [r.history_type for r in records] == ["+", "~"]
    assert [r.history_user for r in records] == [steward, steward]
    delta = records[1].diff_against(records[0])
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("name_zh", "苏州示例纳米科技有限公司", "苏州示例纳米科技股份有限公司")
    ]
    history_page = client.get(reverse("admin:enterprises_enterprise_history", args=[enterprise.pk]))
    assert "苏州示例纳米科技股份有限公司" in history_page.content.decode()
    assert [(h.history_type, h.history_user) for h in membership.history.all()] == [("+", steward)]


def test_the_admin_refuses_a_firm_of_no_cluster(client, steward):
    client.force_login(steward)
    response = client.post(
        reverse("admin:enterprises_enterprise_add"),
        enterprise_form(**{"memberships-TOTAL_FORMS": "0"}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    memberships = next(
        i.formset
        for i in response.context["inline_admin_formsets"]
        if i.formset.prefix == "memberships"
    )
    assert memberships.non_form_errors() == [
        "A firm belongs to at least one cluster: enter its membership."
    ]
    assert not Enterprise.objects.exists()


def test_two_overlapping_rows_of_one_cluster_are_refused_not_a_crash(client, steward):
    client.force_login(steward)
    second = {
        "memberships-TOTAL_FORMS": "2",
        "memberships-1-cluster": Cluster.objects.get(key="nano").pk,
        "memberships-1-sector": Sector.objects.get(cluster__key="nano", code="3.01").pk,
        "memberships-1-joined_on": "2024-01-01",
    }
    response = client.post(
        reverse("admin:enterprises_enterprise_add"),
        enterprise_form(**second),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    memberships = next(
        i.formset
        for i in response.context["inline_admin_formsets"]
        if i.formset.prefix == "memberships"
    )
    assert memberships.forms[1].errors == {
        "joined_on": ["该企业在此期间已是本集群成员（时段有重叠）。"]
    }
    assert not Enterprise.objects.exists() and not ClusterMembership.objects.exists()


def test_admin_refuses_a_duplicate_report(client, steward, report_factory):
    report = report_factory(year=2025, quarter=1)
    client.force_login(steward)
    response = client.post(
        reverse("admin:enterprises_quarterlyreport_add"),
        {"enterprise": report.enterprise.pk, "period": "2025Q1", "mode": "quarterly"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    form = response.context["adminform"].form
    assert form.non_field_errors() == ["该企业本季度已有报表。"]
    assert QuarterlyReport.objects.count() == 1


def import_dataset(rows):
    return tablib.Dataset(*rows, headers=list(ENTERPRISE_COLUMNS))


def firm(uscc, name, district, size="small", status="active", above="0", **cells):
    """A row in the template's column order; `cells` names the other columns."""
    row = {
        "uscc": uscc,
        "name_zh": name,
        "district": district,
        "size_class": size,
        "status": status,
        "above_designated_size": above,
        **cells,
    }
    return [row.get(column, "") for column in ENTERPRISE_COLUMNS]


def test_bulk_import_writes_history_rows_credited_to_the_importer(steward, enterprise_factory):
    existing = enterprise_factory(uscc=valid_uscc(7), name_zh="旧名称")
    dataset = import_dataset(
        [
            firm(
                valid_uscc(1),
                "新企业一",
                "苏州工业园区",
                "小型",
                park="苏州纳米城",
                founded_on="2020-01-01",
                primary_sector="1.02",
                in_cluster_from="2021-01-01",
            ),
            firm(
                valid_uscc(2),
                "新企业二",
                "320583",
                status="在营",
                above="1",
                primary_sector="先进封装材料",
            ),
            firm(
                existing.uscc,
                "新名称",
                "Suzhou Industrial Park",
                "medium",
                primary_sector="3.02",
                in_cluster_from="2020-01-01",
            ),
        ]
    )
    result = EnterpriseResource().import_data(dataset, dry_run=False, user=steward)
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 2 and result.totals["update"] == 1
    created = Enterprise.objects.get(uscc=valid_uscc(2))
    assert created.district.code == "320583"
    assert created.memberships.get().sector.code == "1.04"
    assert created.above_designated_size is True
    assert [(h.history_type, h.history_user) for h in created.history.all()] == [("+", steward)]
    existing.refresh_from_db()
    assert existing.name_zh == "新名称"
    assert existing.memberships.get().sector.code == "3.02"
    assert existing.history.filter(history_type="~", history_user=steward).count() == 1
    assert existing.memberships.get().history.filter(history_user=steward).count() == 1


def test_import_with_a_bad_row_writes_nothing(steward):
    dataset = import_dataset(
        [
            firm(valid_uscc(1), "好企业", "苏州工业园区", primary_sector="1.02"),
            firm("91350100M000100Y44", "坏企业", "苏州工业园区", primary_sector="1.02"),
            firm(valid_uscc(3), "未知区", "火星区", primary_sector="1.02"),
        ]
    )
    result = EnterpriseResource().import_data(dataset, dry_run=False, user=steward)
    assert result.has_validation_errors()
    invalid = {row.number: row.error_dict for row in result.invalid_rows}
    assert set(invalid) == {2, 3}
    assert "uscc" in invalid[2]
    assert "district" in invalid[3]
    assert Enterprise.objects.count() == 0
    assert ClusterMembership.objects.count() == 0


def test_enterprise_changelist_query_count_does_not_grow_with_firms(
    client, steward, enterprise_factory
):
    client.force_login(steward)
    url = reverse("admin:enterprises_enterprise_changelist")

    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return len(queries), response.context["cl"].result_count

    enterprise_factory.create_batch(3)
    few, shown_few = count_queries()
    enterprise_factory.create_batch(40, district=District.objects.get(code="320583"))
    many, shown_many = count_queries()
    assert (shown_few, shown_many) == (3, 43)
    assert many == few


def test_report_changelist_query_count_does_not_grow_with_reports(client, steward, report_factory):
    client.force_login(steward)
    url = reverse("admin:enterprises_quarterlyreport_changelist")
    report_factory.create_batch(2)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    report_factory.create_batch(30, quarter=2)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.context["cl"].result_count == 32
    assert len(many) == len(few)


@pytest.mark.parametrize(
    "model",
    [
        "cluster.cluster",
        "cluster.district",
        "cluster.park",
        "cluster.sector",
        "enterprises.enterprise",
        "enterprises.clustermembership",
        "enterprises.designation",
        "enterprises.listing",
        "enterprises.milestone",
        "enterprises.quarterlyreport",
        "enterprises.researchproject",
        "targets.metric",
        "targets.target",
    ],
)
def test_every_model_has_an_admin_list_with_history(client, steward, model):
    app_label, model_name = model.split(".")
    client.force_login(steward)
    response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200
    from django.apps import apps

    assert hasattr(apps.get_model(app_label, model_name), "history")
    assert (
        response.context["cl"].result_count == apps.get_model(app_label, model_name).objects.count()
    )


def test_enterprise_filters_by_valid_designation_and_listing(
    client, steward, designation_factory, listing_factory
):
    from django.utils import timezone

    today = timezone.localdate()
    valid = designation_factory(valid_from=today - dt.timedelta(days=10), valid_to=today)
    designation_factory(
        valid_from=today - dt.timedelta(days=400), valid_to=today - dt.timedelta(days=1)
    )
    listed = listing_factory(listed_on=today - dt.timedelta(days=30))
    client.force_login(steward)
    url = reverse("admin:enterprises_enterprise_changelist")
    gazelles = client.get(url, {"valid_designation": "gazelle"}).context["cl"].result_list
    assert list(gazelles) == [valid.enterprise]
    listed_firms = client.get(url, {"listed": "yes"}).context["cl"].result_list
    assert list(listed_firms) == [listed.enterprise]
    assert client.get(url, {"listed": "no"}).context["cl"].result_count == 2


def report_form(enterprise, **overrides):
    data = {
        "enterprise": enterprise.pk,
        "period": "2025Q3",
        "mode": "quarterly",
        "output_value": "1000.00",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("overrides", "field", "zh", "en"),
    [
        (
            {"period": "2025Q5"},
            "period",
            "不是有效的季度，请写成 2025Q3、2025-Q3 或 2025年第三季度。",
            "Not a quarter; write it like 2025Q3, 2025-Q3 or 2025年第三季度.",
        ),
        ({"output_value": "-1"}, "output_value", "不能为负数。", "Cannot be negative."),
        ({"rd_spending": "-0.01"}, "rd_spending", "不能为负数。", "Cannot be negative."),
        (
            {"employees": "十二"},
            "employees",
            "不是数字，请写成 1,234.56 这样的格式。",
            "Not a number; write it like 1,234.56.",
        ),
    ],
)
def test_admin_refuses_bad_report_figures_in_both_languages(
    client, steward, enterprise_factory, overrides, field, zh, en
):
    enterprise = enterprise_factory()
    client.force_login(steward)
    url = reverse("admin:enterprises_quarterlyreport_add")
    for language, message in (("zh-hans", zh), ("en", en)):
        response = client.post(
            url, report_form(enterprise, **overrides), HTTP_ACCEPT_LANGUAGE=language
        )
        form = response.context["adminform"].form
        errors = form.errors[field] if field else form.non_field_errors()
        assert errors == [message]
    assert not QuarterlyReport.objects.exists()


def test_admin_refuses_a_designation_that_ends_before_it_starts(
    client, steward, enterprise_factory
):
    enterprise = enterprise_factory()
    client.force_login(steward)
    response = client.post(
        reverse("admin:enterprises_designation_add"),
        {
            "enterprise": enterprise.pk,
            "type": "gazelle",
            "tier": "city",
            "valid_from": "2025-06-01",
            "valid_to": "2025-05-31",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.context["adminform"].form.errors["valid_to"] == [
        "资质有效期止不能早于有效期起。"
    ]
    assert not enterprise.designations.exists()

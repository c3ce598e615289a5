"""The plan's reference data, checked against the plan's own text (cluster/sources/)."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from cluster.models import Cluster, District, Park, Sector
from targets.models import Target

pytestmark = pytest.mark.django_db

PLAN = (
    Path(__file__).resolve().parents[2]
    / "cluster"
    / "sources"
    / "suzhou-nano-action-plan-2023-2025.zh.txt"
).read_text(encoding="utf-8")


def section(title: str, next_title: str) -> str:
    start = PLAN.index(title)
    return PLAN[start : PLAN.index(next_title, start)]


def test_the_cluster_and_its_first_plan_are_document_13_of_2022():
    cluster = Cluster.objects.get()
    assert (cluster.key, cluster.name_zh) == ("nano", "苏州市纳米新材料产业创新集群")
    plan = cluster.plans.get()
    assert (plan.key, plan.starts_on, plan.ends_on, plan.baseline_year) == (
        "nano-2023-2025",
        dt.date(2023, 1, 1),
        dt.date(2025, 12, 31),
        2022,
    )
    assert plan.document_number == "苏创新集群办〔2022〕13号"
    assert plan.issued_on == dt.date(2022, 12, 9)
    assert plan.issuer == "苏州市推进数字经济时代产业创新集群发展领导小组办公室"
    assert plan.document_number in PLAN and plan.issuer in PLAN
    assert "2022年12月9日" in PLAN
    assert "行动计划（2023-2025年）" in plan.name_zh


def test_districts_of_the_distribution_list_with_codes():
    coded = dict(District.objects.exclude(code=None).values_list("name_zh", "code"))
    assert coded == {
        "张家港市": "320582",
        "常熟市": "320581",
        "太仓市": "320585",
        "昆山市": "320583",
        "吴江区": "320509",
        "吴中区": "320506",
        "相城区": "320507",
        "姑苏区": "320508",
        "苏州工业园区": "320571",
        "苏州高新区·虎丘区": "320505",
    }
    port = District.objects.get(code=None)
    assert port.name_zh == "太仓港口管委会"
    assert port.parent.name_zh == "太仓市"
    distribution_list = PLAN[: PLAN.index("现将")]
    for name in ("苏州工业园区", "苏州高新区", "太仓港口管委会"):
        assert name in distribution_list
    assert District.objects.get(code="320571").code_system == "statistical"
    assert set(District.objects.values_list("name_en", flat=True)) >= {
        "Suzhou Industrial Park",
        "Suzhou New & Hi-tech Zone / Huqiu District",
        "Kunshan",
    }


def test_nanopolis_is_a_park_in_sip():
    assert Park.objects.get(name_zh="苏州纳米城").district.code == "320571"


def test_the_four_focus_directions_list_every_material_of_section_three_in_order():
    text = section("三、重点发展方向", "四、主要任务")
    directions = list(Sector.objects.directions().order_by("sort_order"))
    assert [d.name_zh for d in directions] == [
        "纳米电子信息材料",
        "纳米生物医用材料",
        "纳米能源环境材料",
        "其他纳米功能材料",
    ]
    for direction in directions:
        materials = direction.materials.order_by("sort_order").values_list("name_zh", flat=True)
        # The plan writes each direction as "N.方向。材料、材料、…等。": joining our materials
        # with 、 must give back the plan's sentence exactly.
        sentence = re.search(rf"{direction.code}\.\s*{direction.name_zh}。(.*?)等。", text).group(1)
        assert "、".join(materials) == sentence
    counts = [d.materials.count() for d in directions]
    assert counts == [14, 12, 13, 9]
    assert Sector.objects.materials().count() == 48
    assert not Sector.objects.materials().filter(name_en="").exists()


def test_the_seven_targets_of_section_two_with_the_plan_values():
    targets = {
        t.key: (t.target_value, t.comparison, t.unit, t.deadline)
        for t in Target.objects.select_related("metric")
    }
    deadline = dt.date(2025, 12, 31)
    assert targets == {
        "total_output": (Decimal("100000000000.00"), "gt", "yuan", deadline),
        "firms_output_over_5bn": (Decimal("5.00"), "gte", "firms", deadline),
        "firms_output_over_1bn": (Decimal("15.00"), "gte", "firms", deadline),
        "listed_firms": (Decimal("10.00"), "gte", "firms", deadline),
        "unicorn_cultivation_firms": (Decimal("20.00"), "gte", "firms", deadline),
        "gazelle_firms": (Decimal("30.00"), "gte", "firms", deadline),
        "major_research_projects": (Decimal("10.00"), "gte", "projects", deadline),
    }
    thresholds = {
        t.key: t.metric.threshold for t in Target.objects.filter(metric__kind="count_firms_over")
    }
    assert thresholds == {
        "firms_output_over_5bn": Decimal("5000000000.00"),
        "firms_output_over_1bn": Decimal("1000000000.00"),
    }
    goals = section("二、主要目标", "三、重点发展方向").replace(" ", "")
    for phrase in (
        "产值突破1000亿元",
        "产值超50亿元企业5家",
        "产值超10亿元企业15家",
        "上市企业10家",
        "独角兽培育企业20家",
        "瞪羚企业30家",
        "重大科研项目10项",
    ):
        assert phrase in goals
    assert set(Target.objects.values_list("source", flat=True)) == {"二、主要目标"}


def test_reference_data_has_its_creation_in_history():
    assert District.history.filter(history_type="+").count() == District.objects.count()
    assert Sector.history.filter(history_type="+").count() == 52
    assert Target.history.filter(history_type="+").count() == 7


def test_target_list_shows_values_in_readable_units(client):
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    admin = get_user_model().objects.create_superuser("s", "s@example.invalid", "pw-for-tests-1")
    client.force_login(admin)
    page = client.get(reverse("admin:targets_target_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = page.content.decode()
    assert "1,000 亿元" in html
    assert "15 家" in html and "10 项" in html
    page = client.get(reverse("admin:targets_target_changelist"), HTTP_ACCEPT_LANGUAGE="en")
    assert "¥100 bn" in page.content.decode()

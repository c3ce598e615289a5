"""Counting rules live in the Metric rows only: the comparison with a threshold (strict or
inclusive), the figure, the threshold itself and the rule in words come from the data, and
every door (evaluation and snapshots, pipelines on the board and in the explanation, the
threshold alert, the list of the firms behind a count) asks the same owner."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import DecimalField, Value
from django.urls import reverse
from django.utils import translation

from cluster.quarters import Quarter
from targets.choices import Basis, ScopeKind
from targets.models import Alert, AlertRule, Metric, ProgressSnapshot, Target
from targets.selectors.explanation import gap_explanation
from targets.selectors.metrics import Figures, evaluate
from targets.services.alerts import alerts_evaluate
from targets.services.progress import progress_recompute

from .conftest import YI

pytestmark = pytest.mark.django_db

Q4 = Quarter(2025, 4)
TODAY = dt.date(2026, 2, 20)


def yearly(approve, firm, year, total_yi, revenue_yi=None):
    for q in (1, 2, 3, 4):
        approve(
            firm,
            year,
            q,
            Decimal(total_yi) * YI / 4,
            revenue=None if revenue_yi is None else Decimal(revenue_yi) * YI / 4,
        )


@pytest.mark.parametrize(
    ("value", "comparison", "passes"),
    [
        (Decimal("999999999.99"), "gt", False),
        (Decimal("1000000000.00"), "gt", False),
        (Decimal("1000000000.01"), "gt", True),
        (Decimal("999999999.99"), "gte", False),
        (Decimal("1000000000.00"), "gte", True),
        (Decimal("1000000000.01"), "gte", True),
    ],
)
def test_python_and_the_database_agree_on_passing_a_threshold(value, comparison, passes):
    metric = Metric(
        kind=Metric.Kind.COUNT_FIRMS_OVER,
        figure=Metric.Figure.OUTPUT_VALUE,
        threshold=10 * YI,
        comparison=comparison,
    )
    assert metric.passes(value) is passes
    in_database = (
        Target.objects.annotate(total=Value(value, output_field=DecimalField(18, 2)))
        .filter(metric.passing("total"))
        .exists()
    )
    assert in_database is passes


@pytest.fixture
def on_the_threshold(enterprise_factory, approve, sip, kunshan):
    """A firm exactly on ¥1 bn in 2025 (¥0.8 bn in 2024) and one at ¥0.7 bn."""
    on = enterprise_factory(name_zh="正好十亿", name_en="Exactly One Billion", district=sip)
    near = enterprise_factory(name_zh="七亿", name_en="Seven Hundred Million", district=kunshan)
    yearly(approve, on, 2024, 8)
    yearly(approve, on, 2025, 10)
    yearly(approve, near, 2024, 6)
    yearly(approve, near, 2025, 7)
    return {"on": on, "near": near}


@pytest.mark.parametrize(
    ("comparison", "counted", "pipeline"),
    [
        # Strict: exactly ¥1 bn is not above it; it needs more than nothing, the other 3 more.
        ("gt", 0, [("on", Decimal(0), True), ("near", 3 * YI, True)]),
        # Inclusive: exactly ¥1 bn counts, so it is never in the pipeline.
        ("gte", 1, [("near", 3 * YI, False)]),
    ],
)
def test_a_firm_exactly_on_the_threshold_through_every_door(
    comparison, counted, pipeline, on_the_threshold, client, city_steward, api
):
    Metric.objects.filter(key="firms_output_over_1bn").update(comparison=comparison)
    target = Target.objects.select_related("metric").get(key="firms_output_over_1bn")
    progress_recompute(target_ids=[target.pk], quarters=[Q4])
    firms = on_the_threshold
    expected_pipeline = [(firms[key], gap, strict) for key, gap, strict in pipeline]

    # The evaluation and the stored snapshot.
    assert evaluate(target, Q4, Figures.latest()).actual == counted
    city = ProgressSnapshot.objects.get(
        target=target, scope_kind=ScopeKind.CITY, year=2025, quarter=4, basis=Basis.APPROVED
    )
    assert city.actual == counted

    # The board's pipeline and the explanation's pipeline.
    client.force_login(city_steward)
    board = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q4"}).context[
        "board"
    ]
    lines = {t.key: lines for t, lines in board.threshold_pipelines}[target.key]
    assert [(ln.enterprise, ln.gap, ln.needs_more_than) for ln in lines] == expected_pipeline
    explained = gap_explanation(target, Q4).pipeline
    assert [(ln.enterprise, ln.gap, ln.needs_more_than) for ln in explained] == expected_pipeline

    # The threshold alert: ¥0.8 bn in 2024, exactly ¥1 bn in 2025.
    AlertRule.objects.exclude(kind="threshold_crossed").update(enabled=False)
    alerts_evaluate(today=TODAY)
    crossed = Alert.objects.filter(rule__kind="threshold_crossed", enterprise=firms["on"])
    assert crossed.filter(dedup_key__contains="firms_output_over_1bn").count() == counted

    # The firms behind the count.
    rows = (
        api(city_steward)
        .get(f"/api/targets/{target.pk}/firms/", {"quarter": "2025Q4"})
        .json()["results"]
    )
    assert {row["uscc"]: row["counts"] for row in rows} == {
        firms["on"].uscc: bool(counted),
        firms["near"].uscc: False,
    }


def test_the_threshold_alert_takes_every_threshold_metric_from_the_data(
    enterprise_factory, approve, sip
):
    """A steward's new metric (operating revenue at least ¥0.2 bn) gets its own crossings,
    with its own figure and comparison; the plan's output metrics are not crossed."""
    Metric.objects.create(
        plan=Metric.objects.get(key="firms_output_over_1bn").plan,
        key="firms_revenue_at_least_200m",
        kind=Metric.Kind.COUNT_FIRMS_OVER,
        figure=Metric.Figure.OPERATING_REVENUE,
        threshold=2 * YI,
        comparison="gte",
        name_zh="营业收入达2亿元企业数",
        name_en="Firms with revenue of ¥0.2 bn or more",
    )
    firm = enterprise_factory(name_zh="营收两亿", name_en="Two Hundred Million Revenue")
    yearly(approve, firm, 2024, 1, revenue_yi=1)
    yearly(approve, firm, 2025, 1, revenue_yi=2)  # output stays at ¥0.1 bn
    AlertRule.objects.exclude(kind="threshold_crossed").update(enabled=False)
    alerts_evaluate(today=TODAY)
    [alert] = Alert.objects.filter(rule__kind="threshold_crossed")
    assert alert.dedup_key == f"threshold_crossed:firms_revenue_at_least_200m:{firm.pk}:2025"
    assert alert.numbers == {
        "year": 2025,
        "metric": "firms_revenue_at_least_200m",
        "figure": "operating_revenue",
        "comparison": "gte",
        "threshold": "200000000.00",
        "total": "200000000.00",
        "previous": "100000000.00",
    }
    assert alert.message_zh == (
        "营收两亿于2025年进入“营业收入达2亿元企业数”：营业收入 2.00 亿元，"
        "达到 2.00 亿元（上年 1.00 亿元）。"
    )
    assert alert.message_en == (
        "Two Hundred Million Revenue entered “Firms with revenue of ¥0.2 bn or more” in 2025: "
        "operating revenue ¥0.20 bn, at least ¥0.20 bn (¥0.10 bn the year before)."
    )


def test_the_output_target_and_its_figure_come_from_the_data(
    client, city_steward, population, sip, approve
):
    """Renamed, the output target is still the board's; counted on operating revenue, the
    district's firms show their revenue."""
    Target.objects.filter(key="total_output").update(key="city_output")
    Metric.objects.filter(key="annual_output_value").update(figure="operating_revenue")
    approve(population["a"], 2025, 2, 12 * YI, revenue=20 * YI)
    progress_recompute()
    client.force_login(city_steward)
    board = client.get(reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"}).context[
        "board"
    ]
    assert board.output_target.key == "city_output"
    assert [(p.quarter, p.actual) for p in board.trend][-1] == (Quarter(2025, 2), 40 * YI)
    page = client.get(reverse("targets:district", args=["nano", sip.pk]), {"period": "2025Q2"})
    assert [(f.name_zh, f.ytd) for f in page.context["firms"]] == [
        ("甲纳米公司", 30 * YI),
        ("丙纳米公司", 4 * YI),
    ]


RULES_IN_WORDS = {
    "annual_output_value": (
        "在集群企业本年累计工业总产值之和。",
        "Sum of the year-to-date output value of the firms in the cluster.",
    ),
    "firms_output_over_1bn": (
        "本年累计工业总产值严格大于 10 亿元的在集群企业数。",
        "Firms in the cluster whose year-to-date output value is strictly above ¥1 bn.",
    ),
    "firms_output_over_5bn": (
        "本年累计工业总产值严格大于 50 亿元的在集群企业数。",
        "Firms in the cluster whose year-to-date output value is strictly above ¥5 bn.",
    ),
    "listed_firms": (
        "截至当日已上市且未退市的在集群企业数；新三板挂牌不计。",
        "Firms in the cluster listed, and not delisted, on the date; a NEEQ quotation is not a "
        "listing.",
    ),
    "gazelle_firms": (
        "当日持有有效瞪羚企业认定的在集群企业数。",
        "Firms in the cluster holding a valid gazelle enterprise designation on the date.",
    ),
    "major_research_projects": (
        "2023年1月1日至当日启动的重大科研项目数（不含已终止项目）。",
        "Major research projects started from Jan. 1, 2023 to the date, terminated ones excluded.",
    ),
}


def words(key) -> dict:
    zh, en = RULES_IN_WORDS[key]
    return {"zh": zh, "en": en}


@pytest.mark.parametrize("key", RULES_IN_WORDS)
def test_the_counting_rule_in_words_is_generated_from_the_fields(key):
    metric = Metric.objects.get(key=key)
    assert metric.counting_rule_words() == words(key)


def test_inclusive_and_flow_rules_read_differently():
    metric = Metric.objects.get(key="firms_output_over_1bn")
    metric.comparison = "gte"
    metric.figure = "operating_revenue"
    metric.threshold = Decimal("250000000")
    assert metric.counting_rule_words() == {
        "zh": "本年累计营业收入不低于 2.5 亿元的在集群企业数。",
        "en": "Firms in the cluster whose year-to-date operating revenue is at least ¥0.25 bn.",
    }
    gazelles = Metric.objects.get(key="gazelle_firms")
    gazelles.count_mode, gazelles.counted_since = "flow", dt.date(2023, 1, 1)
    with translation.override("zh-hans"):
        assert gazelles.counting_rule() == "2023年1月1日至当日新获瞪羚企业认定的在集群企业数。"


def test_the_api_gives_the_rule_as_fields_and_in_words(api, city_steward):
    target = Target.objects.get(key="firms_output_over_1bn")
    body = api(city_steward, "en").get(f"/api/targets/{target.pk}/").json()
    assert body["rule"] == {
        "kind": "count_firms_over",
        "figure": "output_value",
        "denominator": "",
        "threshold": "1000000000.00",
        "comparison": "gt",
        "designation_type": "",
        "count_mode": "stock",
        "counted_since": None,
        "rule_version": 1,
        "words": words("firms_output_over_1bn"),
    }
    assert body["counting_rule"] == RULES_IN_WORDS["firms_output_over_1bn"][1]
    chinese = api(city_steward).get(f"/api/targets/{target.pk}/").json()
    assert chinese["counting_rule"] == RULES_IN_WORDS["firms_output_over_1bn"][0]


def test_the_dashboard_card_says_which_rule_it_follows(client, city_viewer, population):
    client.force_login(city_viewer)
    with translation.override("zh-hans"):
        html = client.get(
            reverse("targets:dashboard", args=["nano"]), {"period": "2025Q2"}
        ).content.decode()
    assert RULES_IN_WORDS["firms_output_over_1bn"][0] in html
    assert RULES_IN_WORDS["listed_firms"][0] in html

"""The seven 2025 targets of 二、主要目标 of the plan (苏创新集群办〔2022〕13号):

"力争到 2025 年，…全市纳米新材料产业产值突破 1000 亿元，产值超 50 亿元企业 5 家，产值超 10 亿元
企业 15 家，…集聚纳米新材料领域上市企业 10 家、独角兽培育企业 20 家、瞪羚企业 30 家，…开展重大
科研项目 10 项"

Counting rules the plan leaves open, chosen here and editable by the steward:
- output is 工业总产值 (output value), summed over the four quarters of the year;
- "超 N 亿元" is strictly above the threshold, on the same annual figure;
- listed, unicorn-cultivation and gazelle firms are a stock: firms in the cluster holding the
  listing or a valid designation on the date;
- major research projects are a flow: major projects started since 2023-01-01.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations
from django.utils import timezone

SOURCE = "二、主要目标"
DEADLINE = dt.date(2025, 12, 31)
PLAN_START = dt.date(2023, 1, 1)
YI = Decimal(100_000_000)  # 亿元 in yuan

# key, kind, fields, name_zh, name_en, rule in words
METRICS = [
    (
        "annual_output_value",
        "sum_output",
        {"figure": "output_value"},
        "纳米新材料产业年产值",
        "Annual output value of the nano new-materials industry",
        "在集群内的企业当年四个季度工业总产值之和（只计已审核数据）。"
        " / Sum of the four quarters' output value of the firms in the cluster (approved figures).",
    ),
    (
        "firms_output_over_5bn",
        "count_firms_over",
        {"figure": "output_value", "threshold": 50 * YI},
        "年产值超50亿元企业数",
        "Firms with annual output above ¥5 bn",
        "当年工业总产值严格大于50亿元的在集群企业数。"
        " / Firms in the cluster whose annual output value is strictly above ¥5 bn.",
    ),
    (
        "firms_output_over_1bn",
        "count_firms_over",
        {"figure": "output_value", "threshold": 10 * YI},
        "年产值超10亿元企业数",
        "Firms with annual output above ¥1 bn",
        "当年工业总产值严格大于10亿元的在集群企业数。"
        " / Firms in the cluster whose annual output value is strictly above ¥1 bn.",
    ),
    (
        "listed_firms",
        "count_listed",
        {"count_mode": "stock"},
        "上市企业数",
        "Listed firms",
        "截至当日已在境内外交易所上市且未退市的在集群企业数；新三板挂牌不计。"
        " / Firms in the cluster listed and not delisted on the date; a NEEQ quotation does"
        " not count.",
    ),
    (
        "unicorn_cultivation_firms",
        "count_designated",
        {"designation_type": "unicorn_cultivation", "count_mode": "stock"},
        "独角兽培育企业数",
        "Unicorn-cultivation firms",
        "当日持有有效独角兽培育企业认定的在集群企业数。"
        " / Firms in the cluster holding a valid unicorn-cultivation designation on the date.",
    ),
    (
        "gazelle_firms",
        "count_designated",
        {"designation_type": "gazelle", "count_mode": "stock"},
        "瞪羚企业数",
        "Gazelle firms",
        "当日持有有效瞪羚企业认定的在集群企业数。"
        " / Firms in the cluster holding a valid gazelle designation on the date.",
    ),
    (
        "major_research_projects",
        "count_projects",
        {"count_mode": "flow", "counted_since": PLAN_START},
        "重大科研项目数",
        "Major research projects",
        "2023年1月1日以来启动的重大科研项目数（不含已终止项目）。"
        " / Major research projects started since 2023-01-01, terminated ones excluded.",
    ),
]

# key, metric, comparison, value, unit, name_zh, name_en
TARGETS = [
    (
        "total_output",
        "annual_output_value",
        "gt",
        1000 * YI,
        "yuan",
        "全市纳米新材料产业产值",
        "City nano new-materials output value",
    ),
    (
        "firms_output_over_5bn",
        "firms_output_over_5bn",
        "gte",
        Decimal(5),
        "firms",
        "产值超50亿元企业",
        "Firms with output above ¥5 bn",
    ),
    (
        "firms_output_over_1bn",
        "firms_output_over_1bn",
        "gte",
        Decimal(15),
        "firms",
        "产值超10亿元企业",
        "Firms with output above ¥1 bn",
    ),
    ("listed_firms", "listed_firms", "gte", Decimal(10), "firms", "上市企业", "Listed firms"),
    (
        "unicorn_cultivation_firms",
        "unicorn_cultivation_firms",
        "gte",
        Decimal(20),
        "firms",
        "独角兽培育企业",
        "Unicorn-cultivation firms",
    ),
    ("gazelle_firms", "gazelle_firms", "gte", Decimal(30), "firms", "瞪羚企业", "Gazelle firms"),
    (
        "major_research_projects",
        "major_research_projects",
        "gte",
        Decimal(10),
        "projects",
        "重大科研项目",
        "Major research projects",
    ),
]


def write_history(apps, model_name, objects):
    historical = apps.get_model("targets", f"Historical{model_name}")
    fields = [f.attname for f in apps.get_model("targets", model_name)._meta.concrete_fields]
    now = timezone.now()
    historical.objects.bulk_create(
        historical(
            **{name: getattr(obj, name) for name in fields},
            history_date=now,
            history_type="+",
            history_change_reason=f"loaded from the plan, {SOURCE}",
        )
        for obj in objects
    )


def load(apps, schema_editor):
    Cluster = apps.get_model("cluster", "Cluster")
    Metric = apps.get_model("targets", "Metric")
    Target = apps.get_model("targets", "Target")
    cluster = Cluster.objects.get(name_zh="苏州市纳米新材料产业创新集群")

    metrics = {
        key: Metric.objects.create(
            key=key, kind=kind, name_zh=name_zh, name_en=name_en, description=rule, **fields
        )
        for key, kind, fields, name_zh, name_en, rule in METRICS
    }
    write_history(apps, "Metric", metrics.values())

    targets = [
        Target.objects.create(
            cluster=cluster,
            key=key,
            metric=metrics[metric],
            comparison=comparison,
            target_value=value,
            unit=unit,
            deadline=DEADLINE,
            name_zh=name_zh,
            name_en=name_en,
            source=SOURCE,
            sort_order=order,
        )
        for order, (key, metric, comparison, value, unit, name_zh, name_en) in enumerate(
            TARGETS, start=1
        )
    ]
    write_history(apps, "Target", targets)


def unload(apps, schema_editor):
    for model in ("Target", "Metric"):
        apps.get_model("targets", model).objects.all().delete()
        apps.get_model("targets", f"Historical{model}").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0001_initial"),
        ("cluster", "0002_reference_data"),
    ]

    operations = [migrations.RunPython(load, unload)]

"""The default alert rules (editable by the steward) and the roles' permissions on the
targets engine's models."""

from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations

# kind, severity, threshold %, days, escalate after days, name_zh, name_en, rule in words
RULES = [
    (
        "target_off_track",
        3,
        None,
        None,
        None,
        "目标偏离",
        "Target off track",
        "最新季度预测值低于目标的“风险”比例。/ The latest projection is below the at-risk share of the target.",
    ),
    (
        "target_at_risk",
        2,
        None,
        None,
        None,
        "目标存在风险",
        "Target at risk",
        "最新季度预测值低于目标但不低于风险比例。/ The projection is below the target but above the at-risk share.",
    ),
    (
        "milestone_missed",
        2,
        None,
        None,
        None,
        "未达阶段目标",
        "Milestone missed",
        "最新季度实际值低于阶段目标。/ The latest actual value is below the milestone expected by then.",
    ),
    (
        "report_overdue",
        2,
        None,
        7,
        14,
        "季度报表逾期",
        "Quarterly reports overdue",
        "报送截止日后再宽限若干天仍未报送的企业（按区）。/ Firms without a submitted report after the deadline plus grace days, per district.",
    ),
    (
        "figure_jump",
        2,
        Decimal("50"),
        None,
        14,
        "数据异常波动",
        "Anomalous change",
        "工业总产值环比或同比变动超过阈值。/ Output value changed by more than the threshold against the previous quarter or year.",
    ),
    (
        "peer_outlier",
        2,
        Decimal("500"),
        None,
        None,
        "同领域异常值",
        "Outlier among peers",
        "人均产值超过同一材料领域企业平均值的倍数（阈值%）。/ Output per employee above the threshold (percent) of its material sector's average.",
    ),
    (
        "designation_expiring",
        2,
        None,
        90,
        None,
        "资质即将到期或已到期",
        "Designation expiring or expired",
        "瞪羚、独角兽培育等资质在若干天内到期或已到期且未续期。/ A watched designation expires within the days, or expired that recently, and was not renewed.",
    ),
    (
        "threshold_crossed",
        1,
        None,
        None,
        None,
        "企业产值跨越门槛",
        "Firm crossed an output threshold",
        "企业上一完整年度产值首次超过10亿元或50亿元。/ A firm's output in the last complete year passed ¥1 bn or ¥5 bn.",
    ),
    (
        "duplicate_firm",
        2,
        None,
        None,
        None,
        "疑似重复企业",
        "Possible duplicate firm",
        "名称相同（忽略“股份”、括号和空格）的多条企业记录。/ Several records under the same name (ignoring 股份, brackets and spaces).",
    ),
    (
        "unit_mistake",
        3,
        Decimal("500000"),
        None,
        None,
        "疑似单位错误",
        "Likely unit mistake",
        "本季度产值约为该企业近四季度平均值的一万倍或万分之一（元与万元混淆）。/ Output about 10,000 times (or a 10,000th of) the firm's average of the previous four quarters.",
    ),
]

ROLE_PERMISSIONS = {
    "city_steward": [
        ("targetmilestone", ["view", "add", "change", "delete"]),
        ("progresssnapshot", ["view"]),
        ("alertrule", ["view", "add", "change"]),
        ("alert", ["view", "change"]),
    ],
    "administrator": [
        ("targetmilestone", ["view"]),
        ("progresssnapshot", ["view"]),
        ("alertrule", ["view"]),
        ("alert", ["view", "change"]),
    ],
    "district_officer": [
        ("progresssnapshot", ["view"]),
        ("alert", ["view", "change"]),
    ],
}


def load(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    AlertRule = apps.get_model("targets", "AlertRule")
    for kind, severity, threshold, days, escalate, name_zh, name_en, text in RULES:
        AlertRule.objects.create(
            kind=kind,
            severity=severity,
            threshold_percent=threshold,
            days=days,
            escalate_after_days=escalate,
            name_zh=name_zh,
            name_en=name_en,
            description=text,
        )
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        for model, actions in models:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="targets",
                    codename__in=[f"{action}_{model}" for action in actions],
                )
            )


def unload(apps, schema_editor):
    apps.get_model("targets", "AlertRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("targets", "0003_engine"),
        ("enterprises", "0003_roles"),
    ]

    operations = [migrations.RunPython(load, unload)]

"""Reference data of the plan: 苏州市纳米新材料产业创新集群行动计划（2023-2025年）,
苏创新集群办〔2022〕13号 (the text is kept in cluster/sources/).

- The cluster: the document's header and date.
- Districts: the plan's distribution list ("各县级市（区）人民政府，苏州工业园区、苏州高新区、
  太仓港口管委会"), with GB/T 2260 codes; SIP has a statistical code only, and 太仓港口管委会 has
  no code of its own and sits inside 太仓市. English names follow the Suzhou Statistical
  Yearbook.
- Parks: 苏州纳米城 (white paper 2025, 6.1) and 苏州纳米技术国家大学科技园 (plan 四(二)7), both
  in SIP.
- Sectors: the four focus directions of 三、重点发展方向 and every material listed under each,
  in the plan's order. 2.07 keeps the plan's wording "纳米缓释、控释、核酸药物及载体材料" as
  one item: "及载体材料" qualifies all three.
"""

import datetime as dt

from django.db import migrations
from django.utils import timezone

PLAN = "苏州市纳米新材料产业创新集群行动计划（2023-2025年）"

CLUSTER = {
    "name_zh": "苏州市纳米新材料产业创新集群",
    "name_en": "Suzhou Nano New-Materials Industrial Innovation Cluster",
    "plan_start_year": 2023,
    "plan_end_year": 2025,
    "document_number": "苏创新集群办〔2022〕13号",
    "issued_on": dt.date(2022, 12, 9),
    "issuer": "苏州市推进数字经济时代产业创新集群发展领导小组办公室",
}

# (code, code system, kind, name_zh, name_en, parent name_zh)
DISTRICTS = [
    ("320582", "gbt2260", "county_city", "张家港市", "Zhangjiagang", None),
    ("320581", "gbt2260", "county_city", "常熟市", "Changshu", None),
    ("320585", "gbt2260", "county_city", "太仓市", "Taicang", None),
    ("320583", "gbt2260", "county_city", "昆山市", "Kunshan", None),
    ("320509", "gbt2260", "district", "吴江区", "Wujiang District", None),
    ("320506", "gbt2260", "district", "吴中区", "Wuzhong District", None),
    ("320507", "gbt2260", "district", "相城区", "Xiangcheng District", None),
    ("320508", "gbt2260", "district", "姑苏区", "Gusu District", None),
    ("320571", "statistical", "development_zone", "苏州工业园区", "Suzhou Industrial Park", None),
    (
        "320505",
        "gbt2260",
        "district",
        "苏州高新区·虎丘区",
        "Suzhou New & Hi-tech Zone / Huqiu District",
        None,
    ),
    (
        None,
        "",
        "development_zone",
        "太仓港口管委会",
        "Taicang Port Administrative Committee",
        "太仓市",
    ),
]

PARKS = [
    ("苏州工业园区", "苏州纳米城", "Nanopolis Suzhou"),
    (
        "苏州工业园区",
        "苏州纳米技术国家大学科技园",
        "National University Science Park of Nanotechnology, Suzhou",
    ),
]

SECTION = "三、重点发展方向"

# direction: (code, name_zh, name_en, [(name_zh, name_en), ...])
SECTORS = [
    (
        "1",
        "纳米电子信息材料",
        "Nano electronic information materials",
        [
            ("新型电子元器件材料", "Materials for new electronic components"),
            ("超宽禁带/宽禁带半导体材料", "Ultra-wide and wide bandgap semiconductor materials"),
            ("纳米探测与传感材料", "Nano detection and sensing materials"),
            ("先进封装材料", "Advanced packaging materials"),
            ("光电子材料", "Optoelectronic materials"),
            ("新型显示材料", "New display materials"),
            ("大功率激光材料", "High-power laser materials"),
            ("半导体量子点材料", "Semiconductor quantum dot materials"),
            ("短波红外光源材料", "Short-wave infrared light source materials"),
            ("高性能硅部件", "High-performance silicon components"),
            ("柔性电子材料", "Flexible electronic materials"),
            ("低维晶体薄膜材料", "Low-dimensional crystalline thin-film materials"),
            ("电子化学品材料", "Electronic chemicals"),
            ("新型存储介质材料", "New storage media materials"),
        ],
    ),
    (
        "2",
        "纳米生物医用材料",
        "Nano biomedical materials",
        [
            ("微球材料", "Microsphere materials"),
            ("纳米磁珠", "Nano magnetic beads"),
            ("色谱填料/层析介质", "Chromatography packings and media"),
            ("组织修复与替代纳米材料", "Nanomaterials for tissue repair and replacement"),
            ("生物传感器材料", "Biosensor materials"),
            ("人工器官材料", "Artificial organ materials"),
            (
                "纳米缓释、控释、核酸药物及载体材料",
                "Nano sustained- and controlled-release, nucleic-acid drug and carrier materials",
            ),
            ("医用涂层材料", "Medical coating materials"),
            ("纳米抗菌材料", "Nano antibacterial materials"),
            ("纳米影像材料", "Nano imaging materials"),
            ("纳米递送系统", "Nano delivery systems"),
            ("纳米诊断试剂", "Nano diagnostic reagents"),
        ],
    ),
    (
        "3",
        "纳米能源环境材料",
        "Nano energy and environmental materials",
        [
            ("太阳能电池材料", "Solar cell materials"),
            ("锂离子电池材料", "Lithium-ion battery materials"),
            ("钠离子电池材料", "Sodium-ion battery materials"),
            ("氢燃料电池材料", "Hydrogen fuel cell materials"),
            ("纳米储氢材料", "Nano hydrogen storage materials"),
            ("隔热保温材料", "Thermal insulation materials"),
            ("导热材料", "Thermally conductive materials"),
            ("散热材料", "Heat dissipation materials"),
            ("吸附材料", "Adsorbent materials"),
            ("纳米催化材料", "Nano catalytic materials"),
            ("高性能分离膜材料", "High-performance separation membrane materials"),
            ("纳米自清洁材料", "Nano self-cleaning materials"),
            ("纳米防腐涂料", "Nano anti-corrosion coatings"),
        ],
    ),
    (
        "4",
        "其他纳米功能材料",
        "Other nano functional materials",
        [
            ("纳米高导电材料", "Nano highly conductive materials"),
            ("先进凝胶材料", "Advanced gel materials"),
            ("纳米胶粘剂材料", "Nano adhesive materials"),
            ("稀土纳米发光材料", "Rare-earth nano luminescent materials"),
            ("纳米功能纤维与纺织品材料", "Nano functional fibres and textiles"),
            ("纳米结构复合材料", "Nanostructured composite materials"),
            ("智能变色材料", "Smart chromic materials"),
            ("高熵纳米合金/陶瓷材料", "High-entropy nano alloys and ceramics"),
            ("纳米涂层材料", "Nano coating materials"),
        ],
    ),
]

REASON = f"loaded from {PLAN}"


def record_history(apps, model_name, objects):
    """Data migrations bypass simple-history's signals; write the creation rows here."""
    historical = apps.get_model("cluster", f"Historical{model_name}")
    model = apps.get_model("cluster", model_name)
    now = timezone.now()
    fields = [f.attname for f in model._meta.concrete_fields]
    historical.objects.bulk_create(
        historical(
            **{name: getattr(obj, name) for name in fields},
            history_date=now,
            history_type="+",
            history_change_reason=REASON,
        )
        for obj in objects
    )


def load(apps, schema_editor):
    Cluster = apps.get_model("cluster", "Cluster")
    District = apps.get_model("cluster", "District")
    Park = apps.get_model("cluster", "Park")
    Sector = apps.get_model("cluster", "Sector")

    cluster = Cluster.objects.create(**CLUSTER)
    record_history(apps, "Cluster", [cluster])

    districts = {}
    for order, (code, system, kind, name_zh, name_en, parent) in enumerate(DISTRICTS, start=1):
        districts[name_zh] = District.objects.create(
            code=code,
            code_system=system,
            kind=kind,
            name_zh=name_zh,
            name_en=name_en,
            parent=districts[parent] if parent else None,
            sort_order=order,
        )
    record_history(apps, "District", districts.values())

    parks = [
        Park.objects.create(district=districts[district], name_zh=name_zh, name_en=name_en)
        for district, name_zh, name_en in PARKS
    ]
    record_history(apps, "Park", parks)

    sectors = []
    for order, (code, name_zh, name_en, materials) in enumerate(SECTORS, start=1):
        direction = Sector.objects.create(
            code=code,
            level=1,
            name_zh=name_zh,
            name_en=name_en,
            sort_order=order,
            source=f"{SECTION} {code}.",
        )
        sectors.append(direction)
        for index, (material_zh, material_en) in enumerate(materials, start=1):
            sectors.append(
                Sector.objects.create(
                    code=f"{code}.{index:02d}",
                    level=2,
                    parent=direction,
                    name_zh=material_zh,
                    name_en=material_en,
                    sort_order=index,
                    source=f"{SECTION} {code}.",
                )
            )
    record_history(apps, "Sector", sectors)


def unload(apps, schema_editor):
    # Children before parents: the tree's foreign keys protect their targets.
    apps.get_model("cluster", "Sector").objects.filter(level=2).delete()
    apps.get_model("cluster", "District").objects.filter(parent__isnull=False).delete()
    for model in ("Sector", "Park", "District", "Cluster"):
        apps.get_model("cluster", model).objects.all().delete()
        apps.get_model("cluster", f"Historical{model}").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("cluster", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]

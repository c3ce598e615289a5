"""The plan file's format 1 as a JSON Schema (docs/plan-files.md describes it in words).

The schema checks the shape: which keys, which types, which words. What needs the database or
several fields at once (a sector code of the cluster, a district code, periods that overlap)
is checked by targets.plans.reading after it.
"""

from __future__ import annotations

from targets.models import Metric

NAME = {"type": "string", "minLength": 1, "maxLength": 200}
KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,59}$"}
DATE = {"type": "string", "format": "date"}
AMOUNT = {
    "description": "yuan as a number, or with its unit: 1000亿元, 50亿元, 3,000万元",
    "type": ["number", "string"],
}
COUNT = {"type": "integer", "minimum": 0}
PERCENT = {"description": "a percentage: 4% or 4", "type": ["number", "string"]}
FIGURES = list(Metric.Figure.values)  # the figures a metric reads: one list
MODES = ["stock", "since_start", "yearly"]
COLOURS = ["green", "yellow", "orange", "red", "grey"]

COUNT_RULE = {
    "type": "object",
    "required": ["kind"],
    "additionalProperties": False,
    "properties": {
        "kind": {
            "enum": [
                "sum",
                "firms_over",
                "listed",
                "designated",
                "projects",
                "new_members",
                "ratio",
                "qualitative",
            ]
        },
        "figure": {"enum": FIGURES},
        "denominator": {"enum": FIGURES},
        "threshold": AMOUNT,
        "comparison": {"enum": ["above", "at_least"]},
        "designation": {"type": "string"},
        "mode": {"enum": MODES},
    },
    "allOf": [
        {
            "if": {"properties": {"kind": {"enum": ["sum", "firms_over", "ratio"]}}},
            "then": {"required": ["figure"]},
        },
        {
            "if": {"properties": {"kind": {"const": "firms_over"}}},
            "then": {"required": ["threshold"]},
        },
        {
            "if": {"properties": {"kind": {"const": "ratio"}}},
            "then": {"required": ["denominator"]},
        },
        {
            "if": {"properties": {"kind": {"const": "designated"}}},
            "then": {"required": ["designation"]},
        },
    ],
}

GOAL = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "comparison": {"enum": ["above", "at_least", "around"]},
        "value": {"type": ["number", "string"]},
        "tolerance": {"type": ["number", "string"]},
    },
    "required": ["value"],
    "if": {"properties": {"comparison": {"const": "around"}}, "required": ["comparison"]},
    "then": {"required": ["tolerance"]},
}

TARGET = {
    "type": "object",
    "required": ["key", "name_zh", "name_en", "count"],
    "additionalProperties": False,
    "properties": {
        "key": KEY,
        "name_zh": NAME,
        "name_en": NAME,
        "source": {"type": "string", "maxLength": 200},
        "count": COUNT_RULE,
        "goal": GOAL,
        "deadline": DATE,
        "district": {"type": "string"},
        "sector": {"type": "string"},
        "baseline": {"type": ["number", "string"]},
        "at_risk_ratio": {"type": "number", "minimum": 0, "maximum": 1},
        "milestones": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["due_on", "value"],
                "additionalProperties": False,
                "properties": {"due_on": DATE, "value": {"type": ["number", "string"]}},
            },
        },
    },
    "if": {"properties": {"count": {"properties": {"kind": {"const": "qualitative"}}}}},
    "else": {"required": ["goal"]},
}

MATERIAL = {
    "oneOf": [
        {
            "type": "array",
            "prefixItems": [NAME, NAME],
            "minItems": 2,
            "maxItems": 2,
            "description": "[name_zh, name_en]; the code is the direction's code and its place",
        },
        {
            "type": "object",
            "required": ["name_zh", "name_en"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "maxLength": 10},
                "name_zh": NAME,
                "name_en": NAME,
            },
        },
    ]
}

SECTORS = {
    "type": "object",
    "oneOf": [
        {
            "required": ["directions"],
            "additionalProperties": False,
            "properties": {
                "source": {"type": "string", "maxLength": 200},
                "directions": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["code", "name_zh", "name_en", "materials"],
                        "additionalProperties": False,
                        "properties": {
                            "code": {"type": "string", "pattern": "^[0-9A-Za-z]{1,4}$"},
                            "name_zh": NAME,
                            "name_en": NAME,
                            "source": {"type": "string", "maxLength": 200},
                            "materials": {"type": "array", "minItems": 1, "items": MATERIAL},
                        },
                    },
                },
            },
        },
        {
            "required": ["same_as"],
            "additionalProperties": False,
            "properties": {"same_as": KEY},
        },
    ],
}

BAND = {
    "type": "object",
    "required": ["key", "name_zh", "name_en", "colour"],
    "additionalProperties": False,
    "properties": {
        "key": KEY,
        "name_zh": NAME,
        "name_en": NAME,
        "colour": {"enum": COLOURS},
        "behind_at_most": {"type": "number", "minimum": 0, "maximum": 100},
    },
}

PLAN_FILE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["format", "cluster", "plan", "schedule_bands", "sectors", "targets"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": 1},
        "cluster": {
            "type": "object",
            "required": ["key", "name_zh", "name_en"],
            "additionalProperties": False,
            "properties": {"key": KEY, "name_zh": NAME, "name_en": NAME},
        },
        "plan": {
            "type": "object",
            "required": ["key", "name_zh", "name_en", "starts_on", "ends_on"],
            "additionalProperties": False,
            "properties": {
                "key": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,59}$"},
                "name_zh": NAME,
                "name_en": NAME,
                "document_number": {"type": "string", "maxLength": 100},
                "issuer": {"type": "string", "maxLength": 200},
                "issued_on": DATE,
                "starts_on": DATE,
                "ends_on": DATE,
                "baseline_year": {"type": "integer", "minimum": 1990, "maximum": 2100},
            },
        },
        "schedule_bands": {"type": "array", "minItems": 1, "items": BAND},
        "sectors": SECTORS,
        "targets": {"type": "array", "minItems": 1, "items": TARGET},
    },
}

from decimal import Decimal

from django import template

from cluster.formatting import grouped, signed_percent, yuan_as_wan, yuan_as_yi

register = template.Library()


@register.filter
def wan(yuan):
    # A missing value in a template arrives as "" (string_if_invalid).
    return yuan_as_wan(None if yuan == "" else yuan)


@register.filter
def yi(yuan):
    return yuan_as_yi(yuan)


@register.filter
def number(value, places=2):
    if value is None or value == "":
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return grouped(Decimal(value), int(places))


@register.filter
def pct(value):
    """A signed percentage with one decimal: +12.3%."""
    return signed_percent(value, missing="")


@register.filter
def period(row) -> str:
    """The quarter of anything with `year` and `quarter`, labelled in the active language."""
    from cluster.quarters import Quarter

    return Quarter(row.year, row.quarter).label()


@register.filter
def file_line(number, lines):
    """The file's line of import row `number` (1-based data row): the header may sit below
    title lines and blank rows are skipped, so it is looked up, not computed."""
    if lines and 0 < number <= len(lines):
        return lines[number - 1]
    return number + 1

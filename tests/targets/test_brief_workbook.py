"""The brief's workbook: one number format per column, shares and growth alike as
fractions formatted as percentages, and a chart with its axes."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def workbook(client, city_viewer, population):
    client.force_login(city_viewer)
    response = client.get(
        reverse("targets:brief-download", args=["nano", "2025Q2", "xlsx"]), {"lang": "en"}
    )
    return load_workbook(io.BytesIO(response.content))


def test_every_column_has_one_number_format(workbook):
    for sheet in workbook.worksheets[1:]:
        for column in sheet.iter_cols(min_row=2):
            formats = {cell.number_format for cell in column if isinstance(cell.value, int | float)}
            assert len(formats) <= 1, (sheet.title, column[0].column_letter, formats)


def test_shares_and_growth_are_percentages_on_every_sheet(workbook):
    districts = workbook["Districts"]
    headers = [cell.value for cell in districts[1]]
    assert headers[3:5] == ["Year on year, same firms", "Share"]
    park = next(
        row for row in districts.iter_rows(min_row=2) if row[0].value == "Suzhou Industrial Park"
    )
    # SIP: 2.6 against 2.4 a year before (+8.3%), 2.6 of the city's 3.2 (81.25%).
    assert (round(park[3].value, 3), park[4].value) == (0.083, 0.8125)
    assert park[3].number_format == park[4].number_format == "0.0%"
    directions = workbook["Focus directions"]
    assert [cell.value for cell in directions[1]][2:4] == ["Share", "Year on year, same firms"]
    for row in directions.iter_rows(min_row=2):
        assert row[2].number_format == row[3].number_format == "0.0%"
        assert row[3].value is None or -1 < row[3].value < 1


def test_the_district_chart_keeps_its_axes(workbook):
    [chart] = workbook["Districts"]._charts
    assert chart.x_axis.delete is False and chart.y_axis.delete is False

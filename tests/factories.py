import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from cluster.models import District, Sector
from enterprises.choices import (
    DesignationTier,
    DesignationType,
    ListingVenue,
    SizeClass,
)
from enterprises.models import Designation, Enterprise, Listing, QuarterlyReport
from enterprises.uscc import check_character


def valid_uscc(n: int) -> str:
    first17 = f"91320594{n:08d}0"
    return first17 + check_character(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pass-for-tests-1")


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise

    uscc = factory.Sequence(valid_uscc)
    name_zh = factory.Sequence(lambda n: f"测试纳米材料有限公司{n}")
    name_en = factory.Sequence(lambda n: f"Test Nano Materials Co. {n}")
    district = factory.LazyFunction(lambda: District.objects.get(code="320571"))
    primary_sector = factory.LazyFunction(lambda: Sector.objects.get(code="1.04"))
    size_class = SizeClass.SMALL
    in_cluster_from = dt.date(2020, 1, 1)


class QuarterlyReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QuarterlyReport

    enterprise = factory.SubFactory(EnterpriseFactory)
    year = 2025
    quarter = 1
    output_value = Decimal("1000000.00")
    operating_revenue = Decimal("950000.00")


class DesignationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Designation

    enterprise = factory.SubFactory(EnterpriseFactory)
    type = DesignationType.GAZELLE
    tier = DesignationTier.CITY
    valid_from = dt.date(2024, 1, 1)
    valid_to = dt.date(2025, 12, 31)


class ListingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Listing

    enterprise = factory.SubFactory(EnterpriseFactory)
    venue = ListingVenue.STAR
    ticker = factory.Sequence(lambda n: f"688{n:03d}")
    listed_on = dt.date(2022, 6, 1)

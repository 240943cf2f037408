"""Factories for test data (factory-boy, Faker in zh_CN)."""

import factory
from factory.django import DjangoModelFactory

from hardship.models import Region, Role, Union, User

factory.Faker._DEFAULT_LOCALE = "zh_CN"
TEST_PASSWORD = "test-pass-2026"


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"{990000 + n}")
    name = factory.Faker("city")
    level = Region.Level.COUNTY


class UnionFactory(DjangoModelFactory):
    class Meta:
        model = Union
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"U{n:05d}")
    name = factory.LazyAttribute(lambda union: f"{union.code}工会")
    kind = Union.Kind.GRASSROOTS


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name")
    role = Role.CASEWORKER
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(user, create, extracted, **kwargs):
        if create:
            user.save()

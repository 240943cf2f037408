"""The admin speaks the application's language: a way back to the workbench on every page, Chinese labels (English
ones capitalised), names kept as typed, and nothing a union's administrator has no use for."""

import re

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import translation

from dossiers.legacy.models import ImportBatch
from hardship.models import Heartbeat, Role, Union, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BACK = re.compile(r'<a href="/"[^>]*>.*?返回工作台', re.S)


@pytest.mark.parametrize("page", ["admin:index", "admin:hardship_union_changelist",
                                  "admin:hardship_heartbeat_changelist", "admin:dossiers_importbatch_changelist"])
def test_it_links_back_to_the_workbench_from_the_admin_header(client_for, county_admin, page):
    response = client_for(county_admin).get(reverse(page))
    assert response.status_code == 200
    assert BACK.search(response.content.decode())


def test_it_puts_the_way_back_first_in_the_sidebar_then_only_what_the_user_may_open(client_for, auditor):
    response = client_for(auditor).get(reverse("admin:index"))
    first, *groups = response.context["sidebar_navigation"]
    assert [(item["title"], item["link"], item["active"]) for item in first["items"]] == [("返回工作台", "/", False)]
    apps = response.context["available_apps"]
    opened = {(model["name"], model["admin_url"]) for app in apps for model in app["models"]}
    assert {(item["title"], item["link"]) for group in groups for item in group["items"]} == opened
    assert response.content.decode().count('href="/"') >= 2  # the header button and the sidebar item


def test_it_keeps_the_admin_closed_to_a_caseworker(client_for, caseworker):
    response = client_for(caseworker).get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_it_hides_groups_and_login_lockout_tables_even_from_a_superuser(client_for, unions):
    root = UserFactory(username="root", is_superuser=True, role=Role.ADMIN, home_union=unions["100000"])
    apps = client_for(root).get(reverse("admin:index")).context["available_apps"]
    assert {app["app_label"] for app in apps} == {"hardship", "dossiers", "assistance"}


def test_it_heads_the_heartbeat_columns_in_chinese(client_for, county_admin):
    Heartbeat.objects.create(name="beat", worker="worker-1@host")
    page = client_for(county_admin).get(reverse("admin:hardship_heartbeat_changelist")).content.decode()
    for header in ("名称", "最近运行", "运行进程"):
        assert header in page
    for english in ("Name", "Last seen", "Worker"):
        assert f">{english}<" not in page and f"> {english} <" not in page


def shown_fields(model) -> set[str]:
    """The fields the model's admin lists, filters or edits (the history table names the same ones)."""
    model_admin = admin.site.get_model_admin(model)
    names = {name for name in model_admin.list_display if isinstance(name, str)} | set(model_admin.list_filter)
    for _title, options in [*(model_admin.fieldsets or []), *getattr(model_admin, "add_fieldsets", [])]:
        names |= set(options["fields"])
    names |= set(getattr(model_admin, "fields", None) or [])
    return names & {field.name for field in model._meta.concrete_fields}


@pytest.mark.parametrize("model", [User, Union, Heartbeat])
def test_it_labels_every_field_in_chinese_and_never_in_lower_case_english(model):
    fields = shown_fields(model) or {field.name for field in model._meta.concrete_fields}
    for name in fields:
        label = model._meta.get_field(name).verbose_name
        for language in ("zh-hans", "en"):
            with translation.override(language):
                assert not re.match(r"[a-z]", str(label)), f"{model.__name__}.{name} in {language}: {label}"


def test_it_keeps_a_file_name_as_typed_in_the_admin_breadcrumbs(client_for, county_admin, unions):
    batch = ImportBatch.objects.create(
        union=unions["410102"], uploaded_by=county_admin, file_name="legacy_2019.xlsx", sha256="0" * 64, size=1,
        state=ImportBatch.State.UNREADABLE, report={"error": "无法读取"},
    )
    page = client_for(county_admin).get(reverse("admin:dossiers_importbatch_batch", args=[batch.pk])).content.decode()
    assert "legacy_2019.xlsx" in page and "Legacy_2019.xlsx" not in page


def test_it_links_the_favicon_from_the_admin(client_for, county_admin):
    assert 'href="/static/favicon.svg"' in client_for(county_admin).get(reverse("admin:index")).content.decode()

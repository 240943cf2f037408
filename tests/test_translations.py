"""Chinese first, English through Django's i18n: the committed catalogue is complete and compiled."""

import gettext
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale"


CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))


@pytest.mark.parametrize("po_file", CATALOGUES, ids=lambda path: path.parts[-3])
def test_it_translates_every_message_with_valid_formats(po_file):
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po_file)], capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


@pytest.mark.parametrize("po_file", CATALOGUES, ids=lambda path: path.parts[-3])
def test_it_ships_the_mo_file_compiled_from_the_po_file(tmp_path, po_file):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(po_file)], check=True)
    with open(compiled, "rb") as fresh, open(po_file.with_suffix(".mo"), "rb") as committed:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(committed)._catalog, (
            f"{po_file.with_suffix('.mo')} is stale: run ./dev manage compilemessages --ignore=.venv"
        )


def test_it_fills_the_blank_choice_in_chinese():
    from django.db.models.fields import BLANK_CHOICE_LABEL

    with translation.override("zh-hans"):
        assert str(BLANK_CHOICE_LABEL) == "- 请选择 -"


def test_it_speaks_chinese_by_default_and_english_on_request(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override(settings.LANGUAGE_CODE):
        assert translation.gettext("我的工作") == "我的工作"
    with translation.override("en"):
        assert translation.gettext("我的工作") == "My work"


@pytest.mark.django_db
def test_it_renders_pages_in_english_for_an_english_session(client_for, caseworker):
    client = client_for(caseworker)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("home")).content.decode()
    assert "<h1>My work" in page and 'lang="en"' in page

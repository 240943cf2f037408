"""Response headers: the Content-Security-Policy on every page (its nonce on the page's scripts), the admin's own
policy, no inline script, style or handler in any template; no-store on the pages with personal data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import engines
from django.urls import reverse

from tests.dossiers.conftest import build_household, make_household, standard  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CSP = "Content-Security-Policy"
APPLICATION_POLICY = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
                      "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


def nonce_of(response) -> str:
    found = re.search(r"'nonce-([^']+)'", response[CSP])
    assert found, response[CSP]
    return found[1]


@pytest.fixture
def household(make_household, caseworker, unions):  # noqa: F811
    return make_household(by=caseworker, union=unions["410102-C01"])


def test_every_page_sends_the_policy_with_the_nonce_its_scripts_carry(client_for, caseworker, household):
    client = client_for(caseworker)
    for url in (reverse("home"), reverse("dossiers:list"), reverse("dossiers:detail", args=[household.file_number]),
                reverse("dossiers:print", args=[household.file_number])):
        response = client.get(url)
        nonce = nonce_of(response)
        assert response[CSP] == APPLICATION_POLICY.format(nonce=nonce), url
        scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
        assert scripts and all(f'nonce="{nonce}"' in tag or "form-errors.js" in tag for tag in scripts), url
        assert all(" src=" in tag for tag in scripts), url  # no inline script at all


def test_each_response_has_a_nonce_of_its_own(client_for, caseworker):
    client = client_for(caseworker)
    assert nonce_of(client.get(reverse("home"))) != nonce_of(client.get(reverse("home")))


def test_the_sign_in_page_sends_the_policy_too(client):
    assert "frame-ancestors 'none'" in client.get(reverse("login"))[CSP]


def test_htmx_is_told_to_inject_no_styles_and_to_eval_nothing(client_for, caseworker):
    page = client_for(caseworker).get(reverse("home")).content.decode()
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', page)
    assert meta and '"includeIndicatorStyles": false' in meta[1] and '"allowEval": false' in meta[1]


def test_the_admin_has_its_own_policy_for_unfold(client):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    policy = response[CSP]
    assert "script-src 'self'" in policy and "'unsafe-eval'" in policy and "style-src 'self' 'unsafe-inline'" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_the_500_page_needs_no_inline_style():
    page = (ROOT / "templates" / "500.html").read_text()
    assert "style=" not in page and "<style" not in page
    assert "{% static 'css/error.css' %}" in page  # the hashed name of a production static folder
    assert (ROOT / "static" / "css" / "error.css").exists()


INLINE = re.compile(r"""\son[a-z]+\s*=|\sstyle\s*=|<style\b|<script(?![^>]*\ssrc=)[^>]*>|javascript:|hx-on""")


def application_templates() -> list[Path]:
    """Every template of the application; the admin's (templates/admin, templates/unfold) have the admin's policy."""
    found = [path for folder in ("templates", "dossiers", "hardship", "reporting")
             for path in (ROOT / folder).glob("**/*.html")]
    return sorted(path for path in found if not {"admin", "unfold"} & set(path.relative_to(ROOT).parts[1:2]))


@pytest.mark.parametrize("path", application_templates(), ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_has_what_the_policy_refuses(path):
    assert not INLINE.findall(re.sub(r"\{#.*?#\}", "", path.read_text())), path


def test_the_check_finds_what_it_should():
    for bad in ('<select onchange="x()">', '<p style="color:red">', "<script>alert(1)</script>", "<style>p{}</style>",
                '<button hx-on:click="x">'):
        assert INLINE.search(bad), bad
    assert not INLINE.search('<script src="/static/js/x.js" defer></script> <a data-phone="1">')


def test_the_500_page_renders_without_a_request():
    page = engines["django"].get_template("500.html").render()
    assert "系统暂时出错" in page and 'href="/static/css/error.css"' in page


# --- no-store ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["detail", "print", "edit", "history"])
def test_the_pages_with_personal_data_are_never_stored(client_for, caseworker, household, name):
    response = client_for(caseworker).get(reverse(f"dossiers:{name}", args=[household.file_number]))

    assert response.status_code == 200
    assert set(response["Cache-Control"].replace(" ", "").split(",")) == {"no-store", "private"}


def test_a_revealed_id_number_is_never_stored(client_for, caseworker, household):
    member = household.members.get(is_primary=True)
    response = client_for(caseworker).post(reverse("dossiers:reveal", args=[household.file_number, member.pk]))

    assert member.id_number in response.content.decode()
    assert set(response["Cache-Control"].replace(" ", "").split(",")) == {"no-store", "private"}


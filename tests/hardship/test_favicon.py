"""Every page names its icon, and the icon is there: no page asks the server for a file it does not have."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

ICON = re.compile(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"')


def icons_of(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    return ICON.findall(response.content.decode())


@pytest.fixture(autouse=True)
def static_files_served(settings):
    """WhiteNoise serving from the static folders, as under `./dev serve` (the test client has no file server)."""
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


@pytest.mark.parametrize("url", [reverse("login"), reverse("home"), reverse("admin:index")])
def test_it_links_an_icon_that_answers(client_for, county_admin, url):
    client = client_for(county_admin) if url != reverse("login") else Client()
    icons = icons_of(client, url)
    assert icons, f"{url} names no icon, so browsers ask for /favicon.ico"
    for icon in icons:
        response = client.get(icon)
        assert response.status_code == 200, icon
        assert response["Content-Type"] in ("image/svg+xml", "image/png")


def test_the_root_favicon_address_browsers_ask_for_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.ico")

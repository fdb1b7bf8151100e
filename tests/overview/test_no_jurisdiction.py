"""A superuser of an installation without any jurisdiction yet (a fresh database) gets an empty overview,
not an error. In a module of its own: the permission matrix's shared world would be visible otherwise."""

from __future__ import annotations

from django.test import Client

from civicgrid.accounts.models import User


def test_a_superuser_without_any_jurisdiction_sees_an_empty_overview(db: None) -> None:

    user = User.objects.create_superuser("platform", password="x-very-long-password")
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get("/overview/")
    assert page.status_code == 200
    assert 'class="notice"' in page.content.decode()
    assert "overview-map" not in page.content.decode()
    data = client.get("/overview/map.geojson").json()
    assert (data["features"], data["open_located"]) == ([], 0)

"""The back-office shell: dashboard, error pages, htmx log-in redirect, CSRF header."""

import pytest
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import path, reverse

from oms.lib.auth import permission_required
from oms.lib.navigation import items_for
from oms.models import OutboxMessage
from oms.urls import urlpatterns as project_urlpatterns


@permission_required("oms.view_outboxmessage")
def _outbox_only(request):
    raise AssertionError("not reached in these tests")


urlpatterns = [*project_urlpatterns, path("test-only/", _outbox_only, name="test_only")]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["Sales", "Warehouse", "Customer service", "Accounting",
                                  "Manager", "Admin"])
def test_dashboard_shows_the_role_and_its_navigation(client_for, role):
    client = client_for(role)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert role in html
    for item in items_for(client.user):
        assert f'href="{item["url"]}"' in html
    # Every htmx request carries the CSRF token, and the skip link targets <main>.
    assert f"""hx-headers='{{"X-CSRFToken": "{response.context["csrf_token"]}"}}'""" in html
    assert 'href="#main"' in html and 'id="main"' in html


@pytest.mark.django_db
def test_only_roles_that_may_see_the_outbox_get_its_health_card(client_for):
    OutboxMessage.objects.create(handler="x", payload={}, status=OutboxMessage.Status.FAILED)
    admin_page = client_for("Admin").get(reverse("dashboard")).content.decode()
    assert "Background messages" in admin_page
    assert "status__exact=failed" in admin_page
    assert "Background messages" not in client_for("Manager").get(
        reverse("dashboard")).content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_missing_permission_renders_the_403_page_inside_the_shell(client_for):
    response = client_for("Sales").get("/test-only/")
    assert response.status_code == 403
    assert "You may not open this page" in response.content.decode()
    assert 'class="mainnav"' in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_address_renders_the_404_page(client_for):
    response = client_for("Sales").get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_the_500_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html


@pytest.mark.django_db
def test_an_htmx_request_without_a_session_redirects_the_whole_page_to_log_in(client):
    response = client.get(reverse("dashboard"), headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/orders/?page=2"})
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Forders%2F%3Fpage%3D2"


@pytest.mark.django_db
def test_the_form_error_summary_links_to_each_field_in_error(client):
    response = client.post(reverse("login"), {"username": "", "password": ""})
    html = response.content.decode()
    assert "Please correct the 2 errors below." in html
    assert 'href="#id_username"' in html
    assert 'aria-describedby="id_username_error"' in html
    assert 'id="id_username_error"' in html


def test_the_healthz_endpoint_answers(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_messages_show_in_the_layout_and_swap_out_of_band_for_htmx(rf, make_user):
    from django.contrib import messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.shortcuts import render

    request = rf.get("/")
    request.user = make_user("Sales")
    request.session = {}
    request._messages = FallbackStorage(request)
    messages.success(request, "Order SO-2026-000001 placed.")
    messages.error(request, "The card was declined.")
    html = render(request, "404.html").content.decode()
    assert '<div class="flash success" role="status">Order SO-2026-000001 placed.</div>' in html
    assert '<div class="flash error" role="alert">The card was declined.</div>' in html

    fragment = render_to_string("_partials/messages.html", {"messages": [], "oob": True})
    assert 'id="flash"' in fragment and 'hx-swap-oob="true"' in fragment


def test_the_pagination_partial_keeps_the_filters_and_can_drive_htmx(rf):
    from django.core.paginator import Paginator
    from django.template.loader import get_template

    request = rf.get("/orders/", {"status": "placed", "page": "2"})
    page = Paginator(range(100), 10).page(2)
    html = get_template("_partials/pagination.html").render(
        {"page": page, "target": "#results"}, request)
    assert 'href="?status=placed&amp;page=1" rel="prev"' in html
    assert 'href="?status=placed&amp;page=3" rel="next"' in html
    assert 'hx-target="#results"' in html
    assert "Page 2" in html
    assert get_template("_partials/pagination.html").render(
        {"page": Paginator(range(5), 10).page(1)}, request).strip() == ""


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_refused_htmx_action_answers_403_into_the_flash_box(client_for):
    response = client_for("Sales").post("/test-only/", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#flash"
    assert "your roles do not include the permission" in response.content.decode()
    assert "<html" not in response.content.decode()

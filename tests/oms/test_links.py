"""{% link %} and {% url_if_allowed %}: a link only for readers the view lets in."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.test import RequestFactory

pytestmark = pytest.mark.django_db

TEMPLATE = Template(
    "{% load oms_links %}"
    "{% link 'customers:detail' 7 %}<b>{{ name }}</b>{% endlink %}|"
    "{% url_if_allowed 'reporting:order_export' as export_url %}{{ export_url }}|"
    "{% url_if_allowed 'admin:index' as admin_url %}{{ admin_url }}")


def _render(user) -> str:
    request = RequestFactory().get("/")
    request.user = user
    return TEMPLATE.render(Context({"request": request, "name": "A & B"}))


def test_a_reader_with_the_views_permissions_gets_the_links(make_user):
    # Accounting may open a customer and export orders (orders.view_order and
    # reporting.view_reports, both declared by the export view); not the admin site.
    assert _render(make_user("Accounting")) == (
        '<a href="/customers/7/"><b>A &amp; B</b></a>|/reports/orders.csv|')


def test_a_reader_without_them_gets_the_text_alone(make_user):
    assert _render(make_user("Warehouse")) == "<b>A &amp; B</b>||"


def test_the_admin_site_link_is_for_staff(make_user):
    assert _render(make_user("Admin")).endswith("|/admin/")

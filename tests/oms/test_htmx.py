"""One helper renders a page or its partial; htmx headers come from django-htmx."""

from django.test import RequestFactory
from django_htmx.middleware import HtmxDetails

from oms.lib.htmx import flash_error, render_partial

TEMPLATE = "customers/customer_list.html"
CONTEXT = {"customers": [], "page": None, "query": "", "standing": "", "standings": []}


def _request(headers: dict | None = None):
    request = RequestFactory().get("/", headers=headers or {})
    request.htmx = HtmxDetails(request)
    return request


def test_render_partial_renders_the_whole_page_without_htmx():
    response = render_partial(_request(), TEMPLATE, CONTEXT, partial="results",
                              target="customer-results")
    assert b"<html" in response.content


def test_render_partial_renders_only_the_partial_for_its_target():
    aimed = render_partial(_request({"HX-Request": "true", "HX-Target": "customer-results"}),
                           TEMPLATE, CONTEXT, partial="results", target="customer-results")
    elsewhere = render_partial(_request({"HX-Request": "true", "HX-Target": "other"}),
                               TEMPLATE, CONTEXT, partial="results", target="customer-results")
    assert b"<html" not in aimed.content
    assert b"<html" in elsewhere.content


def test_flash_error_retargets_the_flash_box():
    response = flash_error(_request({"HX-Request": "true"}), "Nope", status=409)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#flash"
    assert response["HX-Reswap"] == "innerHTML"
    assert b"Nope" in response.content

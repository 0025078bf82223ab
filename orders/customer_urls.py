"""The customer's order page, mounted at /o/ (no login)."""

from django.urls import path

from orders import customer_views

urlpatterns = [
    path("<str:token>/", customer_views.order_page, name="customer_order_page"),
    path("<str:token>/address/", customer_views.request_address,
         name="customer_address_request"),
    path("<str:token>/return/", customer_views.start_return, name="customer_start_return"),
    path("<str:token>/feedback/", customer_views.feedback, name="customer_order_feedback"),
    path("<str:token>/documents/<str:kind>/<int:pk>.pdf", customer_views.document,
         name="customer_order_document"),
]

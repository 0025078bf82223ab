"""Billing's pages under the customer's order link, mounted at /o/ (no login)."""

from django.urls import path

from billing import customer_views

urlpatterns = [
    path("<str:token>/invoices/<int:pk>/pay/", customer_views.pay_invoice,
         name="customer_pay_invoice"),
]

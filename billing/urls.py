from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("approvals/", views.approval_queue, name="approval_queue"),
    path("approvals/<int:order_id>/approve/", views.approve, name="approve"),
    path("approvals/<int:order_id>/reject/", views.reject, name="reject"),
    path("pay/<str:token>/", views.card_retry, name="card_retry"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/payments/", views.record_payment, name="record_payment"),
    path("invoices/<int:pk>/apply-credit/", views.apply_credit, name="apply_credit"),
    path("invoices/<int:pk>/credit-note/", views.credit_note_create, name="credit_note"),
    path("credit-notes/<int:pk>/pdf/", views.credit_note_pdf, name="credit_note_pdf"),
    path("receivables/", views.receivables, name="receivables"),
    path("returns/<int:pk>/settle/", views.settle_return, name="settle_return"),
]

from django.urls import path

from billing import views

app_name = "billing"

urlpatterns = [
    path("approvals/", views.approval_queue, name="approval_queue"),
    path("approvals/<int:order_id>/approve/", views.approve, name="approve"),
    path("approvals/<int:order_id>/reject/", views.reject, name="reject"),
    path("pay/<str:token>/", views.card_retry, name="card_retry"),
]

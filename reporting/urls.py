from django.urls import path

from reporting import views, views_subscriptions

app_name = "reporting"

urlpatterns = [
    path("", views.manager_dashboard, name="manager_dashboard"),
    path("orders.csv", views.order_export, name="order_export"),
    # Scheduled report subscriptions (reporting/views_subscriptions.py).
    path("subscriptions/", views_subscriptions.subscription_list, name="subscription_list"),
    path("subscriptions/new/", views_subscriptions.subscription_create,
         name="subscription_create"),
    path("subscriptions/<int:pk>/", views_subscriptions.subscription_detail,
         name="subscription_detail"),
    path("subscriptions/<int:pk>/edit/", views_subscriptions.subscription_edit,
         name="subscription_edit"),
    path("subscriptions/<int:pk>/preview/", views_subscriptions.subscription_preview,
         name="subscription_preview"),
    path("subscriptions/<int:pk>/send/", views_subscriptions.subscription_send_now,
         name="subscription_send_now"),
    path("subscriptions/<int:pk>/delete/", views_subscriptions.subscription_delete,
         name="subscription_delete"),
    path("runs/<int:pk>/retry/", views_subscriptions.run_retry, name="run_retry"),
    path("runs/<int:pk>/file/", views_subscriptions.run_file, name="run_file"),
    path("runs/download/<str:token>/", views_subscriptions.run_download,
         name="run_download"),
]

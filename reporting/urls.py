from django.urls import path

from reporting import views, views_subscriptions

app_name = "reporting"

urlpatterns = [
    path("", views.manager_dashboard, name="manager_dashboard"),
    path("orders.csv", views.order_export, name="order_export"),
    # Scheduled report subscriptions (reporting/views_subscriptions.py). The
    # names carry the model (report_subscription, report_run) so the URL walk
    # of tests/oms/test_permissions.py finds a sample object for <pk>.
    path("subscriptions/", views_subscriptions.subscription_list,
         name="report_subscription_list"),
    path("subscriptions/new/", views_subscriptions.subscription_create,
         name="report_subscription_create"),
    path("subscriptions/<int:pk>/", views_subscriptions.subscription_detail,
         name="report_subscription_detail"),
    path("subscriptions/<int:pk>/edit/", views_subscriptions.subscription_edit,
         name="report_subscription_edit"),
    path("subscriptions/<int:pk>/preview/", views_subscriptions.subscription_preview,
         name="report_subscription_preview"),
    path("subscriptions/<int:pk>/send/", views_subscriptions.subscription_send_now,
         name="report_subscription_send_now"),
    path("subscriptions/<int:pk>/delete/", views_subscriptions.subscription_delete,
         name="report_subscription_delete"),
    path("runs/<int:pk>/retry/", views_subscriptions.run_retry, name="report_run_retry"),
    path("runs/<int:pk>/file/", views_subscriptions.run_file, name="report_run_file"),
    path("runs/<int:pk>/progress/", views_subscriptions.run_progress,
         name="report_run_progress"),
    path("runs/download/<str:token>/", views_subscriptions.run_download,
         name="report_run_download"),
]

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from fulfillment.api_v1 import router as fulfillment_api_router
from inventory.api_v1 import router as inventory_api_router
from oms import views
from oms.api import build_urls
from oms.lib.auth import public
from orders.api_v1 import router as orders_api_router

handler500 = "oms.lib.errors.server_error"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", views.search, name="search"),
    path("audit/", views.audit_log, name="audit"),
    path("queue/", views.work_queue, name="work_queue"),
    path("queue/handled/", views.queue_handled, name="queue_handled"),
    path("queue/count/", views.queue_count, name="queue_count"),
    path("notices/", views.notice_list, name="notices"),
    path("notices/<int:pk>/read/", views.notice_read, name="notice_read"),
    path("notices/read/", views.notice_read_all, name="notice_read_all"),
    path("accounts/login/", public(auth_views.LoginView.as_view()), name="login"),
    path("accounts/logout/", public(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/second-factor/setup/", views.otp_setup, name="otp_setup"),
    path("accounts/second-factor/verify/", views.otp_verify, name="otp_verify"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("progress/<str:key>/", views.progress, name="progress"),
    path("admin/", admin.site.urls),
    path("api/v1/", build_urls(("", orders_api_router), ("", inventory_api_router),
                                 ("", fulfillment_api_router))),
    path("o/", include("orders.customer_urls")),
    path("o/", include("billing.customer_urls")),
    path("customers/", include("customers.urls")),
    path("inventory/", include("inventory.urls")),
    path("orders/", include("orders.urls")),
    path("billing/", include("billing.urls")),
    path("fulfillment/", include("fulfillment.urls")),
    path("reports/", include("reporting.urls")),
]

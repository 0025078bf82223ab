from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("", views.manager_dashboard, name="manager_dashboard"),
    path("orders.csv", views.order_export, name="order_export"),
]

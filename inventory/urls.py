from django.urls import path

from inventory import views

app_name = "inventory"

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/costs/", views.product_cost, name="product_cost"),
    path("stock/", views.stock_list, name="stock_list"),
    path("stock/receive/", views.receive, name="receive"),
    path("stock/adjust/", views.adjust, name="adjust"),
]

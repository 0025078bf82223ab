from django.urls import path

from inventory import stock_views, views

app_name = "inventory"

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/costs/", views.product_cost, name="product_cost"),
    path("stock/", views.stock_list, name="stock_list"),
    path("stock/receive/", views.receive, name="receive"),
    path("stock/adjust/", views.adjust, name="adjust"),
    path("stock/transfer/", stock_views.transfer, name="transfer"),
    path("counts/", stock_views.count_list, name="count_list"),
    path("counts/start/", stock_views.count_start, name="count_start"),
    path("counts/<int:pk>/", stock_views.count, name="count"),
    path("counts/<int:pk>/enter/", stock_views.count_enter, name="count_enter"),
    path("counts/<int:pk>/lines/<int:product_id>/remove/", stock_views.count_remove,
         name="count_remove"),
    path("counts/<int:pk>/confirm/", stock_views.count_confirm, name="count_confirm"),
    path("counts/<int:pk>/cancel/", stock_views.count_cancel, name="count_cancel"),
]

from django.urls import path

from customers import views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/addresses/new/", views.address_add, name="address_add"),
    path("<int:pk>/addresses/<int:address_pk>/", views.address_edit, name="address_edit"),
    path("<int:pk>/log/", views.log_interaction, name="log_interaction"),
    path("<int:pk>/contacts/", views.contact_add, name="contact_add"),
    path("<int:pk>/contacts/<int:contact_pk>/remove/", views.contact_remove,
         name="contact_remove"),
]

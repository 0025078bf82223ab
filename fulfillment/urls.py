from django.urls import path

from fulfillment import views

app_name = "fulfillment"

urlpatterns = [
    path("pick/", views.to_pick, name="to_pick"),
    path("pick-lists/", views.pick_lists, name="pick_lists"),
    path("pick-lists/new/", views.create_pick_list, name="create_pick_list"),
    path("pick-lists/<int:pk>/", views.pick_list, name="pick_list"),
    path("pick-lists/<int:pk>/scan/", views.scan, name="scan"),
    path("pick-lists/<int:pk>/complete/", views.complete, name="complete"),
    path("pick-lists/<int:pk>/pdf/", views.pick_list_pdf, name="pick_list_pdf"),
    path("pack/", views.to_pack, name="to_pack"),
    path("pack/<int:warehouse_id>/<int:order_id>/", views.pack_form, name="pack_form"),
    path("pack/<int:warehouse_id>/<int:order_id>/submit/", views.pack, name="pack"),
    path("shipments/", views.shipments, name="shipments"),
    path("shipments/<int:pk>/", views.shipment, name="shipment"),
    path("shipments/<int:pk>/ship/", views.ship, name="ship"),
    path("shipments/<int:pk>/deliver/", views.deliver, name="deliver"),
    path("shipments/<int:pk>/packing-slip.pdf", views.packing_slip_pdf, name="packing_slip"),
    path("shipments/<int:pk>/label.pdf", views.shipping_label_pdf, name="label"),
]

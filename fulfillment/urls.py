from django.urls import path

from fulfillment import views, views_purchasing

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
    path("to-buy/", views_purchasing.to_buy, name="to_buy"),
    path("to-buy/create/", views_purchasing.create_from_proposal, name="create_from_proposal"),
    path("purchase-orders/", views_purchasing.purchase_orders, name="purchase_orders"),
    path("purchase-orders/<int:pk>/", views_purchasing.purchase_order, name="purchase_order"),
    path("purchase-orders/<int:pk>/send/", views_purchasing.send, name="send_purchase_order"),
    path("purchase-orders/<int:pk>/cancel/", views_purchasing.cancel,
         name="cancel_purchase_order"),
    path("purchase-orders/<int:pk>/lines/<int:line_id>/reschedule/",
         views_purchasing.reschedule, name="reschedule_line"),
    path("purchase-orders/<int:pk>/close/", views_purchasing.close_receiving,
         name="close_receiving"),
    path("purchase-orders/<int:pk>/pdf/", views_purchasing.purchase_order_pdf,
         name="purchase_order_pdf"),
    path("purchase-orders/<int:pk>/receive/", views_purchasing.receiving, name="receiving"),
    path("purchase-orders/<int:pk>/receive/scan/", views_purchasing.receive_scan,
         name="receive_scan"),
    path("late-orders/", views_purchasing.late_orders, name="late_orders"),
]

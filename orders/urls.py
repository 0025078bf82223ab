from django.urls import path

from orders import (
    customer_views,
    discount_code_views,
    notice_views,
    price_list_views,
    return_views,
    views,
)

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("notices/", notice_views.notice_rules, name="notice_rules"),
    path("notices/<int:pk>/delete/", notice_views.notice_rule_delete,
         name="notice_rule_delete"),
    path("notices/digest/", notice_views.notice_digest, name="notice_digest"),
    path("<int:pk>/", views.order_detail, name="detail"),
    # One URL per action; each answers htmx with the re-rendered order panel.
    path("<int:pk>/place/", views.place, name="place"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/allocate/", views.allocate, name="allocate"),
    path("<int:pk>/hold/", views.hold, name="hold"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/note/", views.note, name="note"),
    path("<int:pk>/revoke-link/", customer_views.revoke_link, name="revoke_link"),
    path("<int:pk>/lines/<int:line_id>/cancel-rest/", views.cancel_rest, name="cancel_rest"),
    path("<int:pk>/lines/<int:line_id>/cancel-remaining/", views.cancel_remaining,
         name="cancel_remaining"),
    # Changing an order before it ships: the screen, its htmx preview, the save.
    path("<int:pk>/edit/", views.order_edit, name="edit"),
    path("<int:pk>/edit/preview/", views.order_edit_preview, name="edit_preview"),
    path("<int:pk>/edit/save/", views.order_edit_save, name="edit_save"),
    path("<int:pk>/returns/new/", return_views.start_return, name="start_return"),
    path("returns/", return_views.return_list, name="returns"),
    path("returns/<int:pk>/", return_views.return_detail, name="return_detail"),
    path("returns/<int:pk>/approve/", return_views.approve, name="approve_return"),
    path("returns/<int:pk>/refuse/", return_views.refuse, name="refuse_return"),
    path("returns/<int:pk>/label.pdf", return_views.label_pdf, name="return_label"),
    # Capture: order entry (htmx partials) and the CSV import.
    path("entry/", views.entry, name="entry"),
    path("entry/customers/", views.customer_search, name="entry_customer_search"),
    path("entry/customer/", views.customer_pick, name="entry_customer_pick"),
    path("entry/products/", views.product_search, name="entry_product_search"),
    path("entry/lines/", views.entry_lines_partial, name="entry_lines"),
    path("entry/save/", views.entry_save, name="entry_save"),
    path("import/", views.import_upload, name="import"),
    path("import/confirm/", views.import_confirm, name="import_confirm"),
    path("price-lists/", price_list_views.price_list_list, name="price_lists"),
    path("price-lists/<int:pk>/", price_list_views.price_list_detail,
         name="price_list_detail"),
    path("price-lists/<int:pk>/prices/<int:entry_pk>/remove/", price_list_views.price_remove,
         name="price_remove"),
    path("discount-codes/", discount_code_views.discount_code_list, name="discount_codes"),
    path("discount-codes/new/", discount_code_views.discount_code_new,
         name="discount_code_new"),
    path("discount-codes/<int:pk>/", discount_code_views.discount_code_edit,
         name="discount_code_edit"),
    path("discount-codes/<int:pk>/deactivate/", discount_code_views.discount_code_deactivate,
         name="discount_code_deactivate"),
]

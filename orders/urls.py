from django.urls import path  # noqa: F401

app_name = "orders"

urlpatterns: list = []

# Capture channels (order entry and CSV import), appended by the capture work.
from orders import entry  # noqa: E402

urlpatterns += [
    path("entry/", entry.entry, name="entry"),
    path("entry/customers/", entry.customer_search, name="entry_customer_search"),
    path("entry/customer/", entry.customer_pick, name="entry_customer_pick"),
    path("entry/products/", entry.product_search, name="entry_product_search"),
    path("entry/lines/", entry.entry_lines, name="entry_lines"),
    path("entry/save/", entry.entry_save, name="entry_save"),
    path("import/", entry.import_upload, name="import"),
    path("import/confirm/", entry.import_confirm, name="import_confirm"),
]

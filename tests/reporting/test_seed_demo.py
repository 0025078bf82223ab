"""seed_demo: one demo login per role and demo data in every order state; safe to run twice."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max, Min, Sum
from django.utils import timezone

from billing.models import DocumentCounter, Invoice
from billing.services import run_payment_approval
from billing.services.invoicing import invoice_series
from customers.models import Customer
from inventory.models import (
    Product,
    PurchaseOrder,
    StockLevel,
    StockMovement,
    Supplier,
    SupplierProduct,
    Warehouse,
)
from oms.lib.roles import ADMIN, ROLE_PERMISSIONS
from orders import payments
from orders.models import Channel, Order, OrderStatus
from reporting.management import demo_data, demo_history, demo_purchasing
from reporting.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERS, seed_users


@pytest.fixture(autouse=True)
def _development(settings):
    # The demo data is for development machines (pytest-django turns DEBUG off).
    settings.DEBUG = True


@pytest.fixture(autouse=True)
def _billing_decides(monkeypatch):
    # tests/reporting/conftest.py removes billing's approver; the seed runs
    # against the whole product, so put the real decision back.
    monkeypatch.setattr(payments, "_approver", run_payment_approval)


@pytest.mark.django_db(transaction=True)
def test_seed_demo_twice_creates_users_catalogue_customers_and_orders_once(capsys):
    call_command("seed_demo", "--no-history")
    first = capsys.readouterr().out
    call_command("seed_demo", "--no-history")
    second = capsys.readouterr().out

    User = get_user_model()
    assert User.objects.filter(username__in=DEMO_USERS).count() == len(DEMO_USERS)
    assert Warehouse.objects.count() == len(demo_data.WAREHOUSES)
    assert Product.objects.count() == len(demo_data.PRODUCTS)
    assert Customer.objects.count() == len(demo_data.CUSTOMERS)
    assert Order.objects.count() == len(demo_data.ORDERS)
    for demo in demo_data.ORDERS:
        order = Order.objects.get(notes=demo.note)
        assert order.status == demo.status, demo.note
    assert "demo orders placed: 0" in second
    # Suppliers and the one sent purchase order behind the backordered order.
    assert Supplier.objects.count() == len(demo_purchasing.SUPPLIERS)
    assert SupplierProduct.objects.count() == len(demo_purchasing.OFFERS)
    assert list(PurchaseOrder.objects.values_list("status", flat=True)) == ["sent"]
    assert "0 purchase orders created" in second
    assert f"sales        / {DEMO_PASSWORD}" in first
    assert f"sales        / {DEMO_PASSWORD}" in second


@pytest.mark.django_db(transaction=True)
def test_seed_demo_covers_every_order_state_that_rests():
    call_command("seed_demo", "--no-history")

    # Left right after commit: `placed` once payment approval decides, `shipped`
    # once billing invoices (in-process here; a worker does it with Redis).
    transient = {OrderStatus.PLACED, OrderStatus.SHIPPED}
    resting = set(OrderStatus.values) - transient
    assert set(Order.objects.values_list("status", flat=True)) == resting, (
        "a new order state needs a demo order in reporting/management/demo_data.py")
    holds = set(Order.objects.filter(status=OrderStatus.ON_HOLD)
                .values_list("hold_reason", flat=True))
    assert holds == {"new_customer", "payment_declined", "credit_limit", "prepayment_missing"}


@pytest.mark.django_db(transaction=True)
def test_seed_demo_stock_is_received_once_and_matches_the_ledger():
    call_command("seed_demo")
    call_command("seed_demo")

    opening = sum(sum(stock.values()) for *_rest, stock in demo_data.PRODUCTS)
    receipts = StockMovement.objects.filter(reference="DEMO-OPENING")
    assert receipts.aggregate(total=Sum("quantity"))["total"] == opening
    for level in StockLevel.objects.all():
        ledger = StockMovement.objects.filter(product=level.product_id,
                                              warehouse=level.warehouse_id)
        assert level.on_hand == ledger.aggregate(total=Sum("quantity"))["total"]
        assert 0 <= level.reserved <= level.on_hand


@pytest.mark.django_db
def test_demo_users_have_their_role_and_the_demo_password():
    seed_users()
    seed_users()

    User = get_user_model()
    assert User.objects.filter(username__in=DEMO_USERS).count() == len(DEMO_USERS)
    assert set(DEMO_USERS.values()) == set(ROLE_PERMISSIONS)
    for username, role in DEMO_USERS.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert user.check_password(DEMO_PASSWORD)
        assert user.is_superuser == user.is_staff == (role == ADMIN)


@pytest.mark.django_db
def test_seed_users_keeps_a_changed_password_unless_asked():
    seed_users()
    user = get_user_model().objects.get(username="sales")
    user.set_password("changed-by-the-user")
    user.save()

    seed_users()
    user.refresh_from_db()
    assert user.check_password("changed-by-the-user")

    seed_users(reset_passwords=True)
    user.refresh_from_db()
    assert user.check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_demo_login_reaches_the_dashboard(client):
    seed_users()
    response = client.post("/accounts/login/",
                           {"username": "manager", "password": DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "manager"


@pytest.mark.django_db(transaction=True)
def test_seed_demo_refuses_to_run_with_debug_off_unless_allowed(settings, capsys):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--allow-without-debug"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username__in=list(DEMO_USERS)).exists()
    call_command("seed_demo", "--allow-without-debug")
    assert get_user_model().objects.filter(username="admin").exists()


@pytest.mark.django_db(transaction=True)
def test_the_demo_has_a_year_of_history_behind_it_and_a_second_run_adds_none(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    history = Order.objects.filter(customer__email__endswith="@" + demo_history.HISTORY_DOMAIN)
    count = history.count()
    call_command("seed_demo")
    second = capsys.readouterr().out

    assert count == demo_history.ORDERS and history.count() == count
    assert f"] {count:,} / {count:,} past orders" in first  # the terminal's progress bar
    assert "demo history: already there" in second
    oldest, newest = history.aggregate(Min("placed_at"), Max("placed_at")).values()
    assert oldest < timezone.now() - timedelta(days=330)
    assert newest < timezone.now() - timedelta(days=demo_history.RECENT_DAYS - 1)
    assert set(history.values_list("channel", flat=True)) == set(Channel.values)
    assert set(history.values_list("currency", flat=True)) == {"EUR", "GBP", "USD"}
    assert set(history.values_list("status", flat=True)) == {
        "paid", "invoiced", "cancelled", "expired"}
    invoices = Invoice.objects.filter(order__in=history)
    assert invoices.filter(status="partially_paid").exists()
    assert invoices.filter(status="open", due_date__lt=timezone.localdate()).exists()  # overdue
    # Numbers come from the same counters as live invoices: no gap, no clash.
    for counter in DocumentCounter.objects.filter(series=invoice_series()):
        numbers = Invoice.objects.filter(series=counter.series, year=counter.year)
        assert numbers.aggregate(Max("sequence"))["sequence__max"] == counter.last_number
        assert numbers.count() == counter.last_number
    # Each paid order's status events run forward in time, from placement to payment.
    paid = history.filter(status="paid").first()
    times = list(paid.events.filter(kind="status_changed").order_by("created_at")
                 .values_list("to_status", flat=True))
    assert times == ["placed", *times[1:-5], "picking", "packed", "shipped", "invoiced", "paid"]
    assert paid.invoices.get().amount_paid == paid.total_gross

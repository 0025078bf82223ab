"""Back-office forms of the inventory app: stock receipt, adjustment, transfer,
count and unit costs.

Forms only parse and validate input; the services decide and write.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from inventory.models import Product, Warehouse


class _StockForm(forms.Form):
    sku = forms.CharField(label=_("Product SKU"), max_length=64,
                          widget=forms.TextInput(attrs={"autocomplete": "off",
                                                        "list": "sku-options"}))
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.none(),
                                       empty_label=None)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False,
                                help_text=_("Delivery note, purchase order or count sheet."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        warehouse = cast(forms.ModelChoiceField, self.fields["warehouse"])
        warehouse.queryset = Warehouse.objects.filter(is_active=True).order_by("code")

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        self.product = Product.objects.filter(sku__iexact=sku).first()
        if self.product is None:
            raise forms.ValidationError(_("No product has the SKU %(sku)s."),
                                        params={"sku": sku}, code="unknown_sku")
        return self.product.sku


class StockReceiptForm(_StockForm):
    quantity = forms.IntegerField(label=_("Quantity received"), min_value=1,
                                  max_value=1_000_000)
    reason = forms.CharField(label=_("Note"), max_length=200, required=False)

    field_order = ["sku", "warehouse", "quantity", "reference", "reason"]


class StockAdjustmentForm(_StockForm):
    quantity = forms.IntegerField(
        label=_("Change"), min_value=-1_000_000, max_value=1_000_000,
        help_text=_("Signed: -3 removes three units, 2 adds two."))
    reason = forms.CharField(label=_("Reason"), max_length=200,
                             help_text=_("Count correction, damage, loss, found..."))

    field_order = ["sku", "warehouse", "quantity", "reason", "reference"]

    def clean_quantity(self) -> int:
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("An adjustment cannot be zero."), code="zero")
        return quantity


class StockTransferForm(forms.Form):
    """Parses the transfer page; `transfer_stock` checks the rules."""

    product: Product  # set by clean_sku

    sku = forms.CharField(label=_("Product SKU"), max_length=64,
                          widget=forms.TextInput(attrs={"autocomplete": "off",
                                                        "list": "sku-options"}))
    from_warehouse = forms.ModelChoiceField(label=_("From warehouse"),
                                            queryset=Warehouse.objects.none())
    to_warehouse = forms.ModelChoiceField(label=_("To warehouse"),
                                          queryset=Warehouse.objects.none())
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=1_000_000,
                                  help_text=_("Only available units move; reserved ones stay."))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("from_warehouse", "to_warehouse"):
            field = cast(forms.ModelChoiceField, self.fields[name])
            field.queryset = Warehouse.objects.filter(is_active=True).order_by("code")

    def clean_sku(self) -> str:
        sku = self.cleaned_data["sku"].strip()
        product = Product.objects.filter(sku__iexact=sku).first()
        if product is None:
            raise forms.ValidationError(_("No product has the SKU %(sku)s."),
                                        params={"sku": sku}, code="unknown_sku")
        self.product = product
        return product.sku


class StartCountForm(forms.Form):
    warehouse = forms.ModelChoiceField(label=_("Warehouse"), queryset=Warehouse.objects.none(),
                                       empty_label=None)
    note = forms.CharField(label=_("Note"), max_length=200, required=False,
                           help_text=_("Which aisles, bins or products this count covers."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        warehouse = cast(forms.ModelChoiceField, self.fields["warehouse"])
        warehouse.queryset = Warehouse.objects.filter(is_active=True).order_by("code")


class ProductCostForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"),
                                 choices=lambda: [(c, c) for c in settings.CURRENCIES])
    cost = forms.DecimalField(label=_("Unit cost"), min_value=0, max_digits=14,
                              decimal_places=2, required=False,
                              help_text=_("Purchase price plus handling and delivery per "
                                          "unit. Leave empty to remove."))

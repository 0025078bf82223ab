"""Each user's notice settings: which arriving orders to hear of, and how
often to be e-mailed the unread ones. Rules for a role are the admin's."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from customers.models import CustomerGroup
from oms.lib import notices
from oms.lib.auth import AuthenticatedRequest, permission_required
from oms.lib.errors import ApplicationError
from oms.lib.validation import errors_onto_form
from oms.models import DigestFrequency, UserPreference
from orders.models import Channel
from orders.notices import (
    NoticeRule,
    NoticeRuleInput,
    channel_labels,
    delete_notice_rule,
    save_notice_rule,
)


class NoticeRuleForm(forms.Form):
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("Channels"), choices=Channel.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: every channel."))
    min_total = forms.CharField(label=gettext_lazy("Minimum total"), required=False,
                                max_length=20)
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), required=False)
    customer_group = forms.ModelChoiceField(label=gettext_lazy("Customer group"),
                                            queryset=CustomerGroup.objects.order_by("name"),
                                            required=False,
                                            empty_label=gettext_lazy("Any customer"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = [("", "—"), *((code, code) for code in settings.CURRENCIES)]


class DigestForm(forms.Form):
    notice_digest = forms.ChoiceField(label=gettext_lazy("E-mail me unread notices"),
                                      choices=DigestFrequency.choices)


def _page(request: AuthenticatedRequest, *, form: NoticeRuleForm | None = None,
          digest_form: DigestForm | None = None, status: int = 200) -> HttpResponse:
    preference = UserPreference.objects.filter(user=request.user).first()
    rules = (NoticeRule.objects.filter(user=request.user).select_related("customer_group")
             .order_by("id"))
    role_rules = (NoticeRule.objects.filter(role__in=request.user.groups.all(), is_active=True)
                  .select_related("role", "customer_group").order_by("id"))
    return render(request, "orders/notice_rules.html", {
        "rules": [(rule, channel_labels(rule)) for rule in rules],
        "role_rules": [(rule, channel_labels(rule)) for rule in role_rules],
        "form": form or NoticeRuleForm(),
        "digest_form": digest_form or DigestForm(initial={
            "notice_digest": preference.notice_digest if preference
            else DigestFrequency.NEVER})}, status=status)


@require_http_methods(["GET", "POST"])
@permission_required()  # signed in: each user keeps their own rules
def notice_rules(request: AuthenticatedRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    form = NoticeRuleForm(request.POST)
    if form.is_valid():
        group = form.cleaned_data["customer_group"]
        try:
            save_notice_rule(NoticeRuleInput.parse({
                "user": request.user.pk, "channels": form.cleaned_data["channels"],
                "min_total": form.cleaned_data["min_total"],
                "currency": form.cleaned_data["currency"],
                "customer_group": group.pk if group else None}), actor=request.user)
        except ApplicationError as refused:
            errors_onto_form(form, refused)
        else:
            messages.success(request, _("Notice rule added."))
            return HttpResponseRedirect(reverse("orders:notice_rules"))
    return _page(request, form=form, status=400)


@require_POST
@permission_required()
def notice_rule_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    try:
        delete_notice_rule(rule_id=pk, actor=request.user)
    except ApplicationError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("Notice rule removed."))
    return HttpResponseRedirect(reverse("orders:notice_rules"))


@require_POST
@permission_required()
def notice_digest(request: AuthenticatedRequest) -> HttpResponse:
    form = DigestForm(request.POST)
    if not form.is_valid():
        return _page(request, digest_form=form, status=400)
    notices.set_digest_frequency(user=request.user,
                                 frequency=form.cleaned_data["notice_digest"])
    messages.success(request, _("Your notice e-mail setting was saved."))
    return HttpResponseRedirect(reverse("orders:notice_rules"))

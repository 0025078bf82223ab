"""One-time form keys: claimed once, inside the write's transaction, given
back by a rollback; the form field renders a new key each time; the admin
lists the used keys read-only."""

from __future__ import annotations

import pytest
from django import forms
from django.db import transaction
from django.urls import reverse

from oms.lib.forms import SubmissionForm, SubmissionKeyField
from oms.lib.submissions import (
    KEY_PATTERN,
    AlreadySubmitted,
    claim_submission,
    new_submission_key,
    record_submission_result,
)
from oms.models import FormSubmission

pytestmark = pytest.mark.django_db


def claim(key: str | None, purpose: str = "test.pay", result_id: int | None = None):
    with transaction.atomic():
        submission = claim_submission(key=key, purpose=purpose, actor=None)
        if result_id is not None:
            record_submission_result(submission, result_id)
    return submission


def test_a_key_is_claimed_once_and_the_second_claim_names_the_first_result():
    key = new_submission_key()
    first = claim(key, result_id=41)
    assert first is not None and first.pk == FormSubmission.objects.get(key=key).pk

    with pytest.raises(AlreadySubmitted) as raised:
        claim(key)

    assert raised.value.status == 409 and raised.value.result_id == 41
    assert FormSubmission.objects.get().result_id == 41


def test_a_key_used_by_another_kind_of_form_names_no_result():
    key = new_submission_key()
    claim(key, purpose="test.pay", result_id=41)
    with pytest.raises(AlreadySubmitted) as raised:
        claim(key, purpose="test.credit")
    assert raised.value.result_id is None


def test_a_rolled_back_write_gives_its_key_back():
    key = new_submission_key()
    with pytest.raises(LookupError), transaction.atomic():
        claim_submission(key=key, purpose="test.pay", actor=None)
        raise LookupError("the write fails after the claim")
    assert not FormSubmission.objects.exists()
    assert claim(key) is not None


def test_no_key_claims_nothing():
    assert claim(None) is None
    assert not FormSubmission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_claim_outside_the_writes_transaction_is_refused():
    # In autocommit the key would stay taken even if the write then failed.
    with pytest.raises(RuntimeError):
        claim_submission(key=new_submission_key(), purpose="test.pay", actor=None)
    assert not FormSubmission.objects.exists()


def test_every_new_form_renders_a_new_key_and_a_bound_one_echoes_its_own():
    first, second = SubmissionForm(), SubmissionForm()
    rendered = [form["submission_key"].value() for form in (first, second)]
    assert rendered[0] != rendered[1]
    assert all(KEY_PATTERN.fullmatch(key) for key in rendered)
    assert 'type="hidden"' in str(first["submission_key"])
    bound = SubmissionForm({"submission_key": rendered[0]})
    assert bound.is_valid() and bound["submission_key"].value() == rendered[0]


@pytest.mark.parametrize("value", ["", "x" * 32, "A" * 32, "0" * 31])
def test_a_missing_or_malformed_key_is_refused(value):
    class Form(forms.Form):
        submission_key = SubmissionKeyField()

    form = Form({"submission_key": value})
    assert not form.is_valid()
    assert form.errors["submission_key"] == [
        "This form is out of date; reload the page and enter it again."]


def test_the_admin_lists_used_keys_read_only(client_for):
    key = new_submission_key()
    claim(key, purpose="billing.record_payment", result_id=7)
    client = client_for("Admin")
    url = reverse("admin:oms_formsubmission_changelist")

    response = client.get(url, {"q": key, "purpose": "billing.record_payment"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    submission = FormSubmission.objects.get()
    detail = client.get(reverse("admin:oms_formsubmission_change", args=[submission.pk]))
    assert detail.status_code == 200 and b'name="key"' not in detail.content
    assert client.get(reverse("admin:oms_formsubmission_add")).status_code == 403


def test_back_office_roles_do_not_reach_the_keys_admin(client_for):
    response = client_for("Accounting").get(reverse("admin:oms_formsubmission_changelist"))
    assert response.status_code == 302

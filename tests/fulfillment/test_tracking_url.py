"""Carrier tracking links put the tracking number in as one encoded value."""

from __future__ import annotations

from fulfillment.models import Carrier


def test_tracking_number_is_url_encoded_into_the_link():
    carrier = Carrier(tracking_url_template="https://track.example/?n={tracking_number}")
    assert (carrier.tracking_url("AB&C/1 2")
            == "https://track.example/?n=AB%26C%2F1%202")


def test_no_link_without_a_template_or_a_number():
    assert Carrier(tracking_url_template="").tracking_url("X1") == ""
    carrier = Carrier(tracking_url_template="https://t.example/{tracking_number}")
    assert carrier.tracking_url("") == ""

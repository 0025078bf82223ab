"""System checks of the machine the product runs on."""

from __future__ import annotations

from django.core.management import call_command
from weasyprint.text import ffi

from oms.checks import check_pdf_libraries


def test_this_machine_has_the_pdf_libraries():
    # make run, make test (bin/setup-system) and the Dockerfile install libharfbuzz-subset0.
    assert ffi.harfbuzz_subset is not None
    assert check_pdf_libraries() == []


def test_a_machine_without_harfbuzz_subset_gets_a_warning_that_says_what_to_install(
        monkeypatch, capsys, settings):
    monkeypatch.setattr(ffi, "harfbuzz_subset", None)  # the system library, absent
    # The development settings the suite runs with (pytest-django turns DEBUG
    # off, and production refuses the sandbox gateway: tests/oms/test_deploy_check.py).
    settings.DEBUG = True

    (warning,) = check_pdf_libraries()
    assert warning.id == "oms.W001" and "libharfbuzz-subset0" in warning.hint

    call_command("check")
    assert "oms.W001" in capsys.readouterr().err

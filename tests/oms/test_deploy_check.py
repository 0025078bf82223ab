import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _clean_environ() -> dict[str, str]:
    # The browser tests allow sync ORM calls next to Playwright; production never does.
    drop = {"DJANGO_ALLOW_ASYNC_UNSAFE", "SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _check_deploy(extra_env: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**_clean_environ(), "DEBUG": "false", "ALLOWED_HOSTS": "oms.example.com",
           "SECRET_KEY": "k3y-" + "x9!Qa7#Lm2$Vb8^Zr4&Tn6*" * 3,
           "BILLING_CARD_PROVIDER": "manual", "SITE_URL": "https://oms.example.com",
           **extra_env}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = _check_deploy({})
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_fails_with_an_insecure_secret_key():
    result = _check_deploy({"SECRET_KEY": "django-insecure-dev-only-key"})
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT,
                            env={**_clean_environ(), "DEBUG": "false"},
                            capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_sandbox_gateway():
    result = _check_deploy({"BILLING_CARD_PROVIDER": "sandbox"})
    assert result.returncode != 0
    assert "oms.E001" in result.stdout + result.stderr


@pytest.mark.parametrize("url", ["http://localhost:8000", "http://127.0.0.1:8000"])
def test_production_refuses_a_localhost_site_url(url):
    result = _check_deploy({"SITE_URL": url})
    assert result.returncode != 0
    assert "oms.E002" in result.stdout + result.stderr

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


def test_the_compiled_catalogue_is_in_the_repository():
    assert (LOCALE / "django.po").is_file()
    assert (LOCALE / "django.mo").is_file()


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed")
def test_the_catalogue_compiles_without_errors(tmp_path):
    result = subprocess.run(
        ["msgfmt", "--check-format", "-o", str(tmp_path / "django.mo"), str(LOCALE / "django.po")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("msgattrib") is None, reason="gettext is not installed")
@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_every_message_is_translated(which):
    result = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(LOCALE / "django.po")],
        capture_output=True,
        text=True,
        check=True,
    )
    # Only the header (msgid "") may be listed.
    missing = [line for line in result.stdout.splitlines() if line.startswith('msgid "')]
    assert missing in ([], ['msgid ""']), result.stdout[:2000]


def test_the_chinese_catalogue_is_used():
    with translation.override("zh-hans"):
        assert translation.gettext("Log in") == "登录"
        assert translation.gettext("balance") == "余额"


@pytest.mark.django_db
def test_the_login_page_renders_in_chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "忘记密码？" in html and "登录" in html

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
LOCALES = [
    Path(settings.BASE_DIR) / "locale" / name / "LC_MESSAGES" for name in ("zh_Hans", "zh_Hant")
]


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


# --- Traditional Chinese: the same completeness, and the same messages as Simplified ---------


@pytest.mark.parametrize("locale", LOCALES, ids=lambda p: p.parent.name)
def test_each_catalogue_and_its_compiled_form_are_in_the_repository(locale):
    assert (locale / "django.po").is_file()
    assert (locale / "django.mo").is_file()


@pytest.mark.skipif(shutil.which("msgattrib") is None, reason="gettext is not installed")
@pytest.mark.parametrize("which", ["--untranslated", "--only-fuzzy"])
def test_every_traditional_chinese_message_is_translated(which):
    result = subprocess.run(
        ["msgattrib", which, "--no-obsolete", str(LOCALES[1] / "django.po")],
        capture_output=True,
        text=True,
        check=True,
    )
    missing = [line for line in result.stdout.splitlines() if line.startswith('msgid "')]
    assert missing in ([], ['msgid ""']), result.stdout[:2000]


def _msgids(path: Path) -> set[str]:
    """The catalogue's message ids, whatever the line wrapping (msgctxt kept apart)."""
    ids, current, key = set(), None, ""
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        for keyword in ("msgctxt ", "msgid "):
            if line.startswith(keyword):
                if keyword == "msgctxt ":
                    key = line[len(keyword) + 1 : -1]
                else:
                    current = [line[len(keyword) + 1 : -1]]
                break
        else:
            if current is not None and line.startswith('"'):
                current.append(line[1:-1])
            elif current is not None:
                ids.add(key + "\x04" + "".join(current))
                current, key = None, ""
    return ids


def test_the_traditional_catalogue_has_every_simplified_message():
    """zh_Hant is converted from zh_Hans (manage.py messages_hant): a stale copy fails here."""
    assert _msgids(LOCALES[0] / "django.po") == _msgids(LOCALES[1] / "django.po")


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext is not installed")
def test_the_traditional_catalogue_compiles_without_errors(tmp_path):
    result = subprocess.run(
        [
            "msgfmt",
            "--check-format",
            "-o",
            str(tmp_path / "django.mo"),
            str(LOCALES[1] / "django.po"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_the_traditional_chinese_catalogue_is_used():
    with translation.override("zh-hant"):
        assert translation.gettext("Log in") == "登入"
        assert translation.gettext("balance") == "餘額"


@pytest.mark.django_db
def test_a_taiwanese_browser_gets_the_login_page_in_traditional_chinese(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-TW,zh;q=0.9")
    html = response.content.decode()
    assert '<html lang="zh-hant">' in html
    assert "登入" in html and "忘記密碼" in html

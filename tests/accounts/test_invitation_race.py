"""Two tabs accepting one invitation at once, on a file-backed SQLite database like the one
`make run` uses: one login is made, the other tab is told the invitation is used — never
"database is locked" (the IMMEDIATE transactions in settings)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

SCRIPT = textwrap.dedent(
    """
    import threading
    import django

    django.setup()
    from django.db import connection

    from accounts.models import Invitation
    from accounts.services import onboarding
    from telephony.models import VosAccount, VosServer

    server = VosServer.objects.create(name="race", url="http://127.0.0.1:9/external/server")
    account = VosAccount.objects.create(server=server, account="7001")
    invitation = Invitation.objects.create(
        email="a@example.com", role="customer", vos_account=account
    )
    connection.close()
    outcomes = []
    start = threading.Barrier(8)

    def accept(n):
        start.wait()
        try:
            onboarding.invitation_accept(
                invitation=invitation, username=f"tab{n}", password="Plum-Orchard-1947"
            )
            outcomes.append("created")
        except onboarding.InvitationInvalid:
            outcomes.append("used")
        except Exception as exc:  # the defect: e.g. OperationalError: database is locked
            outcomes.append(type(exc).__name__ + ": " + str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(sorted(outcomes))
    """
)


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the race is SQLite's write lock",
)
def test_two_tabs_accepting_one_invitation_make_one_login_and_no_error(tmp_path: Path):
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'race.sqlite3'}",
        "DEBUG": "true",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
    }
    env.pop("REDIS_URL", None)
    root = Path(settings.BASE_DIR)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=root, env=env, check=True, timeout=300,
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=root, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    outcomes = result.stdout.strip().splitlines()[-1]
    assert outcomes == str(["created"] + ["used"] * 7), outcomes

"""schemathesis against the live server (emulator behind it, a reseller key): no server
error, no response that breaks the OpenAPI document. A CI step (.ci/run runs the suite)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api.support import key_for
from tests.billing.factories import demo_world

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture
def live_world(transactional_db, vos_server, vos_client):
    return demo_world(vos_server, vos_client)


@pytest.mark.skipif(
    not SCHEMATHESIS.exists() and not shutil.which("schemathesis"),
    reason="schemathesis is not installed (requirements-dev.txt)",
)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, live_world, settings, tmp_path
):
    settings.API_RATE_BURST = "100000/s"
    settings.API_RATE_SUSTAINED = "1000000/m"
    key = key_for(live_world.reseller)
    command = [
        str(SCHEMATHESIS) if SCHEMATHESIS.exists() else "schemathesis",
        "run",
        f"{live_server.url}/api/openapi.json",
        "--url",
        live_server.url,
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        "15",
        "--seed",
        "3000",
        "--request-timeout",
        "15",
        "--generation-database",
        "none",
        "--no-color",
    ]
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=540, cwd=tmp_path, check=False
    )
    output = result.stdout + result.stderr
    (Path(__file__).parents[2] / "var").mkdir(exist_ok=True)
    (Path(__file__).parents[2] / "var" / "schemathesis.txt").write_text(output)
    tail = output[-6000:]
    assert result.returncode == 0, tail

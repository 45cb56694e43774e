"""Talon.One's official JavaScript SDK (npm ``talon_one@4.3.0``), run by node from a test.

No Python release of Talon.One's SDK on PyPI has the Integration API's three
v1 operations (``update_customer_session``, ``update_customer_profile``,
``track_event``); npm ``talon_one@4.3.0`` has all three, so it is their
acceptance client. The package is installed once into ``.npm-sdks/`` of the
checkout (ignored by git) the first time a test needs it; a test is skipped
only where node or npm is missing, and CI has both.

A test hands node a script that uses ``sdk`` (the package), ``integration``
(an ``IntegrationApi`` configured with the shop's key) and ``out`` (an
object whose JSON the script's caller gets back); the script's last promise
is awaited. The SDK deserialises every answer into its models, so an answer
it cannot read fails the script.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

PACKAGE = "talon_one@4.3.0"
ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / ".npm-sdks" / "talon_one-4.3.0"

PRELUDE = """
const sdk = require("talon_one");
const client = sdk.ApiClient.instance;
client.basePath = process.env.PATRON_URL;
client.authentications["api_key_v1"].apiKey = process.env.PATRON_KEY;
client.authentications["api_key_v1"].apiKeyPrefix = "ApiKey-v1";
const integration = new sdk.IntegrationApi();
const out = {};
async function main() {
%s
}
main().then(
  () => { process.stdout.write(JSON.stringify(out)); },
  (error) => {
    const body = error && error.response ? error.response.text : null;
    const status = error && error.status;
    process.stdout.write(JSON.stringify({error: String(error), status, body}));
    process.exitCode = 3;
  },
);
"""


def installed() -> Path:
    """The folder holding ``node_modules/talon_one`` (installed on first use), or skip."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run Talon.One's JavaScript SDK")
    if not (FOLDER / "node_modules" / "talon_one" / "package.json").exists():
        FOLDER.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                npm,
                "install",
                "--no-audit",
                "--no-fund",
                "--silent",
                "--prefix",
                str(FOLDER),
                PACKAGE,
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return FOLDER


def run_script(url: str, key: str, body: str) -> dict[str, Any]:
    """Run ``body`` with the SDK against ``url``; its ``out`` object, or the error it raised."""
    folder = installed()
    completed = subprocess.run(
        ["node", "-e", PRELUDE % body],
        cwd=folder,
        env={
            **os.environ,
            "PATRON_URL": url,
            "PATRON_KEY": key,
            "NODE_PATH": str(folder / "node_modules"),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if not completed.stdout:
        raise AssertionError(f"node failed: {completed.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout)
    if completed.returncode != 0 and "error" not in result:
        raise AssertionError(f"node failed: {completed.stderr[-2000:]}")
    return result

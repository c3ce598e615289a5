"""The whole API against its own OpenAPI schema, with schemathesis.

tests/api_fuzz.sh starts a live server on a small demo database and lets schemathesis call
every operation of /api/schema/ with generated parameters and bodies; it fails on any server
error or response outside the schema. This test runs that script so `make test` is the whole
suite; the script stays usable on its own (`bash tests/api_fuzz.sh`).
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.fuzz
def test_every_api_operation_conforms_to_the_schema():
    env = dict(os.environ)
    result = subprocess.run(
        ["bash", str(ROOT / "tests" / "api_fuzz.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    generated = re.search(r"(\d+) generated, (\d+) passed", output)
    assert generated, output[-3000:]
    # Every operation was exercised and every generated case passed.
    assert int(generated.group(1)) == int(generated.group(2)) > 1000

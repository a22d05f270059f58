"""``mypy --strict`` passes on the public API's typed core (the scope below; widen it as modules are typed).

Scope: the facade, the exception tree, settings, the consent-use vocabulary, the report kit, the evidence
and verdict types, single-file inspection, the filter's configuration / row API / decisions, the scan
pipeline, the health report and the registry facade. Imports outside the scope are followed silently
(their own errors are not reported here)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCOPE = [
    "artlineage/__init__.py", "artlineage/errors.py", "artlineage/settings.py", "artlineage/vocabulary.py",
    "artlineage/reporting.py", "artlineage/_aio.py", "artlineage/_files.py", "artlineage/signals/_base.py",
    "artlineage/verdicts", "artlineage/_inspect.py", "artlineage/pipelines/__init__.py",
    "artlineage/pipelines/consent_filter/__init__.py", "artlineage/pipelines/consent_filter/config.py",
    "artlineage/pipelines/consent_filter/rows.py", "artlineage/pipelines/consent_filter/decide.py",
    "artlineage/pipelines/scan.py", "artlineage/datasets/__init__.py", "artlineage/health/report.py",
    "artlineage/registry/api.py",
]


def test_mypy_strict_passes_on_the_public_api(tmp_path):
    pytest.importorskip("mypy", reason="mypy is in the test extra")
    cmd = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--ignore-missing-imports",
           "--cache-dir", str(tmp_path / "cache"), *[str(ROOT / "src" / p) for p in SCOPE]]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={"MYPYPATH": str(ROOT / "src"),
                                                                             "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("Success: no issues found in")

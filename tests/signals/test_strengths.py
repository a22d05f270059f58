import re
from pathlib import Path

import pytest

from artlineage.signals.strengths import STRENGTHS, strength

DOC = Path(__file__).resolve().parents[2] / "docs" / "evidence-strengths.md"


def test_the_documented_table_is_the_code_table():
    rows = re.findall(r"^\| `([a-z_0-9]+)` \| ([0-9.]+) \|", DOC.read_text(), re.M)
    assert [(name, float(value)) for name, value in rows] == [(s.name, s.value) for s in STRENGTHS.values()]


def test_every_strength_is_a_weight_and_unknown_names_fail():
    assert all(0.0 <= s.value <= 1.0 and s.why for s in STRENGTHS.values())
    # Ordering the table promises: signed beats declared beats free text; a model never beats a file.
    assert strength("c2pa_trusted") > strength("generator_parameters") > strength("digital_source_type") \
        > strength("xmp_ai_creator_tool") > strength("xmp_consent_text")
    assert strength("model_estimate_max") < strength("exif_camera_max") < strength("exif_ai_software")
    with pytest.raises(KeyError):
        strength("c2pa_trustd")

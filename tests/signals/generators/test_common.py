
import pytest

from artlineage.signals._base import SignalError
from artlineage.signals._json import MAX_JSON_CHARS, json_nesting_depth, load_json
from artlineage.signals.generators._common import as_float, as_int, parse_size

from ._fixtures import add_png_chunk, camera_jpeg, generator_evidence, inspect, png_with_text


def test_depth_ignores_brackets_in_strings():  # its time: benchmarks/bench_hostile_inputs.py
    assert json_nesting_depth('{"a": "[[[{{{", "b": [1, {"c": "\\"]]"}]}') == 3
    hostile = '"' + '\\"' * 2_000_000  # unterminated string full of escaped quotes
    assert json_nesting_depth(hostile) == 0
    assert json_nesting_depth("[" * 3_000_000) == 3_000_000


def test_load_json_limits():
    assert load_json('{"a": [1, 2]}', "x") == {"a": [1, 2]}
    with pytest.raises(SignalError, match="nested 101 levels"):
        load_json("[" * 101 + "]" * 101, "x")
    with pytest.raises(SignalError, match="above the"):
        load_json(" " * (MAX_JSON_CHARS + 1), "x")
    with pytest.raises(SignalError, match="malformed JSON"):
        load_json('{"a": }', "x")
    with pytest.raises(SignalError, match="UTF-8"):
        load_json(b'{"a": "\xff"}', "x")


def test_conversions():
    assert (as_int("1234"), as_int(7.0), as_int("7.5"), as_int(True), as_int("nan")) == (1234, 7, None, None, None)
    assert (as_float("6.5"), as_float("inf"), as_float(None)) == (6.5, None, None)
    assert parse_size("512x768") == (512, 768) and parse_size("(1152, 896)") == (1152, 896)
    assert parse_size("big") == (None, None)


def test_twenty_megabyte_text_chunk_is_a_warning():
    png = png_with_text({})
    data = add_png_chunk(png, b"tEXt", b"parameters\x00" + b"Steps: 20, " * (20 * 1024 * 1024 // 11))
    report = inspect(data)
    assert not generator_evidence(report) and report.warnings


def test_camera_jpeg_fires_no_generator_reader():
    report = inspect(camera_jpeg())
    assert not generator_evidence(report)
    assert not [w for w in report.warnings if w.split(":")[0] in
                ("a1111", "comfyui", "novelai", "invokeai", "fooocus", "swarmui", "drawthings")]

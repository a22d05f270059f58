"""Mutation fuzzing of container parsing and every reader: each mutated file gets a report, in bounded
time and memory, and every failure is one a parser explained itself (see ``_fuzz``).

3,000 seeded cases here (about 10 s); ``benchmarks/fuzz_readers.py`` runs as many as asked, with other seeds.
"""

from __future__ import annotations

import warnings

from artlineage import inspect_bytes
from artlineage.signals import get_readers

from . import _fuzz

SEED = 20261130
CASES = 3000
MAX_SECONDS_PER_FILE = 2.0  # the slowest case takes ~0.3 s on a loaded 2-core machine
MAX_HEAP_PER_FILE = 64 * _fuzz.MiB  # the largest Python-heap growth seen is ~5 MiB


def test_the_seed_corpus_reaches_every_reader():
    found: dict[str, set[str]] = {}
    for name, data in _fuzz.seed_corpus().items():
        report = inspect_bytes(data)
        assert report.error is None and not report.warnings, (name, report.error, report.warnings)
        for evidence in report.evidence:
            found.setdefault(evidence.reader, set()).add(name)
    missing = {r.name for r in get_readers()} - set(found)
    assert not missing, f"add a seed for reader(s) {sorted(missing)} to tests/signals/_fuzz.py"
    assert found["c2pa"] == {"jpeg_c2pa"} and found["iptc_iim"] == {"jpeg_app13_iim"}
    assert found["novelai_stealth"] == {"png_stealth"} and found["watermark"] == {"png_watermark"}
    assert {"jpeg_extended_xmp", "png_itxt_xmp", "webp_xmp_exif", "tiff_xmp_exif"} <= found["xmp"]


def test_the_mutations_are_deterministic_and_reach_the_structures():
    first, again = _fuzz.cases(SEED, 200), _fuzz.cases(SEED, 200)
    assert [c.data for c in first] == [c.data for c in again]
    seeds = _fuzz.seed_corpus()
    assert all(c.data != seeds[c.seed_name] for c in first[:50])
    # Structure-aware mutations keep most PNGs walkable, so the text chunk parsers see them.
    pngs = [c for c in first if c.seed_name.startswith("png_")]
    assert sum(_fuzz._png_chunks(c.data) is not None for c in pngs) > len(pngs) // 2


def test_every_mutated_file_gets_a_report_in_bounded_time_and_memory():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about every corrupt TIFF tag it skips
        outcomes = _fuzz.run(SEED, CASES)
    assert len(outcomes) == CASES
    crashes = [o for o in outcomes if o.crash]
    assert not crashes, f"{len(crashes)} crashes; first ({crashes[0].case.seed_name}):\n{crashes[0].crash}"
    unexplained = [(o.case.seed_name, o.case.index, o.problems) for o in outcomes if o.problems]
    assert not unexplained, unexplained[:5]
    slowest = max(outcomes, key=lambda o: o.seconds)
    assert slowest.seconds < MAX_SECONDS_PER_FILE, (slowest.case.seed_name, slowest.case.index, slowest.seconds)
    largest = max(outcomes, key=lambda o: o.heap_peak)
    assert largest.heap_peak < MAX_HEAP_PER_FILE, (largest.case.seed_name, largest.case.index, largest.heap_peak)
    assert sum(o.case.pixels for o in outcomes) == CASES // 25


def test_the_harness_reports_crashes_and_guarded_failures(monkeypatch):
    """What the harness must see: an exception escaping, and a failure only a last-resort guard caught."""
    import zlib

    def crashing(data, **kwargs):
        raise zlib.error("Error -3 while decompressing data: incorrect header check")

    monkeypatch.setattr(_fuzz, "inspect_bytes", crashing)
    crashed = _fuzz.run_case(_fuzz.Case(0, "png_ztxt_a1111", b"\x89PNG", pixels=False))
    assert crashed.crash is not None and "zlib.error: Error -3" in crashed.crash

    def guarded(data, **kwargs):
        report = inspect_bytes(data, **kwargs)
        report.warnings.append("comfyui: unexpected KeyError: 'inputs'")
        report.warnings.append("c2pa: C2PA manifest store is corrupt or unsupported: unexpected end of file")
        return report

    monkeypatch.setattr(_fuzz, "inspect_bytes", guarded)
    seed = _fuzz.seed_corpus()["png_comfyui"]
    outcome = _fuzz.run_case(_fuzz.Case(0, "png_comfyui", seed, pixels=False))
    assert outcome.crash is None and outcome.problems == ["comfyui: unexpected KeyError: 'inputs'"]

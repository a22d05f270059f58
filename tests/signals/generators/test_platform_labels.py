"""Platform labels seen in real downloads: Midjourney's Description / ImageDescription, Google's and
Meta's IPTC Credit lines, Microsoft's C2PA claim generator name."""

from __future__ import annotations

import piexif
import pytest

from artlineage.signals._ai_tools import ai_credit_line, match_ai_tool
from artlineage.signals._base import Implication
from artlineage.signals.iptc_iim import IimDataset, read_iim_datasets
from artlineage.signals.xmp import read_xmp_properties

from ._fixtures import inspect, jpeg_with_exif, only_generation, png_with_text

JOB = "5f0b7a52-9c1e-4a55-8f3d-2b7e1c9d4a10"
MJ_TEXT = f"a lighthouse in a storm, oil painting --ar 16:9 --v 6.1 --stylize 250 Job ID: {JOB}"


def test_midjourney_png_description_chunk():
    report = inspect(png_with_text({"Description": MJ_TEXT, "Author": "someone", "Creation Time": "2024-06-01"}))
    evidence, gen = only_generation(report, "midjourney")
    assert (report.verdict.generator, evidence.implies) == ("Midjourney", Implication.AI_GENERATED)
    assert (gen["prompt"], gen["model"], gen["extra"]["job_id"], gen["extra"]["aspect_ratio"]) == (
        "a lighthouse in a storm, oil painting", "Midjourney v6.1", JOB, "16:9")
    assert gen["extra"]["author"] == "someone"


def test_midjourney_jpeg_image_description():
    report = inspect(jpeg_with_exif({"0th": {piexif.ImageIFD.ImageDescription: MJ_TEXT.encode()}}))
    evidence, _ = only_generation(report, "midjourney")
    assert evidence.location == "JPEG APP1 Exif ImageDescription"


def test_a_plain_description_is_not_midjourney():
    report = inspect(png_with_text({"Description": "holiday photo, beach"}))
    assert not [e for e in report.evidence if e.reader == "midjourney"]


@pytest.mark.parametrize("text, expected", [
    ("Edited with Google AI", (True, "Google AI")),
    ("Made with Google AI", (False, "Google AI")),
    ("Imagined with AI", (False, "Meta AI")),
    ("Photo: Jane Doe / Google", None),
    ("Reuters", None),
])
def test_ai_credit_lines(text, expected):
    assert ai_credit_line(text) == expected


def test_google_magic_editor_xmp_credit_and_source_type():
    props = {"photoshop:Credit": ["Edited with Google AI"],
             "Iptc4xmpExt:DigitalSourceType": [
                 "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"]}
    evidence = read_xmp_properties(props, "JPEG APP1 XMP")
    credit = next(e for e in evidence if e.field == "photoshop:Credit")
    assert (credit.implies, credit.generator, credit.strength) == (Implication.AI_EDITED, "Google AI", 0.8)


def test_google_credit_in_iptc_iim():
    [credit] = [e for e in read_iim_datasets([IimDataset(2, 110, b"Made with Google AI")]) if e.field == "Credit"]
    assert (credit.implies, credit.generator) == (Implication.AI_GENERATED, "Google AI")


def test_microsoft_provenance_claim_generator_is_named():
    assert match_ai_tool("Microsoft Responsible AI Image Provenance/1.0") == "Microsoft Designer"

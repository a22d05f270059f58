"""Screen grabs (consoles, GPU tools, macOS) and generator JSON in Make/Model are not camera evidence."""

from __future__ import annotations

import io

import piexif
import pytest
from PIL import Image

from artlineage._inspect import inspect_bytes


def _jpeg(zeroth: dict, exif: dict | None = None) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24)).save(out, "JPEG", exif=piexif.dump({"0th": zeroth, "Exif": exif or {}}))
    return out.getvalue()


@pytest.mark.parametrize("zeroth, tool", [
    ({piexif.ImageIFD.Make: b"Sony Interactive Entertainment Inc.", piexif.ImageIFD.Model: b"PlayStation(R)5"},
     "PlayStation"),
    ({piexif.ImageIFD.Make: b"Nintendo", piexif.ImageIFD.Model: b"Nintendo Switch"}, "Nintendo Switch"),
    ({piexif.ImageIFD.Software: b"NVIDIA Ansel"}, "NVIDIA Ansel / ShadowPlay"),
])
def test_console_and_gpu_screenshots_are_screen_captures_not_cameras(zeroth, tool):
    report = inspect_bytes(_jpeg(zeroth), readers=["exif"])
    assert report.origin.value == "unknown"
    [capture] = [e for e in report.evidence if "screen_capture" in e.data]
    assert capture.data["screen_capture"] == tool and capture.implies.value == "info"
    assert not [e for e in report.evidence if e.implies.value == "camera"]


def test_nintendo_3ds_camera_is_still_a_camera():
    report = inspect_bytes(_jpeg({piexif.ImageIFD.Make: b"Nintendo", piexif.ImageIFD.Model: b"Nintendo 3DS"}),
                            readers=["exif"])
    assert report.origin.value == "camera"


def test_comfyui_json_in_make_model_is_not_a_camera():
    report = inspect_bytes(_jpeg({piexif.ImageIFD.Make: b'workflow:{"nodes": []}',
                                   piexif.ImageIFD.Model: b'prompt:{"3": {"class_type": "KSampler"}}'}),
                            readers=["exif"])
    assert not [e for e in report.evidence if e.implies.value == "camera"]


def test_macos_screenshot_user_comment_is_a_screen_capture():
    import piexif.helper

    out = io.BytesIO()
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump("Screenshot")}})
    Image.new("RGB", (32, 24)).save(out, "PNG", exif=exif)
    report = inspect_bytes(out.getvalue(), readers=["exif"])
    [capture] = [e for e in report.evidence if "screen_capture" in e.data]
    assert (capture.location, capture.field, capture.data["screen_capture"]) == (
        "PNG eXIf", "UserComment", "screenshot tool")

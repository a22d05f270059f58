"""A mutation fuzzer for container parsing and every signal reader (the CI test and the long run share it).

Seeds are built here in code, one or more per container and reader: PNG tEXt / zTXt / iTXt / eXIf,
JPEG APP1 EXIF / XMP / extended XMP, APP13 IPTC-IIM and COM, WebP, TIFF, GIF, AVIF / HEIC / JPEG XL
(where encoders are installed) and a JPEG XL ``brob`` box, a C2PA-signed
JPEG (the repository's example), ComfyUI / A1111 / NovelAI / InvokeAI / Fooocus / SwarmUI / kohya /
Midjourney text, and NovelAI's stealth pixels. Mutations are structure-aware where a blind byte
flip would only hit pixels or fail a checksum: a PNG chunk's body is mutated and its CRC fixed
(most of the time), compressed text is inflated, mutated and deflated again, a JPEG segment's
payload is mutated and its length fixed; plain byte mutations, truncations and splices between
seeds cover the rest. Text payloads get text mutations (deep nesting, huge numbers, cut strings).

Why hand-written: the fuzzers on PyPI either need a compiled harness (atheris: libFuzzer, no
Python 3.11 wheel here) or generate values from types (hypothesis), not mutations of real files.

Every case is checked for what the README promises: a report, no exception, bounded time and
Python heap (``tracemalloc`` peak, reset per case). A failure a parser did not explain itself is a
finding too: a reader's warning reading "unexpected <Exception>" (caught by the last-resort guard
in ``run_readers``) or a file error "container parser failed" (the guard in ``open_source``).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import struct
import time
import tracemalloc
import traceback
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import piexif
import piexif.helper
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from artlineage import inspect_bytes
from artlineage.signals._source import XMP_EXTENSION_PREFIX, XMP_JPEG_PREFIX

REPO = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
DST = "http://cv.iptc.org/newscodes/digitalsourcetype/"

A1111 = ("a lighthouse at dusk, art by someone\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, "
         "CFG scale: 7, Seed: 1234, Size: 512x512, Model hash: abcdef12, Model: sd15")
COMFY_PROMPT = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 42, "steps": 20, "cfg": 7.0, "sampler_name": "euler",
                                               "scheduler": "normal", "model": ["4", 0], "positive": ["6", 0],
                                               "negative": ["7", 0], "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a castle", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
}
COMFY_WORKFLOW = {"last_node_id": 7, "nodes": [
    {"id": 3, "type": "KSampler", "inputs": [{"name": "model", "link": 1}], "widgets_values": [42, "fixed", 20, 7,
                                                                                            "euler", "normal", 1]},
    {"id": 4, "type": "CheckpointLoaderSimple", "outputs": [{"links": [1]}], "widgets_values": ["m.safetensors"]},
], "links": [[1, 4, 0, 3, 0, "MODEL"]]}
NOVELAI_COMMENT = {"prompt": "a fox", "steps": 28, "height": 832, "width": 1216, "scale": 5.0, "seed": 7,
                   "sampler": "k_euler_ancestral", "uc": "lowres", "v4_prompt": {"caption": {"base_caption": "a fox"}}}


# ----------------------------------------------------------------------------- seeds

def _save(image: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def _small(mode: str = "RGB") -> Image.Image:
    return Image.new(mode, (32, 24), (90, 120, 150, 255)[: len(mode)])


def png_text(texts: dict[str, str], *, ztxt: tuple[str, ...] = (), itxt: tuple[str, ...] = ()) -> bytes:
    info = PngInfo()
    for key, value in texts.items():
        if key in itxt:
            info.add_itxt(key, value, zip=True)
        else:
            info.add_text(key, value, zip=key in ztxt)
    return _save(_small(), "PNG", pnginfo=info)


def png_chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", zlib.crc32(ctype + body))


def with_chunk_before_iend(png: bytes, ctype: bytes, body: bytes) -> bytes:
    iend = png.rindex(b"IEND") - 4
    return png[:iend] + png_chunk(ctype, body) + png[iend:]


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_segments(*segments: bytes, exif: bytes | None = None) -> bytes:
    data = _save(_small(), "JPEG", quality=80, **({"exif": exif} if exif else {}))
    return data[:2] + b"".join(segments) + data[2:]


def xmp(attributes: dict[str, str], body: str = "") -> bytes:
    attrs = " ".join(f'{k}="{v}"' for k, v in attributes.items())
    return (f'<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
            f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
            f'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
            f'xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            f'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
            f'{attrs}>{body}</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>').encode()


def exif_bytes() -> bytes:
    return piexif.dump({
        "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: b"EOS R5", piexif.ImageIFD.Software: b"fw 1.8",
                piexif.ImageIFD.Artist: b"Ada", piexif.ImageIFD.Copyright: b"(c) Ada"},
        "Exif": {piexif.ExifIFD.ExposureTime: (1, 250), piexif.ExifIFD.FNumber: (56, 10),
                 piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(A1111, "unicode")},
        "GPS": {piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: ((52, 1), (31, 1), (0, 1))},
    })


def iim_block() -> bytes:
    def dataset(record: int, number: int, value: bytes) -> bytes:
        return struct.pack(">BBBH", 0x1C, record, number, len(value)) + value

    iim = dataset(1, 90, b"\x1b%G") + dataset(2, 0, b"\x00\x04") + dataset(2, 80, "Ada Lovelace".encode()) \
        + dataset(2, 116, "© Ada".encode()) + dataset(2, 65, b"Midjourney")
    name = b"\x04IPTC\x00"
    return b"Photoshop 3.0\x00" + b"8BIM" + struct.pack(">H", 0x0404) + name + struct.pack(">I", len(iim)) + iim \
        + b"\x00" * (len(iim) & 1)


def extended_xmp_segments() -> list[bytes]:
    packet = xmp({"Iptc4xmpExt:DigitalSourceType": DST + "trainedAlgorithmicMedia"}, "<dc:title>" + "x" * 3000
                 + "</dc:title>")
    guid = hashlib.md5(packet).hexdigest().upper()  # noqa: S324 - the spec's identifier
    main = xmp({"xmpNote:HasExtendedXMP": guid})
    half = len(packet) // 2
    chunks = [XMP_EXTENSION_PREFIX + guid.encode() + struct.pack(">II", len(packet), off) + packet[off:off + half + 1]
              for off in (0, half + 1)]
    return [jpeg_segment(0xE1, XMP_JPEG_PREFIX + main)] + [jpeg_segment(0xE1, c) for c in chunks]


def stealth_png() -> bytes:
    from artlineage.signals.generators.novelai_stealth import embed_stealth_metadata

    rng = random.Random(5)
    image = Image.frombytes("RGBA", (96, 64), bytes(rng.randrange(256) for _ in range(96 * 64 * 4)))
    fields = {"Software": "NovelAI", "Comment": json.dumps(NOVELAI_COMMENT)}
    return _save(embed_stealth_metadata(image, fields), "PNG")


def _box_container_seeds(packet: bytes) -> dict[str, bytes]:
    """AVIF / HEIC / JPEG XL with EXIF and XMP, where an encoder is installed (the heif and jxl extras),
    and a JPEG XL with a Brotli-compressed (``brob``) XMP box built by hand when brotli is."""
    out: dict[str, bytes] = {}
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:
        pass
    try:
        import pillow_jxl  # noqa: F401 - registers the JXL plugin
    except ImportError:
        pass
    for name, fmt in (("avif_xmp_exif", "AVIF"), ("heic_xmp_exif", "HEIF"), ("jxl_xmp_exif", "JXL")):
        try:
            out[name] = _save(_small(), fmt, exif=exif_bytes(), xmp=packet)
        except (KeyError, OSError, ValueError):  # no encoder for this format here
            pass
    try:
        import brotli
    except ImportError:
        return out

    def box(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", 8 + len(body)) + kind + body

    size_header = sum(bit << i for i, bit in enumerate([1] + [1, 0, 1, 0, 0] + [0, 0, 0] + [1, 1, 1, 0, 0]))
    codestream = b"\xff\x0a" + size_header.to_bytes(3, "little") + bytes(8)  # 64x48 (ISO/IEC 18181-1 A.3)
    out["jxl_brob_xmp"] = (b"\x00\x00\x00\x0cJXL \r\n\x87\n" + box(b"ftyp", b"jxl \0\0\0\0jxl ")
                           + box(b"brob", b"xml " + brotli.compress(packet)) + box(b"jxlc", codestream))
    return out


def seed_corpus() -> dict[str, bytes]:
    """name -> file bytes, one per container layout and reader (built in well under a second)."""
    dmi = xmp({"plus:DataMining": "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED",
               "Iptc4xmpExt:DigitalSourceType": DST + "compositeWithTrainedAlgorithmicMedia"},
              '<dc:creator><rdf:Seq><rdf:li>Ada</rdf:li></rdf:Seq></dc:creator>')
    seeds = {
        "png_text_a1111": png_text({"parameters": A1111}),
        "png_ztxt_a1111": png_text({"parameters": A1111}, ztxt=("parameters",)),
        "png_itxt_xmp": png_text({"XML:com.adobe.xmp": dmi.decode()}, itxt=("XML:com.adobe.xmp",)),
        "png_text_xmp": png_text({"XML:com.adobe.xmp": dmi.decode()}),
        "png_comfyui": png_text({"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)},
                                ztxt=("workflow",)),
        "png_novelai": png_text({"Software": "NovelAI", "Source": "NovelAI Diffusion V4 4F6A",
                                 "Description": "a fox", "Comment": json.dumps(NOVELAI_COMMENT)}),
        "png_invokeai": png_text({"invokeai_metadata": json.dumps({"positive_prompt": "a fox", "seed": 3,
                                                                   "model": {"name": "sdxl"}, "steps": 30})}),
        "png_fooocus": png_text({"parameters": json.dumps({"prompt": "a fox", "base_model": "juggernaut",
                                                           "seed": "5"}), "fooocus_scheme": "fooocus"}),
        "png_swarmui": png_text({"parameters": json.dumps({"sui_image_params": {"prompt": "a fox", "seed": 9,
                                                                                "model": "flux"}})}),
        "png_ruined_fooocus": png_text({"parameters": json.dumps({
            "Prompt": "a fox", "Negative": "", "steps": 30, "cfg": 7, "width": 1024, "height": 1024, "seed": 4,
            "sampler_name": "dpmpp_2m", "base_model_name": "sdxl.safetensors", "software": "RuinedFooocus"})}),
        "png_diffusers": png_text({"parameters": json.dumps({
            "prompt": "a fox", "negative_prompt": "", "resolution": "1024 x 1024", "guidance_scale": 7,
            "num_inference_steps": 28, "seed": 5, "sampler": "Euler a", "Model": "animagine-xl"})}),
        "png_kohya": png_text({"prompt": "a fox", "negative-prompt": "", "steps": "20", "scale": "7", "seed": "1"}),
        "png_midjourney": png_text({"Description": "a fox --ar 3:2 --v 6 Job ID: 1b2c3d4e-1111-2222-3333-444455556666",
                                    "Author": "someone"}),
        "png_drawthings": png_text({"XML:com.adobe.xmp": xmp(
            {"xmp:CreatorTool": "Draw Things", "xmlns:exif": "http://ns.adobe.com/exif/1.0/"},
            '<exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">{&quot;c&quot;:&quot;a fox&quot;,'
            '&quot;seed&quot;:3,&quot;steps&quot;:20,&quot;model&quot;:&quot;sd_xl&quot;}</rdf:li></rdf:Alt>'
            '</exif:UserComment>').decode()}, itxt=("XML:com.adobe.xmp",)),
        "png_exif_chunk": with_chunk_before_iend(_save(_small(), "PNG"), b"eXIf", exif_bytes()[6:]
                                                 if exif_bytes().startswith(b"Exif") else exif_bytes()),
        "png_stealth": stealth_png(),
        "jpeg_exif": _save(_small(), "JPEG", quality=80, exif=exif_bytes()),
        "jpeg_xmp": jpeg_with_segments(jpeg_segment(0xE1, XMP_JPEG_PREFIX + dmi)),
        "jpeg_extended_xmp": jpeg_with_segments(*extended_xmp_segments()),
        "jpeg_app13_iim": jpeg_with_segments(jpeg_segment(0xED, iim_block())),
        "jpeg_comment": jpeg_with_segments(jpeg_segment(0xFE, A1111.encode())),
        "webp_xmp_exif": _save(_small(), "WEBP", xmp=dmi, exif=exif_bytes()),
        "tiff_xmp_exif": _save(_small(), "TIFF", tiffinfo={700: dmi}, exif=exif_bytes()),
        "gif_comment": _save(_small("P"), "GIF", comment=A1111.encode()),
    }
    seeds.update(_box_container_seeds(dmi))
    # Two files of the repository's example gallery: a C2PA-signed JPEG (signing one here would need
    # a certificate chain) and an invisible-watermark PNG (the watermark needs 256x256 pixels or more).
    for name, file in (("jpeg_c2pa", "c2pa_signed_ai.jpg"), ("png_watermark", "sd_invisible_watermark.png")):
        path = REPO / "examples" / "gallery" / file
        if path.exists():
            seeds[name] = path.read_bytes()
    return seeds


# ----------------------------------------------------------------------------- mutations

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]
TEXT_BOMBS = ["[" * 5000, "{" * 5000, '{"a":' * 3000, "1e999999", "9" * 5000, "-0", "NaN", "\x00", "\ud800",
              "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", "&a;" * 100, "<a>" * 3000, "\"", ",,,,", "ü" * 10, "null"]


def _bytes_mutation(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    """One classic byte-level mutation of ``data`` (AFL's havoc, in miniature)."""
    if not data:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
    buf = bytearray(data)
    kind = rng.randrange(8)
    pos = rng.randrange(len(buf))
    if kind == 0:  # flip bits
        for _ in range(rng.randrange(1, 9)):
            p = rng.randrange(len(buf))
            buf[p] ^= 1 << rng.randrange(8)
    elif kind == 1:  # an interesting integer, 1, 2 or 4 bytes, either endianness
        width = rng.choice((1, 2, 4))
        value = rng.choice(INTERESTING) & ((1 << (8 * width)) - 1)
        buf[pos:pos + width] = value.to_bytes(width, rng.choice(("big", "little")))
    elif kind == 2:  # delete a slice
        del buf[pos:pos + rng.randrange(1, max(2, len(buf) // 4))]
    elif kind == 3:  # duplicate a slice
        chunk = buf[pos:pos + rng.randrange(1, 256)]
        buf[pos:pos] = chunk * rng.randrange(1, 8)
    elif kind == 4:  # random bytes
        buf[pos:pos + rng.randrange(1, 32)] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 32)))
    elif kind == 5:  # truncate
        del buf[pos:]
    elif kind == 6 and others:  # splice in a slice of another seed
        other = rng.choice(others)
        start = rng.randrange(len(other))
        buf[pos:pos] = other[start:start + rng.randrange(1, 512)]
    else:  # zero a run
        n = rng.randrange(1, 64)
        buf[pos:pos + n] = bytes(min(n, len(buf) - pos))
    return bytes(buf)


def _text_mutation(rng: random.Random, payload: bytes) -> bytes:
    """Mutations a JSON / XML / infotext parser meets: nesting, huge numbers, broken quotes."""
    text = payload.decode("utf-8", "replace")
    pos = rng.randrange(len(text) + 1)
    kind = rng.randrange(4)
    if kind == 0:
        text = text[:pos] + rng.choice(TEXT_BOMBS) + text[pos:]
    elif kind == 1:
        text = text[:pos]
    elif kind == 2:
        text = text[:pos] + text[pos + rng.randrange(1, 40):]
    else:
        text = text.replace(rng.choice([":", ",", '"', "<", ">", "=", "{", "}"]), rng.choice(["", "::", '"', "\n"]), 3)
    return text.encode("utf-8", "surrogatepass")


def _payload_mutation(rng: random.Random, payload: bytes, others: list[bytes]) -> bytes:
    return _text_mutation(rng, payload) if payload and rng.random() < 0.4 else _bytes_mutation(rng, payload, others)


def _png_chunks(data: bytes) -> list[tuple[int, int, bytes]] | None:
    """(offset, length, type) of each chunk, or None when ``data`` is not a walkable PNG."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    out, pos = [], 8
    while pos + 12 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        if pos + 12 + length > len(data):
            break
        out.append((pos, length, ctype))
        pos += 12 + length
    return out


def _mutate_png_chunk(rng: random.Random, data: bytes, others: list[bytes]) -> bytes | None:
    chunks = [c for c in (_png_chunks(data) or []) if c[2] not in (b"IDAT", b"IEND")]
    if not chunks:
        return None
    pos, length, ctype = rng.choice(chunks)
    body = data[pos + 8:pos + 8 + length]
    if ctype in (b"zTXt", b"iTXt") and rng.random() < 0.6:
        body = _mutate_compressed_text(rng, ctype, body, others)
    else:
        body = _payload_mutation(rng, body, others)
    if rng.random() < 0.1:
        ctype = rng.choice([b"zTXt", b"iTXt", b"tEXt", b"eXIf", b"caBX", b"IHDR"])
    length_field = struct.pack(">I", len(body) if rng.random() < 0.9 else rng.choice(INTERESTING))
    crc = struct.pack(">I", zlib.crc32(ctype + body)) if rng.random() < 0.9 else b"\0\0\0\0"
    return data[:pos] + length_field + ctype + body + crc + data[pos + 12 + length:]


def _mutate_compressed_text(rng: random.Random, ctype: bytes, body: bytes, others: list[bytes]) -> bytes:
    """Reach the parser behind the compression: inflate, mutate the text, deflate again."""
    key, _, rest = body.partition(b"\0")
    head_len = 1 if ctype == b"zTXt" else None
    if ctype == b"iTXt":  # flag, method, language\0, translated keyword\0
        lang_end = rest.find(b"\0", 2)
        tr_end = rest.find(b"\0", lang_end + 1) if lang_end >= 0 else -1
        head_len = tr_end + 1 if tr_end >= 0 else None
    if head_len is None:
        return _bytes_mutation(rng, body, others)
    try:
        text = zlib.decompress(rest[head_len:])
    except zlib.error:
        return _bytes_mutation(rng, body, others)
    return key + b"\0" + rest[:head_len] + zlib.compress(_payload_mutation(rng, text, others))


def _jpeg_segments(data: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each marker segment before the scan data."""
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:  # start of scan: pixels follow
            break
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        out.append((pos, length))
        pos += 2 + length
    return out


def _mutate_jpeg_segment(rng: random.Random, data: bytes, others: list[bytes]) -> bytes | None:
    if not data.startswith(b"\xff\xd8"):
        return None
    segments = [(p, n) for p, n in _jpeg_segments(data) if data[p + 1] >= 0xE0 or data[p + 1] in (0xFE, 0xDB, 0xC0)]
    if not segments:
        return None
    pos, length = rng.choice(segments)
    payload = data[pos + 4:pos + 2 + length]
    keep = 0
    for prefix in (XMP_JPEG_PREFIX, XMP_EXTENSION_PREFIX, b"Exif\0\0", b"Photoshop 3.0\0"):
        if payload.startswith(prefix):
            keep = len(prefix)  # mutate behind the signature, so the segment still reaches its reader
    payload = payload[:keep] + _payload_mutation(rng, payload[keep:], others)
    payload = payload[:65533]
    new_len = len(payload) + 2 if rng.random() < 0.9 else rng.choice([0, 1, 2, 0xFFFF])
    return data[:pos + 2] + struct.pack(">H", new_len) + payload + data[pos + 2 + length:]


def mutate(rng: random.Random, data: bytes, others: list[bytes]) -> bytes:
    """1 to 4 stacked mutations, structure-aware half of the time."""
    for _ in range(rng.randrange(1, 5)):
        mutated = None
        if rng.random() < 0.5:
            mutated = _mutate_png_chunk(rng, data, others) or _mutate_jpeg_segment(rng, data, others)
        data = mutated if mutated is not None else _bytes_mutation(rng, data, others)
    return data


# ----------------------------------------------------------------------------- running

@dataclass
class Case:
    index: int
    seed_name: str
    data: bytes
    pixels: bool


@dataclass
class Outcome:
    case: Case
    seconds: float
    heap_peak: int  # bytes the Python heap grew by at most during this case (tracemalloc)
    crash: str | None = None  # a traceback: an exception escaped inspect_bytes
    problems: list[str] = field(default_factory=list)  # unexplained failures caught by a last-resort guard


def cases(seed: int, count: int, *, pixel_every: int = 25) -> list[Case]:
    """``count`` deterministic cases: every seed in turn, mutated; every ``pixel_every``-th with pixel readers."""
    rng = random.Random(seed)
    corpus = seed_corpus()
    names = sorted(corpus)
    values = [corpus[n] for n in names]
    out = []
    for i in range(count):
        name = names[i % len(names)]
        out.append(Case(i, name, mutate(rng, corpus[name], values), pixels=i % pixel_every == 0))
    return out


_GUARDED = re.compile(r"^[\w.\-]+: unexpected [A-Za-z_]\w*: ")  # run_readers' last-resort wording


def unexplained(report) -> list[str]:  # type: ignore[no-untyped-def]
    """Failures a parser did not explain itself (its own errors read differently)."""
    found = [w for w in report.warnings if _GUARDED.match(w)]
    if report.error and report.error.startswith(("container parser failed", "cannot decide a verdict")):
        found.append(report.error)
    return found


def run_case(case: Case) -> Outcome:
    """Inspect one case under tracemalloc; never raises."""
    tracemalloc.reset_peak()
    before, _ = tracemalloc.get_traced_memory()  # garbage of earlier cases not yet collected included
    start = time.perf_counter()
    crash = None
    problems: list[str] = []
    try:
        report = inspect_bytes(case.data, name=f"{case.seed_name}#{case.index}", pixels=case.pixels)
        if report.sha256 != hashlib.sha256(case.data).hexdigest():
            problems.append("report is not about this file (sha256 differs)")
        if (report.error is None) != (report.verdict is not None):
            problems.append(f"report has error={report.error!r} and verdict={report.verdict!r}")
        problems += unexplained(report)
    except BaseException:  # noqa: BLE001 - a crash is what the fuzzer looks for
        crash = traceback.format_exc()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    return Outcome(case, seconds, peak - before, crash, problems)


def run(seed: int, count: int, *, pixel_every: int = 25,
        on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Run ``count`` cases; tracemalloc runs for the whole run (started here if it was not)."""
    for data in seed_corpus().values():  # warm up: first-use imports are not a file's cost
        inspect_bytes(data)
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        outcomes = []
        for case in cases(seed, count, pixel_every=pixel_every):
            outcome = run_case(case)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
        return outcomes
    finally:
        if started:
            tracemalloc.stop()

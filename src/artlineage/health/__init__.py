"""Dataset health: provenance shares, near duplicates, diversity (Vendi), a real-data guard and a
model-collapse simulator.

Only numpy/Pillow/scipy are imported here; scikit-learn and matplotlib (the ``health`` extra) and
onnxruntime (the ``onnx`` extra) are imported inside the functions that need them.
"""

from .duplicates import DuplicateReport, find_near_duplicates, near_duplicate_pairs, phash64
from .embeddings import Embedder, OnnxEmbedder, OpenClipEmbedder, StatisticsEmbedder, embedder_from_spec
from .guard import GuardError, GuardResult, guard_real_share, write_kept
from .collapse_report import build_collapse_report, write_collapse_report
from .pixels import PixelFeatures, compute_pixel_features
from .report import HealthReport, build_health_report, write_health_report
from .report_html import health_sections
from .synthetic import Record, records_from_folder, synthetic_shares
from .vendi import VendiAccumulator, vendi_score, vendi_score_kernel, vendi_score_sampled

__all__ = [
    "DuplicateReport", "find_near_duplicates", "near_duplicate_pairs", "phash64",
    "Embedder", "OnnxEmbedder", "OpenClipEmbedder", "StatisticsEmbedder", "embedder_from_spec",
    "GuardError", "GuardResult", "guard_real_share", "write_kept",
    "build_collapse_report", "write_collapse_report", "PixelFeatures", "compute_pixel_features",
    "HealthReport", "build_health_report", "write_health_report", "health_sections",
    "Record", "records_from_folder", "synthetic_shares",
    "VendiAccumulator", "vendi_score", "vendi_score_kernel", "vendi_score_sampled",
]

"""Datasets: streaming readers and writers, and the resumable scan pipeline."""

from .scan import ScanSummary, iter_image_files, scan_directory
from .scan_store import ScanStore, ScannedFile

__all__ = ["ScanSummary", "iter_image_files", "scan_directory", "ScanStore", "ScannedFile"]

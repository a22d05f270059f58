"""Perceptual matching of images against the artists' registry, and the prompt guard."""

from .copies import CopyDetector, CopyEvidence, CopyIndex, CopyMatch, WorkFingerprint, fingerprint
from .artist_names import ArtistEntry, load_artist_names, merge_entries
from .hashing import HashError, hash_files, hash_image, hash_image_file, pdq, phash
from .index import HammingIndex, SearchResult
from .match import (MatchReport, RegisteredWork, WorkMatch, WorkMatcher, guard_entries_from_registry, match_paths,
                    works_from_registry)
from .prompt_guard import PromptDecision, PromptGuard, PromptMatch, check_prompt, check_prompts, overall_decision

__all__ = [
    "CopyDetector", "CopyEvidence", "CopyIndex", "CopyMatch", "WorkFingerprint", "fingerprint",
    "ArtistEntry", "load_artist_names", "merge_entries",
    "HashError", "hash_files", "hash_image", "hash_image_file", "pdq", "phash",
    "HammingIndex", "SearchResult",
    "MatchReport", "RegisteredWork", "WorkMatch", "WorkMatcher", "guard_entries_from_registry", "match_paths",
    "works_from_registry",
    "PromptDecision", "PromptGuard", "PromptMatch", "check_prompt", "check_prompts", "overall_decision",
]

"""One exception tree for the whole library (as httpx has): catch ``ArtlineageError`` for anything artlineage
raises on purpose, or a narrower class for one kind of failure.

::

    ArtlineageError
    ├── InputError (ValueError)              bad input from the caller: a file, a value, a document
    │   ├── UnreadableImageError             the file cannot be read as an image at all
    │   ├── HashError (+ MatchingError)      an image could not be hashed (too large, not decodable)
    │   └── ManifestError                    a dataset manifest that cannot be read or lacks a column
    ├── ConfigurationError (ValueError)      an unknown option value (consent use, backend, setting)
    ├── SignalError                          a reader found its data but it is malformed or hostile
    ├── FetchError                           an outbound fetch that produced no usable response
    │   ├── BlockedAddressError              the name resolves only to private/loopback/... addresses
    │   ├── FetchTimeout                     the server did not answer within the time bound
    │   ├── ResponseTooLarge                 the body exceeds the byte bound
    │   ├── TooManyRedirects                 the redirect chain exceeds its bound
    │   ├── MalformedURLError                a URL (or a redirect's Location) that cannot be fetched as written
    │   └── BodyDecodingError                an unsupported, too deeply stacked or corrupt Content-Encoding
    ├── RegistryError                        a registry request that cannot be honoured
    │   ├── NotFoundError (LookupError)      unknown artist / work / terms id
    │   ├── AmbiguousArtistError             a name that matches several artists
    │   ├── RegistryImportError              a document that is not a registry export
    │   └── TermsConflict                    a terms entry that can no longer be withdrawn
    ├── MatchingError                        perceptual matching / prompt guard failures (HashError)
    ├── HealthError                          dataset health computations
    │   └── GuardError (ValueError)          a real-data share that cannot be reached
    ├── PipelineError                        a scan / filter / audit run that had to stop
    │   └── ShardFailure (RuntimeError)      a shard that failed (or the run was told to stop)
    └── PlatformError                        the web platform's refusals
        ├── AuthError                        bad credentials, refused account operation
        ├── PermissionDenied                 not allowed for this account
        └── UploadRejected                   an upload refused with an HTTP status

The classes keep their old homes too (``artlineage.signals.SignalError``, ``artlineage.registry.RegistryError``,
``artlineage.matching.HashError``, ...): those names are these very classes. Where a class also derives from a
built-in (``ValueError``, ``LookupError``, ``RuntimeError``) that is for callers written before this tree existed.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ArtlineageError", "InputError", "UnreadableImageError", "HashError", "ManifestError", "ConfigurationError",
    "SignalError", "FetchError", "BlockedAddressError", "FetchTimeout", "ResponseTooLarge", "TooManyRedirects",
    "MalformedURLError", "BodyDecodingError",
    "RegistryError", "NotFoundError", "AmbiguousArtistError", "RegistryImportError", "TermsConflict", "MatchingError",
    "HealthError", "GuardError", "PipelineError", "ShardFailure", "PlatformError", "AuthError",
    "PermissionDenied", "UploadRejected",
]


class ArtlineageError(Exception):
    """Base of every exception artlineage raises on purpose."""


# ---------------------------------------------------------------- input and configuration

class InputError(ArtlineageError, ValueError):
    """Bad input from the caller: a file, a value or a document that cannot be used."""


class UnreadableImageError(InputError):
    """The file itself cannot be read as an image (zero bytes, truncated header, bomb, ...)."""


class ManifestError(InputError):
    """A dataset manifest that cannot be read, or that lacks a required column."""


class ConfigurationError(ArtlineageError, ValueError):
    """An option value that is not one of the accepted ones (the message lists them)."""


# ---------------------------------------------------------------- signals and fetching

class SignalError(ArtlineageError):
    """A reader found its kind of data but it is malformed or hostile (reported, never fatal)."""


class FetchError(ArtlineageError):
    """A fetch that could not produce a response (refused address, too many redirects, ...)."""


class BlockedAddressError(FetchError):
    """The name resolves only to private/loopback/link-local/multicast/reserved addresses."""


class FetchTimeout(FetchError):
    """The server did not answer within the time bound."""


class ResponseTooLarge(FetchError):
    """The response body exceeds the byte bound."""


class TooManyRedirects(FetchError):
    """The redirect chain is longer than the bound."""


class MalformedURLError(FetchError):
    """The URL cannot be fetched as written (bad port, bad IP literal, no host, ...)."""


class BodyDecodingError(FetchError):
    """The body's Content-Encoding is unsupported, stacked too deep, or its data is corrupt."""


# ---------------------------------------------------------------- registry

class RegistryError(ArtlineageError):
    """A registry request that cannot be honoured (unknown artist, bad value...)."""


class NotFoundError(RegistryError, LookupError):
    """No artist / work / terms with that id or name."""


class AmbiguousArtistError(RegistryError):
    """A name that matches several artists; ``candidates`` holds them."""

    def __init__(self, name: str, candidates: list[Any]):
        ids = ", ".join(f"#{a.id} {a.name}" for a in candidates[:10])
        super().__init__(f"{name!r} matches several artists ({ids}); use the id")
        self.candidates = candidates


class RegistryImportError(RegistryError):
    """A document that is not a registry export, or that contradicts itself."""


class TermsConflict(RegistryError):
    """A terms entry that cannot be withdrawn: not the latest, or in force for too long (HTTP 409)."""


# ---------------------------------------------------------------- algorithms and pipelines

class MatchingError(ArtlineageError):
    """Perceptual matching or prompt-guard failure."""


class HashError(InputError, MatchingError):
    """The file could not be hashed (unreadable, not an image, too large)."""


class HealthError(ArtlineageError):
    """A dataset-health computation that cannot be done."""


class GuardError(HealthError, ValueError):
    """The requested real share cannot be reached (the message says why and what would)."""


class PipelineError(ArtlineageError):
    """A scan / filter / audit run that had to stop."""


class ShardFailure(PipelineError, RuntimeError):
    """A shard of a run that failed, or a run told to stop after n shards."""


# ---------------------------------------------------------------- web platform

class PlatformError(ArtlineageError):
    """A refusal by the web platform."""


class AuthError(PlatformError):
    """Bad credentials or a refused account operation (message safe to show)."""


class PermissionDenied(PlatformError):
    """The signed-in account may not do this."""


class UploadRejected(PlatformError):
    """An upload refused with an HTTP status and a message safe to show."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:  # survives the trip back from a process pool
        return (UploadRejected, (self.status, self.message))

import pickle

import pytest

import artlineage
from artlineage import errors


def test_every_exception_derives_from_the_one_base_and_keeps_its_old_home():
    from artlineage.pipelines.consent_filter import ShardFailure
    from artlineage.health import GuardError
    from artlineage.interfaces.web.auth import AuthError
    from artlineage.interfaces.web.media import UploadRejected
    from artlineage.interfaces.web.platform import PermissionDenied
    from artlineage.matching import HashError
    from artlineage.registry import NotFoundError, RegistryError
    from artlineage.registry.io import RegistryImportError
    from artlineage.registry import AmbiguousArtistError
    from artlineage.signals import SignalError, UnreadableImageError
    from artlineage.signals.web import SafeFetcher  # noqa: F401  (the fetcher module loads)
    from artlineage.signals.web._fetch import BlockedAddressError, FetchError

    old_homes = {
        "ShardFailure": ShardFailure, "GuardError": GuardError, "AuthError": AuthError,
        "UploadRejected": UploadRejected, "PermissionDenied": PermissionDenied, "HashError": HashError,
        "NotFoundError": NotFoundError, "RegistryError": RegistryError, "RegistryImportError": RegistryImportError,
        "AmbiguousArtistError": AmbiguousArtistError, "SignalError": SignalError,
        "UnreadableImageError": UnreadableImageError, "BlockedAddressError": BlockedAddressError,
        "FetchError": FetchError,
    }
    for name, cls in old_homes.items():
        assert cls is getattr(errors, name), name
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.ArtlineageError), name
        assert getattr(artlineage, name) is cls, name


def test_narrow_classes_sit_under_their_families_and_builtins_stay_catchable():
    assert issubclass(errors.BlockedAddressError, errors.FetchError)
    assert issubclass(errors.FetchTimeout, errors.FetchError)
    assert issubclass(errors.ResponseTooLarge, errors.FetchError)
    assert issubclass(errors.NotFoundError, errors.RegistryError)
    assert issubclass(errors.NotFoundError, LookupError)
    assert issubclass(errors.UnreadableImageError, errors.InputError)
    assert issubclass(errors.ConfigurationError, ValueError)
    assert issubclass(errors.HashError, errors.MatchingError)
    assert issubclass(errors.HashError, ValueError)
    assert issubclass(errors.GuardError, ValueError)
    assert issubclass(errors.ShardFailure, RuntimeError)
    with pytest.raises(errors.ArtlineageError, match="^boom$"):
        raise errors.ResponseTooLarge("boom")


def test_exceptions_with_extra_fields_survive_pickling():
    rejected = pickle.loads(pickle.dumps(errors.UploadRejected(413, "too large")))
    assert (rejected.status, rejected.message, str(rejected)) == (413, "too large", "too large")

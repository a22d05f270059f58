"""Stamping generated images at the source: IPTC DigitalSourceType in XMP, a signed C2PA manifest
(actions, generator, ingredients, training-and-data-mining terms, the artists the prompt credits
as influences with their terms), optionally the dwtDct watermark. ``artlineage stamp`` is the CLI.
"""

from ._certs import SigningCredentials, TestChainFiles, guess_algorithm, make_test_chain
from ._stamp import (CREATED, DEFAULT_TRAINING_MINING, EDITED, INFLUENCES_LABEL, Influence, StampError,
                     StampOptions, StampResult, describe, influences_from_prompt, manifest_definition, stamp_bytes,
                     stamp_file, stamp_image)
from ._service import GenerationService, PromptVerdict
from ._xmp import XmpFields, build_packet, read_container_xmp, write_container_xmp

__all__ = [
    "SigningCredentials", "TestChainFiles", "guess_algorithm", "make_test_chain",
    "CREATED", "EDITED", "DEFAULT_TRAINING_MINING", "INFLUENCES_LABEL", "Influence", "StampError", "StampOptions",
    "StampResult", "describe", "influences_from_prompt", "manifest_definition", "stamp_bytes", "stamp_file",
    "stamp_image", "GenerationService", "PromptVerdict", "XmpFields", "build_packet", "read_container_xmp", "write_container_xmp",
]

"""The two calls a generation service makes: ``check`` the prompt before generating, ``stamp`` the
result after. One object, built once (guard + registry terms + signing credentials), safe to share
between threads: ``check`` only reads the guard, and the guard is built under a lock on first use.

    service = GenerationService(generator="My Model 2", registry="registry.sqlite")
    verdict = service.check(prompt)
    if verdict.allowed:
        image = model(prompt)
        service.stamp_image(image, "out.png", prompt=prompt)

The ComfyUI nodes, the AUTOMATIC1111 / Forge extension and the platform's /v1/stamp use it.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from ._certs import SigningCredentials
from ._stamp import StampOptions, StampResult, influences_from_prompt, stamp_bytes, stamp_file, stamp_image

STOP, WARN = "stop", "warn"


@dataclass(frozen=True)
class PromptVerdict:
    """The prompt guard's answer for one prompt, as a service acts on it."""

    decision: str                        # allow | warn | credit_required | block
    allowed: bool                        # False only when blocked and the service stops on block
    message: str
    matches: list[dict[str, Any]] = field(default_factory=list)
    credits: list[str] = field(default_factory=list)     # artists whose terms ask for credit

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "allowed": self.allowed, "message": self.message,
                "matches": self.matches, "credits": self.credits}


class GenerationService:
    """Prompt check before generation and stamp after it, with one guard and one set of credentials."""

    def __init__(self, generator: str, *, generator_version: str | None = None,
                 registry: str | os.PathLike[str] | None = None, guard=None, on_block: str = STOP,
                 credentials: SigningCredentials | None = None, sign: bool = True, watermark: bool = False,
                 include_prompt: bool = False):
        if on_block not in (STOP, WARN):
            raise ValueError("on_block must be 'stop' or 'warn'")
        self.generator, self.generator_version = generator, generator_version
        self.registry, self.on_block = registry, on_block
        self.credentials = credentials if credentials is not None else (SigningCredentials.from_env() if sign else None)
        self.sign, self.watermark, self.include_prompt = sign, watermark, include_prompt
        self._guard = guard
        self._lock = threading.Lock()

    @property
    def guard(self):
        if self._guard is None:
            with self._lock:
                if self._guard is None:
                    from ..matching.artist_names import load_artist_names
                    from ..matching.prompt_guard import PromptGuard

                    if self.registry is not None:
                        from ..matching.match import guard_entries_from_registry
                        from ..registry.api import Registry

                        with Registry(self.registry) as reg:
                            self._guard = PromptGuard(guard_entries_from_registry(reg))
                    else:
                        self._guard = PromptGuard(load_artist_names())
        return self._guard

    def check(self, prompt: str | None) -> PromptVerdict:
        from ..matching.prompt_guard import BLOCK, CREDIT, overall_decision

        matches = self.guard.check(prompt or "")
        decision = overall_decision(matches)
        blocked = [m.artist for m in matches if m.decision == BLOCK]
        credits = list(dict.fromkeys(m.artist for m in matches if m.decision == CREDIT))
        if blocked:
            names = ", ".join(dict.fromkeys(blocked))
            message = f"the prompt names {names}, whose terms do not allow style imitation"
        elif credits:
            message = "allowed with credit to " + ", ".join(credits)
        elif matches:
            message = "names " + ", ".join(dict.fromkeys(m.artist for m in matches)) + "; no blocking terms"
        else:
            message = "no artist named"
        return PromptVerdict(decision, allowed=not (blocked and self.on_block == STOP), message=message,
                             matches=[m.to_dict() for m in matches], credits=credits)

    def options(self, *, prompt: str | None = None, edited: bool = False, ingredients=(),
                **overrides: Any) -> StampOptions:
        opts = StampOptions(generator=self.generator, generator_version=self.generator_version, edited=edited,
                            ingredients=tuple(ingredients), prompt=prompt, include_prompt=self.include_prompt,
                            influences=tuple(influences_from_prompt(prompt, self.guard)) if prompt else (),
                            credentials=self.credentials, sign=self.sign and self.credentials is not None,
                            watermark=self.watermark)
        return replace(opts, **overrides) if overrides else opts

    def stamp_file(self, src, dst=None, *, prompt: str | None = None, edited: bool = False, ingredients=(),
                   **overrides: Any) -> StampResult:
        return stamp_file(src, dst, self.options(prompt=prompt, edited=edited, ingredients=ingredients, **overrides))

    def stamp_bytes(self, data: bytes, *, prompt: str | None = None, edited: bool = False,
                    **overrides: Any) -> tuple[bytes, StampResult]:
        return stamp_bytes(data, self.options(prompt=prompt, edited=edited, **overrides))

    def stamp_image(self, image, path, *, prompt: str | None = None, edited: bool = False, ingredients=(),
                    pnginfo=None, **overrides: Any) -> StampResult:
        return stamp_image(image, path, self.options(prompt=prompt, edited=edited, ingredients=ingredients,
                                                     **overrides), pnginfo=pnginfo)

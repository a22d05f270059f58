"""The work card: everything a visitor (or an API client) is told about one work: origin with its
evidence, the artist's declaration, a plain-language summary, tools and generation parameters,
training consent and opt-out, influences credited, artists named in the prompt, the acceptability
criteria."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import RegistryError
from ...registry import Registry
from ...registry.models import Artist, Work
from .acceptability import acceptability
from .badges import ORIGIN_BADGE
from .identity import is_verified
from .models import Media
from .wording import consent_marker, estimate_note, optout_words, summary


class WorkCardsMixin:
    def work_card(self, s: Session, work_id: int) -> dict[str, Any]:
        reg = Registry.in_session(s)
        work = reg.get_work(work_id)
        artist = reg.get_artist(work.artist_id)
        media = s.get(Media, work_id)
        terms = reg.current_terms(artist.id, work.id)
        lin = reg.work_lineage(work.id, depth=1)
        credited_works = [{"work_id": n.id, "title": n.name, "note": n.note} for n in lin.ancestors]
        credit_artists = self._credited_artists(s, media, [n.id for n in lin.ancestors])
        report = media.report if media else {"verdict": work.verdict, "generation": []}
        generation = report.get("generation") or []
        prompt = (media.prompt if media else None) or next((g.get("prompt") for g in generation if g.get("prompt")), None)
        named = self.check_prompt(prompt) if prompt else {"decision": "allow", "matches": []}
        verdict = report.get("verdict") or {}
        origin = {
            "badge": media.badge if media else ORIGIN_BADGE.get(work.origin or "", "unknown"),
            "badge_source": media.badge_source if media else ("file" if work.origin in ORIGIN_BADGE else "none"),
            "origin": work.origin or "unknown", "confidence": verdict.get("confidence"),
            "generator": verdict.get("generator"), "explanation": verdict.get("explanation"),
            "conflicts": verdict.get("conflicts", []), "estimate": estimate_note(verdict),
        }
        declared = {
            "ai_use": media.declared_ai_use if media else None, "tools": media.tools if media else None,
            "process": media.process if media else None, "training_data": media.training_data if media else None,
        }
        criteria = acceptability(origin, declared, named, credit_artists)
        opt = self.optout(s, artist.id, work.id)
        marker, marker_label = consent_marker(opt)
        artist_dmi = self.optout(s, artist.id).dmi  # renditions carry the artist's opt-out
        return {
            "work": work.to_dict(),
            "artist": {"id": artist.id, "name": artist.name, "verified": is_verified(s, artist.id)},
            "summary": summary(origin, declared),
            "origin": origin, "declared": declared, "tools": _tools(media, generation),
            "generation": generation, "prompt": prompt,
            "training_consent": terms.to_dict(),
            "opt_out": {"dmi": opt.dmi, "reason": opt.reason, "reserved": opt.reserved, "marker": marker,
                        "label": marker_label, "words": optout_words(opt)},
            "influences": {"works": credited_works, "artists": credit_artists,
                           "descendants": [{"work_id": n.id, "title": n.name} for n in lin.descendants]},
            "named_artists": named,
            "criteria": criteria, "acceptable": all(c["met"] for c in criteria),
            "evidence": verdict.get("evidence", []), "warnings": report.get("warnings", []),
            "file_evidence": [e for e in verdict.get("evidence", []) if not (e.get("data") or {}).get("model_estimate")],
            "estimates": [e for e in verdict.get("evidence", []) if (e.get("data") or {}).get("model_estimate")],
            "media": {"thumb": self.media_url(artist.id, work.id, media.sha256, media.format, artist_dmi, "thumb"),
                      "display": self.media_url(artist.id, work.id, media.sha256, media.format, artist_dmi, "display"),
                      "format": media.format if media else None, "width": media.width if media else None,
                      "height": media.height if media else None} if media else None,
        }

    @staticmethod
    def _credited_artists(s: Session, media: Media | None, influence_work_ids: list[int]) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for ref in (media.credits if media else []) or []:
            try:
                a = Registry.in_session(s).get_artist(int(ref) if str(ref).isdigit() else str(ref))
                out[str(a.id)] = {"artist_id": a.id, "name": a.name, "names": [a.name] + [n.name for n in a.names]}
            except RegistryError:
                out[f"name:{ref}"] = {"artist_id": None, "name": str(ref), "names": [str(ref)]}
        if influence_work_ids:
            rows = s.execute(select(Artist).join(Work, Work.artist_id == Artist.id)
                             .where(Work.id.in_(influence_work_ids))).scalars().all()
            for a in rows:
                out.setdefault(str(a.id), {"artist_id": a.id, "name": a.name,
                                           "names": [a.name] + [n.name for n in a.names]})
        return list(out.values())


def _tools(media: Media | None, generation: list[dict[str, Any]]) -> list[str]:
    tools = [t.strip() for t in (media.tools or "").split(",") if t.strip()] if media else []
    for g in generation:
        for key in ("tool", "model"):
            if g.get(key) and str(g[key]) not in tools:
                tools.append(str(g[key]))
    return tools

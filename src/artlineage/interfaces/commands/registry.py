"""``artlineage artist|work|terms|influence|lineage|registry``: the artists' registry from the shell.

Every command takes ``--registry PATH_OR_URL`` (default ``registry.sqlite``, or $ARTLINEAGE_REGISTRY);
the schema is created or migrated on first use.
"""

from __future__ import annotations

import contextlib
import enum
import json
from pathlib import Path
from typing import Annotated, Any, Iterator, List, Optional

import typer
from rich.markup import escape
from rich.console import Console
from rich.table import Table
from rich.tree import Tree

from ...registry import SCOPES, Lineage, NameKind, Permission, Registry, RegistryError, upgrade_registry

RegistryOpt = Annotated[str, typer.Option("--registry", envvar="ARTLINEAGE_REGISTRY",
                                          help="Registry SQLite file or database URL.")]
DEFAULT_REGISTRY = "registry.sqlite"


# The registry's answers plus "unknown" (clears a scope), as choices typer can check.
PermissionChoice = enum.Enum("PermissionChoice",  # type: ignore[misc]
                             {**{p.value: p.value for p in Permission}, "unknown": "unknown"}, type=str)


artist_app = typer.Typer(help="Artists and their names.", no_args_is_help=True)
work_app = typer.Typer(help="Works of registered artists.", no_args_is_help=True)
terms_app = typer.Typer(help="Consent terms (history kept).", no_args_is_help=True)
influence_app = typer.Typer(help="Influence edges between artists or works.", no_args_is_help=True)
registry_app = typer.Typer(help="The registry database: export, import, upgrade.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(artist_app, name="artist")
    app.add_typer(work_app, name="work")
    app.add_typer(terms_app, name="terms")
    app.add_typer(influence_app, name="influence")
    app.add_typer(registry_app, name="registry")
    app.command("lineage")(lineage_cmd)


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error:[/bold red] {escape(str(message))}", highlight=False)
    return typer.Exit(1)


@contextlib.contextmanager
def _open(db: str) -> Iterator[Registry]:
    """The registry for one command; a RegistryError anywhere in the command is a clean user error."""
    try:
        reg = Registry(db)
    except Exception as exc:  # noqa: BLE001 - a bad URL or unreachable server is a user error here
        raise _fail(f"cannot open registry {db}: {exc}") from None
    with reg:
        try:
            yield reg
        except RegistryError as exc:
            raise _fail(str(exc)) from None


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# ------------------------------------------------------------------ artist

@artist_app.command("add")
def artist_add(
    name: str = typer.Argument(..., help="The artist's main name."),
    alias: Optional[List[str]] = typer.Option(None, "--alias", "-a", help="Another name (repeatable)."),
    alias_kind: NameKind = typer.Option(NameKind.ALIAS, "--alias-kind",
                                              help="Kind of the --alias names."),
    link: Optional[List[str]] = typer.Option(None, "--link", help="A URL about the artist (repeatable)."),
    living: Optional[bool] = typer.Option(None, "--living/--dead", help="Whether the artist is alive."),
    sort_name: Optional[str] = typer.Option(None, "--sort-name"),
    born: Optional[int] = typer.Option(None, "--born", help="Birth year."),
    died: Optional[int] = typer.Option(None, "--died", help="Death year."),
    as_json: bool = typer.Option(False, "--json"),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Register an artist."""
    with _open(registry) as reg:
        artist = reg.add_artist(name, aliases=[(a, alias_kind.value) for a in alias or []], links=link or [],
                                living=living, sort_name=sort_name, birth_year=born, death_year=died)
    if as_json:
        _echo_json(artist.to_dict())
    else:
        typer.echo(f"added artist #{artist.id} {artist.name}")


@artist_app.command("alias")
def artist_alias(
    artist: str = typer.Argument(..., help="Artist name, alias or #id."),
    name: str = typer.Argument(..., help="The other name."),
    kind: NameKind = typer.Option(NameKind.ALIAS, "--kind"),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Add another name (alias, spelling, transliteration, misspelling) to an artist."""
    with _open(registry) as reg:
        entry = reg.add_name(artist, name, kind.value)
    typer.echo(f"artist #{entry.artist_id}: added {entry.kind} {entry.name}")


def _living(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


@artist_app.command("list")
def artist_list(
    as_json: bool = typer.Option(False, "--json"),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """List registered artists with their other names."""
    with _open(registry) as reg:
        artists = reg.list_artists()
    if as_json:
        _echo_json([a.to_dict() for a in artists])
        return
    t = Table(title=f"{len(artists)} artist(s)")
    for col in ("id", "name", "other names", "living", "years", "links"):
        t.add_column(col)
    for a in artists:
        years = "" if a.birth_year is None and a.death_year is None else f"{a.birth_year or '?'}-{a.death_year or ''}"
        t.add_row(str(a.id), escape(a.name), escape(", ".join(f"{n.name} ({n.kind})" for n in a.names)), _living(a.living),
                  years, " ".join(a.links or []))
    Console().print(t)


# ------------------------------------------------------------------ work

@work_app.command("add")
def work_add(
    path: Path = typer.Argument(..., help="An image file, or a folder of images (recursive)."),
    artist: str = typer.Option(..., "--artist", help="Artist name, alias or #id."),
    title: Optional[str] = typer.Option(None, "--title", help="Title (single file; default: file name)."),
    inspect: bool = typer.Option(False, "--inspect", help="Also store the provenance verdict (metadata only)."),
    as_json: bool = typer.Option(False, "--json"),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Register image files as works of an artist (sha256; pHash/PDQ when artlineage.matching is there)."""
    with _open(registry) as reg:
        added = reg.add_work_files(artist, path, title=title, inspect=inspect)
    if as_json:
        _echo_json([{**a.work.to_dict(), "created": a.created, "warning": a.warning} for a in added])
        return
    new = sum(a.created for a in added)
    typer.echo(f"registered {new} new work(s), {len(added) - new} already known")
    for a in added:
        if a.warning:
            typer.echo(f"warning: {a.warning}", err=True)


@work_app.command("list")
def work_list(
    artist: Optional[str] = typer.Option(None, "--artist", help="Only this artist's works."),
    as_json: bool = typer.Option(False, "--json"),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """List registered works."""
    with _open(registry) as reg:
        works = reg.list_works(artist)
    if as_json:
        _echo_json([w.to_dict() for w in works])
        return
    t = Table(title=f"{len(works)} work(s)")
    for col in ("id", "artist", "title", "sha256", "phash64", "origin", "location"):
        t.add_column(col)
    for w in works:
        t.add_row(str(w.id), str(w.artist_id), escape(w.title or ""), (w.sha256 or "")[:12],
                  f"{w.phash:016x}" if w.phash is not None else "", w.origin or "", w.location or "")
    Console().print(t)


# ------------------------------------------------------------------ terms

_SCOPE_HELP = "allowed | not_allowed | allowed_with_credit | unknown"


@terms_app.command("set")
def terms_set(
    artist: str = typer.Argument(..., help="Artist name, alias or #id."),
    work: Optional[int] = typer.Option(None, "--work", help="Terms for this work id only."),
    ai_training: Optional[PermissionChoice] = typer.Option(None, "--ai-training", help=_SCOPE_HELP),
    generative_training: Optional[PermissionChoice] = typer.Option(None, "--generative-training", help=_SCOPE_HELP),
    data_mining: Optional[PermissionChoice] = typer.Option(None, "--data-mining", help=_SCOPE_HELP),
    style_imitation: Optional[PermissionChoice] = typer.Option(None, "--style-imitation", help=_SCOPE_HELP),
    valid_from: Optional[str] = typer.Option(None, "--from", help="First day in force, YYYY-MM-DD (default today)."),
    note: Optional[str] = typer.Option(None, "--note"),
    source: Optional[str] = typer.Option(None, "--source", help="Where the terms were stated (URL...)."),
    replace: bool = typer.Option(False, "--replace", help="Scopes not given become unknown (default: kept)."),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Record new consent terms; the previous terms are closed, not overwritten."""
    given = {"ai_training": ai_training, "generative_training": generative_training, "data_mining": data_mining,
             "style_imitation": style_imitation}
    scopes = {s: v.value for s, v in given.items() if v is not None}
    if not scopes and not replace:
        raise _fail("give at least one scope, e.g. --ai-training not_allowed")
    with _open(registry) as reg:
        row = reg.set_terms(artist, work, valid_from=valid_from, note=note, source=source,
                            inherit=not replace, **scopes)
    level = f"work #{row.work_id}" if row.work_id else f"artist #{row.artist_id}"
    typer.echo(f"terms #{row.id} for {level} from {row.valid_from}: "
               + ", ".join(f"{s}={v or 'unknown'}" for s, v in row.scopes().items()))


@terms_app.command("show")
def terms_show(
    artist: str = typer.Argument(..., help="Artist name, alias or #id."),
    work: Optional[int] = typer.Option(None, "--work", help="Resolve for this work (work terms override)."),
    at: Optional[str] = typer.Option(None, "--at", help="Day to resolve for, YYYY-MM-DD (default today)."),
    history: bool = typer.Option(False, "--history", help="Also list every terms period."),
    as_json: bool = typer.Option(False, "--json"),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Show the consent terms in force, scope by scope, and where each came from."""
    with _open(registry) as reg:
        resolved = reg.current_terms(artist, work, at)
        rows = reg.terms_history(artist, all_levels=True) if history else []
        name = reg.get_artist(resolved.artist_id).name
    if as_json:
        _echo_json({**resolved.to_dict(), "artist": name, "history": [r.to_dict() for r in rows]})
        return
    title = f"{name}" + (f", work #{work}" if work else "") + f" on {resolved.at}"
    t = Table(title=title)
    for col in ("scope", "value", "from"):
        t.add_column(col)
    styles = {"allowed": "green", "not_allowed": "bold red", "allowed_with_credit": "yellow"}
    for s in SCOPES:
        st = resolved.scopes[s]
        value = st.value or "unknown"
        t.add_row(s, f"[{styles.get(value, 'dim')}]{value}[/]",
                  f"{st.level} terms #{st.terms_id}" if st.terms_id else "")
    console = Console()
    console.print(t)
    if rows:
        h = Table(title="history")
        for col in ("id", "level", "valid from", "valid to", *SCOPES, "source"):
            h.add_column(col)
        for r in rows:
            h.add_row(str(r.id), f"work #{r.work_id}" if r.work_id else "artist", str(r.valid_from),
                      str(r.valid_to or ""), *(getattr(r, s) or "" for s in SCOPES), r.source or "")
        console.print(h)


# ------------------------------------------------------------------ influence and lineage

@influence_app.command("add")
def influence_add(
    source: str = typer.Argument(..., metavar="FROM", help="The influenced artist (or work id with --works)."),
    target: str = typer.Argument(..., metavar="TO", help="The artist (or work id) FROM was influenced by."),
    note: Optional[str] = typer.Option(None, "--note"),
    claim: Optional[str] = typer.Option(None, "--source", help="Who says so: 'artist statement', a URL..."),
    works: bool = typer.Option(False, "--works", help="FROM and TO are work ids."),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Record that FROM was influenced by TO."""
    with _open(registry) as reg:
        if works:
            if not (source.isdigit() and target.isdigit()):
                raise RegistryError("with --works, FROM and TO are work ids")
            edge: Any = reg.add_work_influence(int(source), int(target), note=note, source_of_claim=claim)
            ends = f"work #{edge.source_id} influenced by work #{edge.target_id}"
        else:
            edge = reg.add_influence(source, target, note=note, source_of_claim=claim)
            a, b = reg.get_artist(edge.source_id), reg.get_artist(edge.target_id)
            ends = f"{a.name} influenced by {b.name}"
    typer.echo(f"influence #{edge.id}: {ends}")


def _lineage_tree(lin: Lineage) -> Tree:
    root = Tree(f"[bold]{lin.root_name}[/bold] (#{lin.root_id})")
    for label, nodes in (("influenced by", lin.ancestors), ("influenced", lin.descendants)):
        branch = root.add(f"[cyan]{label}[/cyan]")
        if not nodes:
            branch.add("[dim]none recorded[/dim]")
        parents: dict[int, Tree] = {lin.root_id: branch}
        for n in sorted(nodes, key=lambda n: n.depth):  # a node's 'via' is always one level closer
            extra = "; ".join(x for x in (n.note, n.source_of_claim and f"source: {n.source_of_claim}") if x)
            parents[n.id] = parents.get(n.via, branch).add(
                f"{n.name} (#{n.id}, depth {n.depth})" + (f" [dim]{extra}[/dim]" if extra else ""))
    return root


def lineage_cmd(
    artist: str = typer.Argument(..., help="Artist name, alias or #id (a work id with --work)."),
    depth: int = typer.Option(3, "--depth", min=1, max=50),
    work: bool = typer.Option(False, "--work", help="ARTIST is a work id: show the work's lineage."),
    as_json: bool = typer.Option(False, "--json"),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Who influenced an artist (or a work), and whom they influenced, to a depth."""
    with _open(registry) as reg:
        if work:
            if not artist.isdigit():
                raise RegistryError("with --work, give a work id")
            lin = reg.work_lineage(int(artist), depth)
        else:
            lin = reg.lineage(artist, depth)
    if as_json:
        _echo_json(lin.to_dict())
        return
    Console().print(_lineage_tree(lin))
    if lin.truncated:
        typer.echo("(truncated: too many nodes)", err=True)


# ------------------------------------------------------------------ registry

def _is_json(path: Path, fmt: str) -> bool:
    if fmt != "auto":
        return fmt == "json"
    return path.suffix.lower() == ".json"


@registry_app.command("export")
def registry_export(
    path: Path = typer.Argument(..., help="A .json file, or a folder for CSV files."),
    fmt: str = typer.Option("auto", "--format", help="json, csv or auto (by the path's suffix)."),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Export the whole registry (JSON document, or artists/works/terms/influences CSV files)."""
    with _open(registry) as reg:
        doc = reg.export_json(path) if _is_json(path, fmt) else reg.export_csv(path)
    typer.echo(f"exported {len(doc['artists'])} artist(s), {len(doc['works'])} work(s), "
               f"{len(doc['terms'])} terms row(s), {len(doc['influences'])} influence(s) to {path}")


@registry_app.command("import")
def registry_import(
    path: Path = typer.Argument(..., exists=True, help="A .json export, or a folder of CSV files."),
    registry: RegistryOpt = DEFAULT_REGISTRY,
) -> None:
    """Import an export (all or nothing); rows get new ids and are added to what is there."""
    with _open(registry) as reg:
        counts = reg.import_csv(path) if path.is_dir() else reg.import_json(path)
    typer.echo("imported " + ", ".join(f"{n} {k}" for k, n in counts.items()))


@registry_app.command("upgrade")
def registry_upgrade(registry: RegistryOpt = DEFAULT_REGISTRY) -> None:
    """Create or migrate the registry schema (also done automatically by every command)."""
    try:
        rev = upgrade_registry(registry)
    except Exception as exc:  # noqa: BLE001
        raise _fail(f"cannot upgrade {registry}: {exc}") from None
    typer.echo(f"registry schema at revision {rev}")



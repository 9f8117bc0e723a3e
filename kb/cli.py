"""Command line: ``kb build``, ``serve``, ``parse``, ``search``, ``governs``, ``diff``, ``provenance``, ``export``.

Commands stay thin: options -> stage functions -> output. Library errors (``KbError``) and
file-system errors print as ``Error: …`` and exit 1, never as a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
from pathlib import Path

import click

from .errors import KbError

DEFAULT_DB = "kb.db"
DEFAULT_CORPUS = "corpus"


class _Group(click.Group):
    """A click group that turns the errors a person can act on into ``Error: …``, exit 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KbError as e:
            raise click.ClickException(str(e)) from e
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            raise click.ClickException(f"{where}{e.strerror or e}") from e
        except sqlite3.Error as e:
            raise click.ClickException(f"database: {e}") from e


@click.group(cls=_Group)
@click.version_option(package_name="kb")
def cli():
    """A knowledge base of Liaoning employment policy notices, browsed in Datasette.

    \b
    kb build          # parse corpus/, link, publish to kb.db
    kb serve          # browse it at http://127.0.0.1:8001/
    """


# ---------------------------------------------------------------------------------------------
# build


def _summary(report) -> str:
    c = report.counts
    links = c.get("links", {})
    problems = c.get("problems", {})
    lines = [
        f"Built {report.db_path} (build {report.build.id}, corpus {report.build.corpus_hash[:12]})",
        f"  files       {c['files']}" + (f" ({c['files_failed']} failed)" if c.get("files_failed") else ""),
        f"  documents   {c['documents']} (+{c['placeholders']} cited, not in the corpus)",
        f"  clauses     {c['clauses']}",
        f"  links       {sum(links.values())}" + (" (" + ", ".join(f"{k} {v}" for k, v in links.items()) + ")" if links else ""),
        f"  unresolved  {c['unresolved']}",
        f"  problems    {sum(problems.values())}" + (" (" + ", ".join(f"{k} {v}" for k, v in problems.items()) + ")" if problems else ""),
    ]
    reuse = c.get("incremental")
    if reuse:
        lines.append(
            f"  rebuilt     {reuse['files_parsed']} file(s) parsed, {reuse['files_from_cache']} from cache; "
            f"{reuse['documents_linked']} document(s) linked, {reuse['documents_reused']} reused"
        )
    return "\n".join(lines)


@cli.command()
@click.option("--corpus", "corpus", default=DEFAULT_CORPUS, show_default=True, type=click.Path(), help="Directory of notice files")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), help="Database to write")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON")
@click.option("--full", is_flag=True, help="Ignore the build cache (DB.cache/): parse and link everything again")
@click.option("--workers", type=click.IntRange(min=1), help="Processes for parsing and linking (default: the CPU count, for large corpora)")
@click.option("--keep-going", is_flag=True, help="Exit 0 even when some files failed (they are still listed and recorded)")
def build(corpus, db_path, as_json, full, workers, keep_going):
    """Parse every file under the corpus, link the clauses and publish a SQLite database.

    The new database is written beside the old one and replaces it only when complete. Files
    that fail to parse are listed first, each with its line and reason (and recorded in the
    problems table); the rest are built. The exit status is 1 when any file failed, unless
    --keep-going is given (scripts/serve passes it, so one bad file does not stop serving). A rebuild reuses what the last build by the same code parsed and linked (kept in
    DB.cache/ beside the database): only changed files are parsed again, and only the
    documents a change touches are linked again. --full starts from nothing.

    Example: kb build --corpus corpus --db kb.db
    """
    from .parse import corpus_files
    from .publish import build as run_build

    root = Path(corpus)
    total = len(corpus_files(root)) if root.is_dir() else 0
    with click.progressbar(length=total, label="Parsing", file=sys.stderr, item_show_func=lambda p: p) as bar:
        report = run_build(root, db_path, on_file=lambda path: bar.update(1, path), full=full, workers=workers)
    failed = report.failed_files
    if failed:
        click.echo(f"{len(failed)} file(s) could not be parsed:", err=True)
        for p in failed:
            click.echo(f"  {p}", err=True)
    if as_json:
        click.echo(json.dumps({"db": report.db_path, "build": dataclasses.asdict(report.build)}, ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(report))
    if failed and not keep_going:
        click.echo(f"Error: {len(failed)} file(s) failed (listed above); the others are built. Fix them, or pass --keep-going to exit 0.", err=True)
        sys.exit(1)


# ---------------------------------------------------------------------------------------------
# serve


def default_metadata() -> Path | None:
    """metadata.yml in the current directory, else the one at the project root beside kb/."""
    for candidate in (Path("metadata.yml"), Path(__file__).resolve().parent.parent / "metadata.yml"):
        if candidate.is_file():
            return candidate
    return None


def load_metadata(path: str | Path | None, db_path: str | Path) -> dict:
    """metadata.yml as a dict, its database section renamed to the served file's name."""
    import yaml

    if path is None:
        return {}
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise KbError(f"{path}: invalid YAML: {e}") from e
    name = Path(db_path).stem
    databases = data.get("databases") or {}
    if name not in databases and "kb" in databases:
        databases[name] = databases.pop("kb")
        kb_settings = (data.get("plugins") or {}).get("kb")
        if isinstance(kb_settings, dict) and kb_settings.get("database") == "kb":
            kb_settings["database"] = name
    return data


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), help="Database to serve")
@click.option("-p", "--port", default=8001, show_default=True, type=int, help="Port to listen on")
@click.option("-h", "--host", default="127.0.0.1", show_default=True, help="Host to bind (0.0.0.0 to serve the network)")
@click.option("--metadata", "metadata_path", type=click.Path(exists=True, dir_okay=False), help="metadata.yml (default: the project's)")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Server processes (each keeps its own page cache)")
@click.option("--cache-mb", type=click.FloatRange(min=0), help="Pages kept per process, in MB; 0 turns the cache off  [default: metadata.yml's, else 64]")
def serve(db_path, port, host, metadata_path, workers, cache_mb):
    """Browse the database in Datasette, with metadata.yml and the /-/kb/ pages.

    The database is opened immutable: rebuild with kb build, then restart. Rendered pages are
    kept, by URL, in memory. One process serves every connection (its SQL runs on a few
    threads); --workers N starts N, each taking whole keep-alive connections.

    Example: kb serve --db kb.db --port 8001
    """
    import asyncio
    import os

    import uvicorn

    from .datasette_plugin import asgi

    if not Path(db_path).is_file():
        raise KbError(f"no database at {db_path}: run `kb build --db {db_path}` first")
    metadata_path = metadata_path or default_metadata()
    ds = asgi.datasette(db_path, metadata_path, cache_mb)  # settles errors in metadata and plugins here, once
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(ds.invoke_startup())
    finally:
        loop.close()
    _check_port(host, port)
    click.echo(f"Serving {db_path} at http://{host}:{port}/ (search: http://{host}:{port}/-/kb/search)", err=True)
    if workers == 1:
        uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
        return
    # uvicorn's workers import the app: the options travel in the environment (kb.datasette_plugin.asgi).
    os.environ[asgi.ENV_DB] = str(Path(db_path).resolve())
    os.environ[asgi.ENV_METADATA] = str(Path(metadata_path).resolve()) if metadata_path else ""
    os.environ[asgi.ENV_CACHE_MB] = "" if cache_mb is None else str(cache_mb)
    uvicorn.run(
        "kb.datasette_plugin.asgi:app", factory=True, host=host, port=port, workers=workers, log_level="warning", lifespan="on"
    )


def _check_port(host: str, port: int) -> None:
    """KbError if host:port cannot be listened on, before any worker process starts."""
    import socket

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
            s.bind(address)
    except OSError as e:
        raise KbError(f"cannot listen on {host}:{port}: {(e.strerror or str(e)).lower()}") from e


# ---------------------------------------------------------------------------------------------
# parse


def _source_dict(source) -> dict | None:
    """A Source without its text and raw bytes."""
    if source is None:
        return None
    return {
        "path": source.path,
        "sha256": source.sha256,
        "encoding": source.encoding,
        "size": source.size,
        "discarded": [dataclasses.asdict(d) for d in source.discarded],
        "manifest": source.manifest,
    }


def _document_dict(doc) -> dict:
    fields = {f.name: getattr(doc, f.name) for f in dataclasses.fields(doc) if f.name != "source"}
    out = {k: v for k, v in fields.items() if k not in ("clauses", "citations")}
    out["source_path"] = doc.source.path if doc.source else None
    out["clauses"] = [dataclasses.asdict(c) for c in doc.clauses]
    out["citations"] = [dataclasses.asdict(c) for c in doc.citations]
    out["events"] = [dataclasses.asdict(e) for e in doc.events]
    return out


def _print_document(doc) -> None:
    click.echo(f"{doc.id}  {doc.title}")
    for label, value in (
        ("level", doc.level),
        ("jurisdiction", doc.jurisdiction),
        ("issued", doc.issued),
        ("issuers", "、".join(doc.issuers)),
        ("kind", doc.kind),
        ("force", doc.force),
        ("version", doc.version_date if doc.genre != "notice" else None),
        ("effective", doc.effective),
        ("identifiers", "、".join(doc.identifiers)),
        ("amends", "、".join(doc.amends)),
        ("history", "; ".join(f"{e.date} {e.body or ''} {e.act}".replace("  ", " ") for e in doc.events)),
        ("implements", ", ".join(doc.implements)),
        ("attached to", doc.attached_to and f"{doc.attached_to} {doc.attachment_label or ''}".strip()),
        ("complete", "yes" if doc.complete else "no: " + "; ".join(doc.incomplete_reasons)),
        ("citations", len(doc.citations)),
    ):
        if value not in (None, ""):
            click.echo(f"  {label:<13}{value}")
    click.echo(f"  clauses      {len(doc.clauses)}")
    for c in doc.clauses:
        text = c.heading or c.text
        text = text[:50] + "…" if len(text) > 50 else text
        click.echo(f"  {'  ' * c.depth}{c.label} [{c.kind}] {text}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Dump the records as JSON (without the source text)")
def parse(files, as_json):
    """Show what the parser reads from notice files: documents, metadata, clause tree.

    Files that cannot be read print as `Error: path:line: message`; the exit code is then 1.

    Example: kb parse corpus/2022-07-05_liaoning_ln-renshe-2022-22_gazette.txt --json
    """
    from .errors import ParseError
    from .parse import parse_file

    dumped, failed = [], 0
    for path in files:
        try:
            parsed = parse_file(path)
        except ParseError as e:
            click.echo(f"Error: {e}", err=True)
            failed += 1
            continue
        if as_json:
            dumped.append(
                {
                    "source": _source_dict(parsed.source),
                    "documents": [_document_dict(d) for d in parsed.documents],
                    "warnings": [dataclasses.asdict(w) for w in parsed.warnings],
                }
            )
        else:
            click.echo(f"{path} ({parsed.source.encoding}, {parsed.source.size} bytes, sha256 {parsed.source.sha256[:12]})")
            for w in parsed.warnings:
                click.echo(f"  {w}")
            for doc in parsed.documents:
                _print_document(doc)
            click.echo()
    if as_json:
        click.echo(json.dumps(dumped, ensure_ascii=False, indent=2))
    if failed:
        sys.exit(1)


# ---------------------------------------------------------------------------------------------
# search


@cli.command(name="search")
@click.argument("query")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False), help="Database to search")
@click.option("--city", help="Only this jurisdiction (大连市 or 大连)")
@click.option("--limit", default=20, show_default=True, type=int)
@click.option(
    "--rank-limit", default=None, type=click.IntRange(min=0), help="List, not rank, a query matching more clauses than this [default: 20000]"
)
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON")
def search_command(query, db_path, city, limit, rank_limit, as_json):
    """Search clause headings and text; terms of one or two characters work.

    Example: kb search "补贴 见习" --city 大连
    """
    from .search import RANK_LIMIT, search_page

    if not Path(db_path).is_file():
        raise KbError(f"no database at {db_path}: run `kb build --db {db_path}` first")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        page = search_page(conn, query, city=city, limit=limit, rank_limit=RANK_LIMIT if rank_limit is None else rank_limit)
    finally:
        conn.close()
    results = page.results
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=2))
        return
    if not page.ranked:
        click.echo(
            f"More than {page.rank_limit:,} clauses match: too many to rank; the first {len(results)} in the"
            " knowledge base's order. Add a term or --city to rank them.",
            err=True,
        )
    for r in results:
        score = f"{r['score']:>7.3f}" if r["score"] is not None else "      -"
        click.echo(f"{score}  {r['clause_id']}  {r['jurisdiction'] or ''}")
        text = (r["heading"] + " " if r["heading"] else "") + (r["text"] or "")
        click.echo(f"         {text[:80]}{'…' if len(text) > 80 else ''}")
    if not results:
        click.echo("No clauses found.", err=True)


# ---------------------------------------------------------------------------------------------
# governs, diff, provenance, export


def _connect(db_path: str) -> sqlite3.Connection:
    if not Path(db_path).is_file():
        raise KbError(f"no database at {db_path}: run `kb build --db {db_path}` first")
    from .search import prepare_reader

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    prepare_reader(conn)
    return conn


@cli.command()
@click.argument("topic")
@click.option("--city", required=True, help="City (抚顺 or 抚顺市); a city with no notice gets the provincial answer")
@click.option("--as-of", "as_of", help="ISO date (default: today)")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False))
@click.option("--limit", default=10, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help='Print {"answers": [...]}')
def governs(topic, city, as_of, db_path, limit, as_json):
    """Which clause governs TOPIC in a city, as of a date.

    Example: kb governs 稳岗返还 --city 抚顺 --as-of 2021-08-01
    """
    from datetime import date

    from . import governs as governs_mod

    if as_of:
        try:
            date.fromisoformat(as_of)
        except ValueError as e:
            raise KbError(f"--as-of {as_of!r}: expected an ISO date such as 2021-08-01") from e
    conn = _connect(db_path)
    try:
        answers = governs_mod.governs(conn, topic, city, as_of)[:limit]
    finally:
        conn.close()
    if as_json:
        click.echo(governs_mod.to_json(answers))
    else:
        click.echo(governs_mod.to_text(answers, topic, city, as_of or date.today().isoformat()), nl=False)


@cli.command()
@click.argument("a")
@click.argument("b")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the report to a file")
def diff(a, b, fmt, db_path, output):
    """What changed from A to B: files, 文号 (latest version), 文号@N, or clause ids.

    \b
    Example: kb diff 辽人社发〔2021〕7号@1 辽人社发〔2021〕7号@2 --format html -o diff.html
             kb diff 辽人社发〔2021〕7号 抚人社发〔2021〕20号:附件2
    """
    from . import diff as diff_mod

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) if Path(db_path).is_file() else None
    try:
        report = diff_mod.diff_specs(conn, a, b)
    finally:
        if conn is not None:
            conn.close()
    text = diff_mod.RENDERERS[fmt](report)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("clause_id")
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
def provenance(clause_id, db_path, as_json):
    """Where a clause's words came from: file, sha256, offsets, version, parser, build.

    Example: kb provenance 抚人社发〔2021〕20号:一
    """
    from .provenance import clause_provenance, to_text

    conn = _connect(db_path)
    try:
        record = clause_provenance(conn, clause_id)
    finally:
        conn.close()
    click.echo(json.dumps(record, ensure_ascii=False, indent=2) if as_json else to_text(record))


@cli.group()
def export():
    """Export the knowledge base for other tools."""


@export.command(name="graphml")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False))
def export_graphml_command(path, db_path):
    """The policy graph (documents, clauses, typed edges) as GraphML for Gephi or yEd.

    Example: kb export graphml kb.graphml
    """
    from .graph import export_graphml, graph_from_db

    conn = _connect(db_path)
    try:
        g = graph_from_db(conn)
    finally:
        conn.close()
    export_graphml(g, path)
    click.echo(f"wrote {path}: {g.number_of_nodes()} nodes, {g.number_of_edges()} edges", err=True)

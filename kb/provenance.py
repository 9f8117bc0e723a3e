"""Provenance you can cite: the chain from a clause back to the bytes it was read from, and
its lineage: the clauses above it that it stands on, level by level (city → province → nation)."""

from __future__ import annotations

import json

from .errors import NotFoundError
from .text import normalize_id


def _one(conn, sql: str, params: tuple) -> dict | None:
    cursor = conn.execute(sql, params)
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row)) if row else None


def clause_provenance(conn, clause_id: str) -> dict:
    """Source file, sha256, encoding, byte and char offsets, version, parser, build of a clause."""
    clause = _one(
        conn,
        """select clauses.id, clauses.path, clauses.start, clauses.end, clauses.byte_start, clauses.byte_end,
                  clauses.text_spans, clauses.heading_span, clauses.source_path, clauses.source_sha256,
                  documents.id as document_id, documents.doc_number, documents.title, documents.version,
                  documents.parser_version
           from clauses join documents on documents.id = clauses.document_id where clauses.id = ?""",
        (clause_id,),
    )
    if clause is None and normalize_id(clause_id) != clause_id:  # 辽人社发[2021]7号:一 as typed
        return clause_provenance(conn, normalize_id(clause_id))
    if clause is None:
        raise NotFoundError(f"no clause {clause_id!r}: expected an id like 抚人社发〔2021〕20号:一 (see the clauses table)")
    source = _one(conn, "select path, sha256, encoding, bytes from sources where path = ?", (clause["source_path"],)) or {}
    build = _one(conn, "select id, started, finished, code_version, corpus_hash from builds order by id desc limit 1", ()) or {}
    versions = [
        dict(zip(("version", "source_path", "source_sha256"), r))
        for r in conn.execute(
            "select version, source_path, source_sha256 from clause_versions where clause_id = ? order by version", (clause_id,)
        )
    ]
    links = [
        dict(zip(("relation", "target_clause_id", "build_id"), r))
        for r in conn.execute("select relation, target_clause_id, build_id from links where source_clause_id = ?", (clause_id,))
    ]
    return {
        "clause_id": clause["id"],
        "lineage": lineage(conn, clause_id),
        "document": {"id": clause["document_id"], "doc_number": clause["doc_number"], "title": clause["title"], "version": clause["version"]},
        "source": {"path": source.get("path"), "sha256": source.get("sha256"), "encoding": source.get("encoding"), "bytes": source.get("bytes")},
        "offsets": {
            "chars": [clause["start"], clause["end"]],
            "bytes": [clause["byte_start"], clause["byte_end"]],
            "text_spans": json.loads(clause["text_spans"] or "[]"),
            "heading_span": json.loads(clause["heading_span"] or "null"),
        },
        "versions": versions,
        "parser_version": clause["parser_version"],
        "build": build,
        "links": links,
    }


MAX_LINEAGE = 8  # levels followed upwards: a chain is city → province → nation (and earlier versions)

# The clauses a clause stands on, transitively: each step one link up (succession included, so a
# rule's history follows), the nearest first; a clause reached twice keeps its shortest distance.
_LINEAGE_SQL = """
with recursive chain(clause_id, relation, distance, via, why) as (
    select target_clause_id, relation, 1, source_clause_id, why from links where source_clause_id = :clause
    union
    select links.target_clause_id, links.relation, chain.distance + 1, links.source_clause_id, links.why
    from links join chain on links.source_clause_id = chain.clause_id
    where chain.distance < :depth
)
select chain.clause_id, chain.relation, min(chain.distance) as distance, chain.via, chain.why,
       documents.id as document_id, documents.title, documents.level, documents.jurisdiction
from chain
join clauses on clauses.id = chain.clause_id
join documents on documents.id = clauses.document_id
group by chain.clause_id
order by distance, chain.via, chain.clause_id
"""


def lineage(conn, clause_id: str) -> list[dict]:
    """Every clause above ``clause_id`` in its chain, nearest first: what it stands on (distance
    1), what that stands on (2) … with the relation, the clause it was reached from, and the
    document's level and jurisdiction, so a reader sees which level said what."""
    cursor = conn.execute(_LINEAGE_SQL, {"clause": clause_id, "depth": MAX_LINEAGE})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]


def to_text(record: dict) -> str:
    doc, src, off, build = record["document"], record["source"], record["offsets"], record["build"]
    lines = [
        f"clause     {record['clause_id']}",
        f"document   {doc['id']} (version {doc['version']}): {doc['title']}",
        f"source     {src['path']}",
        f"sha256     {src['sha256']}",
        f"encoding   {src['encoding']}, {src['bytes']} bytes",
        f"offsets    chars {off['chars'][0]}–{off['chars'][1]}, bytes {off['bytes'][0]}–{off['bytes'][1]}",
        "versions   " + ", ".join(f"{v['version']}: {v['source_path']}" for v in record["versions"]),
        f"parser     {record['parser_version']}",
        f"build      {build.get('id')} at {build.get('finished')}, code {build.get('code_version')}, corpus {str(build.get('corpus_hash'))[:16]}",
    ]
    for link in record["links"]:
        lines.append(f"link       {link['relation']} {link['target_clause_id']} (build {link['build_id']})")
    for step in record.get("lineage", []):
        place = " ".join(x for x in (step["level"], step["jurisdiction"]) if x)
        lines.append(f"lineage    {'  ' * (step['distance'] - 1)}{step['distance']}. {step['relation']} {step['clause_id']} ({place})")
    return "\n".join(lines)

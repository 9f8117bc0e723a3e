"""Graph stage: documents, clauses and their relations as one networkx MultiDiGraph.

Nodes are ``doc:<document id>`` and ``clause:<clause id>``; a cited notice that is not in
the corpus is a placeholder document node (``placeholder=True``), so lineage reaches it.
Edges carry ``relation``: contains, implements, extends, overrides, succeeds, cites,
attaches. Clause links point from the city (or later) clause to the provincial (or
earlier) clause it stands on, like the ``links`` table.
"""

from __future__ import annotations

import json

import networkx as nx

from . import places
from .model import Document, LinkResult

CLAUSE_RELATIONS = ("implements", "extends", "overrides", "succeeds")


def doc_node(doc_id: str) -> str:
    return f"doc:{doc_id}"


def clause_node(clause_id: str) -> str:
    return f"clause:{clause_id}"


def build_graph(documents: list[Document], links: LinkResult) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for doc in documents:
        g.add_node(
            doc_node(doc.id),
            kind="document",
            doc_number=doc.doc_number or "",
            title=doc.title,
            level=doc.level or "",
            jurisdiction=doc.jurisdiction or "",
            issued=doc.issued or "",
            placeholder=False,
        )
        for clause in doc.clauses:
            g.add_node(
                clause_node(clause.id),
                kind="clause",
                document_id=doc.id,
                path=clause.path,
                label=clause.label,
                heading=clause.heading or "",
                jurisdiction=doc.jurisdiction or "",
                level=doc.level or "",
            )
            parent = clause_node(clause.parent_id) if clause.parent_id else doc_node(doc.id)
            g.add_edge(parent, clause_node(clause.id), relation="contains")
    for rel in links.relations:
        target = rel.target_document_id or rel.target_doc_number
        if target is None:
            continue
        node = doc_node(target)
        if node not in g:
            place = places.classify_docno(target) if rel.target_doc_number else None
            g.add_node(
                node,
                kind="document",
                doc_number=rel.target_doc_number or "",
                title=rel.cited_title or "",
                level=place[0] if place else "",
                jurisdiction=place[1] if place else "",
                issued="",
                placeholder=True,
            )
        g.add_edge(doc_node(rel.source_document_id), node, relation=rel.relation, cited_title=rel.cited_title or "")
    for link in links.links:
        g.add_edge(
            clause_node(link.source_clause_id),
            clause_node(link.target_clause_id),
            relation=link.relation,
            score=link.score,
            why=link.evidence.get("why", ""),
        )
    return g


def _follow(g: nx.MultiDiGraph, start: str, outgoing: bool, relations: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """Breadth-first along clause relations: [(node, relation, distance)]."""
    seen = {start}
    frontier = [start]
    found = []
    distance = 0
    while frontier:
        distance += 1
        nxt = []
        for node in frontier:
            edges = g.out_edges(node, data=True) if outgoing else g.in_edges(node, data=True)
            for u, v, data in edges:
                other = v if outgoing else u
                if data.get("relation") in relations and other not in seen:
                    seen.add(other)
                    found.append((other, data["relation"], distance))
                    nxt.append(other)
        frontier = nxt
    return found


def ancestors(g: nx.MultiDiGraph, clause_id: str) -> list[tuple[str, str, int]]:
    """The provincial (and earlier) clauses a clause stands on, nearest first."""
    return [(n.removeprefix("clause:"), r, d) for n, r, d in _follow(g, clause_node(clause_id), True, CLAUSE_RELATIONS)]


def descendants(g: nx.MultiDiGraph, clause_id: str) -> list[tuple[str, str, int]]:
    """What the cities (and later notices) made of a clause, nearest first."""
    return [(n.removeprefix("clause:"), r, d) for n, r, d in _follow(g, clause_node(clause_id), False, CLAUSE_RELATIONS)]


def document_lineage(g: nx.MultiDiGraph, doc_id: str) -> list[tuple[str, str, int]]:
    """Notices a document implements, transitively (placeholders included)."""
    return [(n.removeprefix("doc:"), r, d) for n, r, d in _follow(g, doc_node(doc_id), True, ("implements",))]


def export_graphml(g: nx.MultiDiGraph, path: str) -> None:
    """GraphML for Gephi / yEd: attribute values must be scalars."""
    h = nx.MultiDiGraph()
    for node, data in g.nodes(data=True):
        h.add_node(node, **{k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v) for k, v in data.items()})
    for u, v, data in g.edges(data=True):
        h.add_edge(u, v, **{k: (json.dumps(x, ensure_ascii=False) if isinstance(x, (list, dict)) else x) for k, x in data.items()})
    nx.write_graphml(h, path)


def graph_from_db(conn) -> nx.MultiDiGraph:
    """The same graph, read back from a published knowledge base."""
    g = nx.MultiDiGraph()
    for doc_id, doc_number, title, level, jurisdiction, issued, placeholder in conn.execute(
        "select id, doc_number, title, level, jurisdiction, issued, placeholder from documents"
    ):
        g.add_node(
            doc_node(doc_id), kind="document", doc_number=doc_number or "", title=title or "", level=level or "",
            jurisdiction=jurisdiction or "", issued=issued or "", placeholder=bool(placeholder),
        )
    for cid, doc_id, parent_id, path, label, heading in conn.execute(
        "select id, document_id, parent_id, path, label, heading from clauses order by document_id, position"
    ):
        g.add_node(clause_node(cid), kind="clause", document_id=doc_id, path=path, label=label, heading=heading or "")
        g.add_edge(clause_node(parent_id) if parent_id else doc_node(doc_id), clause_node(cid), relation="contains")
    for src, target, relation, title in conn.execute(
        "select source_document_id, target_document_id, relation, cited_title from doc_relations where target_document_id is not null"
    ):
        g.add_edge(doc_node(src), doc_node(target), relation=relation, cited_title=title or "")
    for src, target, relation, score, why in conn.execute("select source_clause_id, target_clause_id, relation, score, why from links"):
        g.add_edge(clause_node(src), clause_node(target), relation=relation, score=score, why=why or "")
    return g

"""The policy graph: typed edges, lineage both ways, placeholders, GraphML export."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from kb.graph import ancestors, build_graph, descendants, document_lineage, export_graphml
from kb.link import link
from kb.parse import parse_corpus

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def graph():
    docs = parse_corpus(ROOT / "corpus").documents
    return build_graph(docs, link(docs))


def test_edge_types(graph):
    relations = {d["relation"] for _, _, d in graph.edges(data=True)}
    assert {"contains", "implements", "extends", "succeeds", "cites", "attaches"} <= relations


def test_ancestors_reach_through_succession(graph):
    found = {(c, r) for c, r, _ in ancestors(graph, "抚人社发〔2021〕20号:附件2/（十二）")}
    assert ("辽人社发〔2021〕7号:三/（十二）", "implements") in found
    assert ("辽政办发〔2020〕25号:三/（七）", "succeeds") in found


def test_descendants_show_what_the_cities_made_of_a_clause(graph):
    found = {c: r for c, r, _ in descendants(graph, "辽人社发〔2021〕7号:一/（一）")}
    assert found["抚人社发〔2021〕20号:一"] == "implements"
    assert found["抚人社发〔2021〕20号:附件2/（一）"] == "implements"


def test_placeholders_for_notices_not_in_the_corpus(graph):
    node = graph.nodes["doc:国办发〔2020〕27号"]
    assert node["placeholder"] is True and node["level"] == "national"
    lineage = [d for d, _, _ in document_lineage(graph, "大人社发〔2020〕391号")]
    assert lineage[:2] == ["辽政办发〔2020〕25号", "国办发〔2020〕27号"]


def test_graphml_round_trip(graph, tmp_path):
    path = tmp_path / "kb.graphml"
    export_graphml(graph, str(path))
    back = nx.read_graphml(path)
    assert back.number_of_nodes() == graph.number_of_nodes()
    assert back.number_of_edges() == graph.number_of_edges()

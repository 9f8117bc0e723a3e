"""The linker against the hand-read gold (tests/gold/links/*.toml, issue 26 item 7).

Every pair's lower and higher texts are parsed from /work/shared/realworld (the statutes) or
corpus/ (the seeds), linked together with the other real laws (so that boilerplate is learnt
from documents of other subjects, as in a real corpus), and scored article by article:

- a gold entry is a lower article (or a 款/项 carved out of it); a link counts for the entry
  whose path is the longest prefix of its source clause's path;
- its higher clauses are compared at article level (第十四条/（二） counts as 第十四条);
- precision and recall over (entry, higher article) pairs; relation accuracy over the entries
  the gold links and the linker links to at least one right article, the entry's relation
  being the strongest of its links' (overrides > extends > implements);
- a false ``overrides`` is one on an entry the gold does not call ``overrides``.

The figures are written to test-output/link_gold.json and printed (``pytest -s``).
"""

from __future__ import annotations

import json
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from kb.link import link
from kb.parse import parse_corpus, parse_file

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold" / "links"
REALWORLD = Path(__file__).resolve().parent.parent / "corpus"
PRECEDENCE = {"implements": 1, "extends": 2, "overrides": 3}

GOLD_FILES = sorted(p for p in GOLD.glob("*.toml"))


def _article(path: str) -> str:
    """The article (第十条) a statute path belongs to; a notice path is its own unit."""
    first = path.split("/")[0]
    return first if first.startswith("第") and first.endswith("条") else path


@pytest.fixture(scope="module")
def linked():
    """The corpus (seed notices and real laws) and any real law it lacks, linked in one run (parsed once for the module)."""
    corpus = ROOT / "corpus"
    documents = parse_corpus(corpus).documents
    for path in sorted(p for p in REALWORLD.glob("*.md") if p.name != "SOURCES.md" and not (corpus / p.name).exists()):
        documents += parse_file(path).documents  # the laws corpus/ does not hold (yet)
    return documents, link(documents)


def _score(gold: dict, documents, result) -> dict:
    pair = gold["pair"]
    lower, higher = pair["lower_document"], pair["higher_document"]
    entries = {a["lower"]: a for a in gold["article"]}
    predicted: dict[str, dict[str, str]] = defaultdict(dict)  # entry -> higher article -> strongest relation
    for l in result.links:
        if l.relation == "succeeds":
            continue
        source_doc, source_path = l.source_clause_id.split(":", 1)
        target_doc, target_path = l.target_clause_id.split(":", 1)
        if source_doc != lower or target_doc != higher:
            continue
        entry = max((e for e in entries if source_path == e or source_path.startswith(e + "/")), key=len, default=None)
        if entry is None:
            entry = _article(source_path)  # a clause the gold has no entry for: a false link of its article
        art = _article(target_path)
        old = predicted[entry].get(art)
        if old is None or PRECEDENCE[l.relation] > PRECEDENCE[old]:
            predicted[entry][art] = l.relation
    tp = fp = fn = 0
    right_relation = judged = 0
    false_overrides, misses, wrong = [], [], []
    for name in sorted(set(entries) | set(predicted)):
        g = entries.get(name, {"higher": [], "relation": "none"})
        gold_arts = {_article(h) for h in g["higher"]}
        found = predicted.get(name, {})
        hits = gold_arts & set(found)
        tp += len(hits)
        fp += len(set(found) - gold_arts)
        fn += len(gold_arts - set(found))
        if gold_arts - set(found) or set(found) - gold_arts:
            misses.append({"entry": name, "gold": sorted(gold_arts), "linked": sorted(found)})
        relation = max(found.values(), key=PRECEDENCE.get) if found else "none"
        if relation == "overrides" and g["relation"] != "overrides":
            false_overrides.append({"entry": name, "gold": g["relation"], "doubtful": bool(g.get("doubtful"))})
        if hits and g["relation"] != "none":
            judged += 1
            if relation == g["relation"]:
                right_relation += 1
            else:
                wrong.append({"entry": name, "gold": g["relation"], "linked": relation, "doubtful": bool(g.get("doubtful"))})
    return {
        "pair": f"{lower} → {higher}",
        "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
        "relation_accuracy": round(right_relation / judged, 3) if judged else 0.0,
        "true": tp,
        "false": fp,
        "missed": fn,
        "false_overrides": false_overrides,
        "wrong_relations": wrong,
        "link_errors": misses,
    }


@pytest.fixture(scope="module")
def report(linked):
    documents, result = linked
    ids = {d.id for d in documents}
    out = {}
    for path in GOLD_FILES:
        gold = tomllib.loads(path.read_text(encoding="utf-8"))
        if gold["pair"]["lower_document"] in ids and gold["pair"]["higher_document"] in ids:
            out[path.stem] = _score(gold, documents, result)
    (ROOT / "test-output").mkdir(exist_ok=True)
    (ROOT / "test-output" / "link_gold.json").write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    for name, r in out.items():
        print(f"{name}: P {r['precision']} R {r['recall']} relation {r['relation_accuracy']} false overrides {len(r['false_overrides'])}")
    return out


def test_every_gold_file_is_scored(report):
    assert GOLD_FILES, "no gold files"
    assert set(report) == {p.stem for p in GOLD_FILES}


# Floors: what the linker reaches today (see the report in test-output/link_gold.json); a change
# that lowers one fails here. The targets of issue 26 are higher (test_the_targets_of_issue_26).
FLOOR_PRECISION, FLOOR_RECALL, FLOOR_RELATION = 0.7, 0.3, 0.55


@pytest.mark.parametrize("name", [p.stem for p in GOLD_FILES])
def test_no_false_overrides(report, name):
    assert report[name]["false_overrides"] == []


@pytest.mark.parametrize("name", [p.stem for p in GOLD_FILES])
def test_floors(report, name):
    r = report[name]
    assert r["precision"] >= FLOOR_PRECISION and r["recall"] >= FLOOR_RECALL and r["relation_accuracy"] >= FLOOR_RELATION, r


@pytest.mark.xfail(reason="issue 26 targets (P ≥ 0.90, R ≥ 0.85, relation ≥ 0.85) not reached on statute paraphrase yet", strict=False)
@pytest.mark.parametrize("name", [p.stem for p in GOLD_FILES])
def test_the_targets_of_issue_26(report, name):
    r = report[name]
    assert r["precision"] >= 0.90 and r["recall"] >= 0.85 and r["relation_accuracy"] >= 0.85, r

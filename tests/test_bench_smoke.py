"""Smoke run of the benchmark: 100 synthetic notices through the whole build, into tmp_path.

The floors are measured, not wished for. At seed 7 and 100 notices the linker scored
precision 0.989, recall 0.989 and relation accuracy 0.993, and kept all 176 expected-unlinked
clauses unlinked. The misses are known linker weaknesses the corpus plants on purpose (a city
clause restating a provincial rule that an earlier provincial notice also holds: the bonus for
the notice the city names is lost when both score 1.0; a filled delegation read as extends).
A floor of 0.95 leaves room for noise from a change of generator or linker wording, and still
fails on a real regression: without localisation or with a broken candidate index, recall
falls far below it. Every truth id must be a clause id the parser produces: the generator
writes ids the parser will give, so a miss there is a bug in one of them.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "scripts" / "bench"
MAKE_CORPUS = ROOT / "scripts" / "make_corpus"

PRECISION_FLOOR = 0.95
RECALL_FLOOR = 0.95
RELATION_FLOOR = 0.95
UNLINKED_FLOOR = 0.95


@pytest.mark.bench
def test_bench_smoke(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "100", "--json", "--out", str(tmp_path),
         "--pairs-provincial", "2", "--pairs-city", "4", "--queries", "10", "--load-clients", "4", "--load-seconds", "3",
         "--history", str(tmp_path / "history.jsonl")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    (size,) = report["sizes"]
    assert size["notices"] == 100
    summary = size["generate"]["summary"]
    assert summary["counts"]["provincial"] == 25 and summary["counts"]["city"] == 75

    build = size["build"]
    assert "unavailable" not in build, build
    for figure in ("wall_seconds", "cpu_seconds", "peak_rss_mb", "db_mb"):
        assert build[figure] > 0, figure
    assert build["counts"]["clauses"] > 2000
    assert set(build["stages"]) >= {"parse", "link", "publish"}
    assert size["clauses_per_second"] > 0
    assert size["floor"]["rows"] > 0 and size["build_over_floor"] > 0

    links = size["links"]
    assert links["truth_ids_in_db"] == 1.0
    assert links["precision"] >= PRECISION_FLOOR, links
    assert links["recall"] >= RECALL_FLOOR, links
    assert links["relation_accuracy"] >= RELATION_FLOOR, links
    assert links["unlinked_kept"] >= UNLINKED_FLOOR * links["unlinked_expected"], links

    pairs = report["pairs"]
    assert "unavailable" not in pairs, pairs
    assert pairs["pairs_scored"] > 0 and pairs["linker_seconds"] > 0 and pairs["brute_force_seconds"] > 0

    # Latency parts either measured or say why not; they never crash the bench.
    for part in ("governs", "search"):
        result = report["latency"][part]
        assert "unavailable" in result or (result["median_ms"] > 0 and result["p95_ms"] >= result["median_ms"]), result

    # The load test runs twice, with the server's page cache and without it.
    for key in ("load", "load_uncached"):
        load = report[key]
        assert "unavailable" not in load, load
        assert load["overall"]["requests"] > 0 and load["overall"]["errors"] == 0, load

    # The machine's speed on a fixed workload, before and after, so that runs can be compared.
    machine = report["machine"]
    assert machine["reference_seconds_at_start"] > 0 and machine["reference_seconds_at_end"] > 0

    # The history is one machine-readable line per run, naming what it measured.
    (line,) = (tmp_path / "history.jsonl").read_text(encoding="utf-8").splitlines()
    history = json.loads(line)
    assert history["sizes"][0]["build_s"] == build["wall_seconds"] and history["commit"]
    assert history["sizes"][0]["precision"] == links["precision"]

    text = (tmp_path / "report.txt").read_text(encoding="utf-8")
    assert f"machine reference (a fixed workload, not kb's code; lower is faster): {machine['reference_seconds_at_start']} s" in text
    for words in ("clauses/s", "peak RSS", "precision", "recall", "build/floor", "linker vs brute force", "page cache off"):
        assert words in text


def _digest(out: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((out / "corpus").iterdir()):
        h.update(path.name.encode() + path.read_bytes())
    h.update((out / "truth.jsonl").read_bytes())
    return h.hexdigest()


@pytest.mark.bench
def test_make_corpus_is_deterministic_for_a_seed(tmp_path):
    digests = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        subprocess.run([sys.executable, str(MAKE_CORPUS), "--notices", "40", "--out", str(tmp_path / name), "--seed", str(seed)],
                       check=True, capture_output=True, cwd=ROOT)
        digests.append(_digest(tmp_path / name))
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]
    truth = [json.loads(line) for line in (tmp_path / "a" / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {t["relation"] for t in truth} == {"implements", "extends", "overrides", None}
    assert all(set(t) >= {"source_clause_id", "target_clause_id", "relation"} for t in truth)
    # No manifest: every file must parse from its own text.
    assert not (tmp_path / "a" / "corpus" / "manifest.toml").exists()

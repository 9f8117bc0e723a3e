"""Connections that only read the knowledge base map it into memory (kb.search.prepare_reader)."""

from __future__ import annotations

from kb.cli import _connect
from kb.search import READ_MMAP_BYTES


def test_the_cli_reads_the_database_memory_mapped(kb_db_path):
    conn = _connect(str(kb_db_path))
    try:
        assert conn.execute("pragma mmap_size").fetchone()[0] > 0
        assert conn.execute("select count(*) from clauses").fetchone()[0] > 0
    finally:
        conn.close()


async def test_datasette_reads_the_database_memory_mapped(ds):
    db = ds.get_database("kb")
    size = await db.execute_fn(lambda conn: conn.execute("pragma mmap_size").fetchone()[0])
    assert size == min(size, READ_MMAP_BYTES) and size > 0

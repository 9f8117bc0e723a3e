"""A server on a database that ``kb build`` replaces answers from the new file, whole.

Before issue 30 each of Datasette's SQL threads kept the connection it opened first, so after a
rebuild a server answered some requests from the old file and some from the new (and the
plugin's kept pages stayed old). Real builds, a real Datasette on the file (immutable, as
``kb serve`` opens it), concurrent requests through its client.
"""

from __future__ import annotations

import asyncio
import contextvars
import shutil
from pathlib import Path

from datasette.app import Datasette

from kb.publish import build

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
P25_FILE = "2020-11-01_liaoning_ln-zhengbanfa-2020-25_preview.txt"
DL_FILE = "2020-11-24_dalian_dl-renshefa-2020-391_truncated.txt"
COUNT = "/kb.json?sql=select+count(*)+as+n+from+documents+where+placeholder+%3D+0&_shape=array"
SEARCH = "/-/kb/search.json?q=%E5%B0%B1%E4%B8%9A"  # 就业: a term of every notice


async def _counts(ds: Datasette, times: int) -> list[int]:
    """The documents each of several concurrent requests sees."""

    async def count() -> int:
        response = await ds.client.get(COUNT)
        assert response.status_code == 200, response.text
        return response.json()[0]["n"]

    return await asyncio.gather(*(count() for _ in range(times)))


async def test_rebuilt_database_is_reopened_whole(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / DL_FILE, corpus / DL_FILE)
    db_path = tmp_path / "kb.db"
    build(corpus, db_path, workers=1)
    ds = Datasette(immutables=[str(db_path)])
    threads = ds.setting("num_sql_threads")
    # every SQL thread has opened its connection (requests at once take them all)
    assert await _counts(ds, 4 * threads) == [1] * (4 * threads)
    old_search = (await ds.client.get(SEARCH)).json()  # a page the plugin keeps

    shutil.copy(CORPUS / P25_FILE, corpus / P25_FILE)
    build(corpus, db_path, workers=1)  # as kb build does: a new file moved over the served one

    assert await _counts(ds, 4 * threads) == [2] * (4 * threads)
    new_search = (await ds.client.get(SEARCH)).json()
    fresh = Datasette(immutables=[str(db_path)])  # what a server started now answers
    assert new_search == (await fresh.client.get(SEARCH)).json() != old_search


async def test_a_request_running_at_the_swap_reads_only_the_old_file(tmp_path):
    """A CSV streamed in pages (one query per 10 rows) while the file is replaced: every row
    comes from the file the request started on; a request that starts meanwhile waits, then
    reads the new file."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / DL_FILE, corpus / DL_FILE)
    old_path, db_path = tmp_path / "old.db", tmp_path / "kb.db"
    build(corpus, old_path, workers=1)
    shutil.copy(CORPUS / P25_FILE, corpus / P25_FILE)
    build(corpus, db_path, workers=1)  # the new database, to be moved over the served one
    new_path = tmp_path / "new.db"
    db_path.rename(new_path)
    old_path.rename(db_path)
    ds = Datasette(immutables=[str(db_path)], settings={"max_returned_rows": 10, "allow_csv_stream": True})
    app = ds.app()
    old_clauses = (await ds.client.get("/kb/clauses.json?_size=0")).json()["filtered_table_rows_count"]
    body: list[bytes] = []
    later: list[asyncio.Task] = []

    async def send(message):
        if message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if len(body) == 1:  # the first page is out: kb build lands now, and another request comes
                new_path.replace(db_path)
                # another connection: a task of its own, in a context of its own (as the server starts it)
                later.append(asyncio.create_task(ds.client.get("/kb/clauses.json?_size=0"), context=contextvars.Context()))
                await asyncio.sleep(0.05)

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/kb/clauses.csv",
        "raw_path": b"/kb/clauses.csv",
        "query_string": b"_stream=1&_size=max&_col=id",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1),
        "server": ("localhost", 80),
    }
    await app(scope, receive, send)
    rows = b"".join(body).decode("utf-8").strip().splitlines()[1:]
    assert len(body) > 2 and len(rows) == old_clauses  # many pages, every one from the old file
    new_clauses = (await later[0]).json()["filtered_table_rows_count"]
    assert new_clauses > old_clauses

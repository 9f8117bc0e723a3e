"""A server on a database that ``kb build`` replaces answers from the new file, whole.

Before issue 30 each of Datasette's SQL threads kept the connection it opened first, so after a
rebuild a server answered some requests from the old file and some from the new (and the
plugin's kept pages stayed old). Real builds, a real Datasette on the file (immutable, as
``kb serve`` opens it), concurrent requests through its client.
"""

from __future__ import annotations

import asyncio
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

"""A served database replaced by ``kb build`` is reopened whole, between requests.

``kb build`` writes a new file and moves it over the old one (``os.replace``): the path names
the new file, while connections opened before go on reading the old one. Datasette opens one
connection per SQL thread, lazily, by path, so after a rebuild a server mixed the two: some
threads answered from the old file, others from the new, and one page's queries could read
both (693 and 268 requests of one run, with no warning).

So for each immutable database Datasette serves, this module keeps the identity of the file its
connections were opened on (device, inode, size, modification time). Every HTTP request first
compares it with the file at the path (one ``stat``). When they differ, the request waits while
the server changes files: requests already running finish on the old connections; then, with
none running, every SQL thread closes its connection and opens one on the new file, at the
same moment (a barrier keeps each opening on a thread of its own), the plugin's kept pages and
lists are dropped, and the new identity is recorded. If the file changed again meanwhile, it
starts over. A request therefore reads one file from its first query to its last.

Not handled here: mutable databases (Datasette reads them as they change, by design) and
Datasette's non-threaded mode (``num_sql_threads: 0``, one connection opened on first use).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import threading
import weakref
from contextlib import asynccontextmanager
from typing import Any

from datasette import hookimpl
from datasette.database import Database, connections

# How long a reopening waits for each SQL thread to be free before it gives up (and the request
# that found the new file gets Datasette's error page): a thread is busy only with a request
# that is still running, and requests are waited for before this.
_THREAD_WAIT_SECONDS = 30.0

_log = logging.getLogger(__name__)

# Set while a request runs, so a request made inside it does not wait for it to finish.
_INSIDE: contextvars.ContextVar[bool] = contextvars.ContextVar("kb_inside_request", default=False)


def _identity(path: str) -> tuple[int, int, int, int] | None:
    """The file at path as the file system knows it; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class _Watch:
    """The files one Datasette's immutable databases were opened on, and the requests running."""

    def __init__(self, datasette: Any):
        self.datasette = datasette
        self.opened: dict[str, tuple[int, int, int, int] | None] = {}  # database name -> identity
        self.running = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.changing = asyncio.Lock()

    def _watched(self) -> list[Database]:
        return [db for db in self.datasette.databases.values() if not db.is_mutable and not db.is_memory and db.path]

    def _stale(self) -> bool:
        watched = self._watched()
        if not self.opened:
            return bool(watched)  # connections may predate this watch (startup hooks): open them once
        # A file that is gone (removed, or between a rename and its replacement) is not a new
        # file: the open connections go on serving the one they have.
        return any((now := _identity(db.path)) is not None and now != self.opened.get(db.name) for db in watched)

    @asynccontextmanager
    async def request(self):
        if _INSIDE.get():  # a request a view makes (datasette.client): it reads what its caller reads
            yield
            return
        while self._stale():
            await self._reopen()
        token = _INSIDE.set(True)
        self.running += 1
        self.idle.clear()
        try:
            yield
        finally:
            _INSIDE.reset(token)
            self.running -= 1
            if self.running == 0:
                self.idle.set()

    async def _reopen(self) -> None:
        async with self.changing:
            if not self._stale():  # another request reopened while this one waited
                return
            await self.idle.wait()  # requests reading the old file finish first
            ds = self.datasette
            names = [db.name for db in self._watched()]
            before = {db.name: _identity(db.path) for db in self._watched()}
            fresh = []
            for name in names:
                old = ds.databases[name]
                db = Database(ds, path=old.path, is_mutable=False)
                ds.remove_database(name)  # add_database would pick another name while it is there
                ds.add_database(db, name=name, route=old.route)
                fresh.append(db)
            if ds.executor is not None:
                await self._reconnect_threads(fresh)
            if self.opened:  # (not the first opening)
                _log.warning("kb serve: %s replaced on disk (kb build): reopened", ", ".join(db.path for db in fresh))
            self.opened = before  # if the file changed while opening, the next request starts over
            _forget_pages(ds)

    async def _reconnect_threads(self, dbs: list[Database]) -> None:
        """On every SQL thread at once, close the connections to these databases' old files and
        open new ones (a thread that opened lazily later could meet a newer file)."""
        ds = self.datasette
        threads = ds.setting("num_sql_threads")
        everyone = threading.Barrier(threads)

        def on_thread() -> None:
            everyone.wait(_THREAD_WAIT_SECONDS)  # all threads hold a task: each task has its own
            for db in dbs:
                old = getattr(connections, db.name, None)
                if old is not None:
                    old.close()
                conn = db.connect()
                ds._prepare_connection(conn, db.name)
                setattr(connections, db.name, conn)

        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(ds.executor, on_thread) for _ in range(threads)))


def _forget_pages(datasette: Any) -> None:
    """Drop the pages and lists the plugin kept from the old file."""
    from . import _PAGES

    _PAGES.pop(datasette, None)


_WATCHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Datasette -> {event loop: _Watch}


def _watch(datasette: Any) -> _Watch:
    """One watch per Datasette and event loop (its lock and event belong to a loop)."""
    watches = _WATCHES.setdefault(datasette, weakref.WeakKeyDictionary())
    loop = asyncio.get_running_loop()
    if loop not in watches:
        watches[loop] = _Watch(datasette)
    return watches[loop]


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def watched(scope, receive, send):
            if scope["type"] != "http":
                return await app(scope, receive, send)
            async with _watch(datasette).request():
                return await app(scope, receive, send)

        return watched

    return wrap

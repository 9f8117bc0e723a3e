"""``/-/kb/diff?a=…&b=…`` (HTML), ``/-/kb/diff.json`` and ``/-/kb/diff.csv``: a citable diff.

The permalink names two things *in the knowledge base*: a document id or 文号 (its latest
version), ``文号@N`` (version N), ``文号@YYYY-MM-DD`` (the version of that date) or a clause id
(``文号:path``). The server never opens a file named by a request: ``kb.diff.resolve_side`` is
called with ``allow_files=False``, so ``a=secrets.env``, ``a=kb.db`` or ``a=../x`` are looked up
as ids, are not found, and answer 404 with a message that repeats only what was asked. Files are
for the command line (``kb diff FILE FILE``).

Bad parameters (missing, too long, control characters) answer 400 with a message.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from datasette.utils.asgi import Response
from markupsafe import Markup

from ..errors import KbError, NotFoundError

MAX_SPEC = 300  # characters: the longest id or clause id a knowledge base holds is far shorter
# What a spec may not contain: control characters (a NUL, a newline) are never part of an id.
_BAD_CHARS = re.compile(
    r"""
    [\x00-\x1f\x7f]   # C0 controls and DEL
    """,
    re.VERBOSE,
)


def diff_url(a: str, b: str, fmt: str = "") -> str:
    """The permalink of a diff; fmt "" (HTML), ".json" or ".csv". Pages link to it with this."""
    return f"/-/kb/diff{fmt}?" + urlencode({"a": a, "b": b})


def _check(name: str, value: str) -> str | None:
    if not value:
        return f"{name} is missing: give a document id or 文号, 文号@N, 文号@YYYY-MM-DD or a clause id (文号:path)"
    if len(value) > MAX_SPEC:
        return f"{name} is {len(value)} characters long; an id is at most {MAX_SPEC}"
    if _BAD_CHARS.search(value):
        return f"{name} contains a control character; ids never do"
    return None


async def diff_view(datasette, request):
    from .. import diff as kb_diff
    from . import _database, _render, clause_url

    fmt = request.url_vars.get("format") or ""
    a = (request.args.get("a") or "").strip()
    b = (request.args.get("b") or "").strip()
    asked = "a" in request.args or "b" in request.args
    report, error, status = None, None, 200
    if asked or fmt:
        error = _check("a", a) or _check("b", b)
        status = 400 if error else 200
    if (asked or fmt) and not error:
        db = await _database(datasette)
        try:
            report = await db.execute_fn(lambda conn: kb_diff.diff_specs(conn, a, b, allow_files=False))
        except NotFoundError as e:
            error, status = str(e), 404
        except KbError as e:
            error, status = str(e), 400
    if fmt == ".json":
        if error:
            return Response.json({"ok": False, "error": error, "status": status}, status=status)
        data = report.to_dict()
        data["permalink"] = datasette.urls.path(diff_url(a, b))
        return Response.json(data)
    if fmt == ".csv":
        if error:
            return Response.text(f"error: {error}\n", status=status)
        filename = re.sub(r"[^\w@.-]+", "_", f"diff_{a}_{b}")[:120] + ".csv"
        return Response(
            kb_diff.to_csv(report),
            content_type="text/csv; charset=utf-8",
            headers={"content-disposition": f"attachment; filename*=UTF-8''{filename}"},
        )
    changed, articles, linked = [], [], []
    if report is not None:
        for r in report.linked:
            linked.append(
                {
                    "link": r,
                    "old_html": Markup(kb_diff.side_html(r["provincial"], r["spans"], "old")),
                    "new_html": Markup(kb_diff.side_html(r["city"], r["spans"], "new")),
                    "provincial_url": clause_url(r["provincial_clause_id"]),
                    "city_url": clause_url(r["city_clause_id"]),
                }
            )
        for entry in report.changed:
            changed.append(
                {
                    "entry": entry,
                    "old_html": Markup(kb_diff.side_html(entry.old or "", entry.spans, "old")),
                    "new_html": Markup(kb_diff.side_html(entry.new or "", entry.spans, "new")),
                    "old_url": clause_url(entry.old_clause_id) if entry.old_clause_id else None,
                    "new_url": clause_url(entry.new_clause_id) if entry.new_clause_id else None,
                }
            )
        for row in kb_diff.article_rows(report):
            group = row["entry"]
            row["old_html"], row["new_html"] = Markup(row["old_html"]), Markup(row["new_html"])
            row["old_url"] = clause_url(group.old_clause_ids[0]) if group.old_clause_ids and group.old_clause_ids[0] else None
            row["new_url"] = clause_url(group.new_clause_ids[0]) if group.new_clause_ids and group.new_clause_ids[0] else None
            articles.append(row)
    return await _render(
        datasette,
        request,
        "kb_diff.html",
        {
            "a": a,
            "b": b,
            "report": report,
            "header": kb_diff.header_rows(report) if report else [],
            "summary": kb_diff.summary_line(report) if report else "",
            "changed": changed,
            "articles": articles,
            "linked": linked,
            "changed_headings": [h for h in report.headings if h["status"] != "unchanged"] if report else [],
            "error": error,
            "json_url": diff_url(a, b, ".json") if report else None,
            "csv_url": diff_url(a, b, ".csv") if report else None,
            "permalink": diff_url(a, b) if report else None,
        },
        status=status,
    )


async def document_versions(db, document_id: str) -> list[dict]:
    """A document's versions for its page: date, source, derived or not, and the permalink that
    compares each with the one before it (``diff_url``). Derived versions (an amendment decision
    applied) are compared with the version they were derived from."""
    import json

    result = await db.execute("select * from document_versions where document_id = :id order by version", {"id": document_id})
    rows = [dict(r) for r in result.rows]
    previous = None
    for row in rows:
        derived = str(row.get("ordered_by") or "").startswith("derived")
        row["derived"] = derived
        base = None
        if derived:
            try:
                base = (json.loads(row.get("changes") or "{}") or {}).get("derived_from")
            except ValueError:
                base = None
        elif previous is not None:
            base = previous
        row["compare_url"] = diff_url(f"{document_id}@{base}", f"{document_id}@{row['version']}") if base else None
        row["compare_with"] = base
        if not derived:
            previous = row["version"]
    return rows

"""The Datasette app ``kb serve`` runs, and an ASGI factory for uvicorn's worker processes.

uvicorn starts each worker process by importing the app, so with ``--workers`` above one
``kb serve`` puts its options in the environment and runs ``kb.datasette_plugin.asgi:app`` as a
factory: every worker builds the same Datasette from ``KB_SERVE_DB`` (served immutable),
``KB_SERVE_METADATA`` (metadata.yml; empty for none) and ``KB_SERVE_CACHE_MB`` (the page cache of
each process, in MB). Datasette runs its startup hooks on a worker's first request.
"""

from __future__ import annotations

import os
from pathlib import Path

from datasette.app import Datasette

ENV_DB = "KB_SERVE_DB"
ENV_METADATA = "KB_SERVE_METADATA"
ENV_CACHE_MB = "KB_SERVE_CACHE_MB"


def datasette(db_path: str | Path, metadata_path: str | Path | None, cache_mb: float | None = None) -> Datasette:
    """Datasette on db_path (immutable) with metadata.yml; cache_mb overrides ``plugins: kb: cache_mb``."""
    from ..cli import load_metadata

    metadata = load_metadata(metadata_path, db_path)
    if cache_mb is not None:
        plugins = metadata.setdefault("plugins", {}) or {}
        metadata["plugins"] = plugins
        plugins["kb"] = dict(plugins.get("kb") or {}, cache_mb=cache_mb)
    return Datasette(immutables=[str(db_path)], metadata=metadata)


def app():
    """The ASGI app of one worker, from the environment ``kb serve`` set."""
    cache_mb = os.environ.get(ENV_CACHE_MB)
    ds = datasette(os.environ[ENV_DB], os.environ.get(ENV_METADATA) or None, float(cache_mb) if cache_mb else None)
    return ds.app()

"""The embedded PostgreSQL used when DATABASE_URL is unset (development and tests).

The server lives under ``var/pgdata`` and is shared by every process that asks for
it; ``pgserver`` counts the processes holding it and stops the server when the last
one exits, so ``make run`` and ``make test`` leave nothing running behind them.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "qrcards"

logger = logging.getLogger(__name__)


def embedded_database_url(var_dir: Path) -> str:
    """Start (or join) the embedded server and return a URL for its ``qrcards`` database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

    var_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(var_dir / "pgdata", cleanup_mode="stop")
    info = server.get_postmaster_info()
    host = quote(str(info.socket_dir), safe="")
    create_database_if_missing(f"postgresql://postgres@{host}/postgres", DATABASE_NAME)
    return f"postgresql://postgres@{host}/{DATABASE_NAME}"


def create_database_if_missing(maintenance_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            logger.info("created database %s", name)


def ensure_database_exists(url: str) -> None:
    """Create the database named in `url` on its server if it isn't there yet."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if name and name != "postgres":
        create_database_if_missing(urlunsplit(parts._replace(path="/postgres")), name)

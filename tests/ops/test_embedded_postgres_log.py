"""The embedded PostgreSQL logs errors without their details and statements: a duplicate ID number's
`Key (id_number)=(...) already exists` and the INSERT with its values never reach the server's log."""

import psycopg
import pytest

from hardship.embedded_db import LOG_SETTINGS, embedded_database, stop_embedded_database

ID_NUMBER = "41010219750102003X"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("embedded") / "pgdata"
    database = embedded_database(data_dir)
    yield data_dir, database
    stop_embedded_database(data_dir)


def connect(database: dict) -> psycopg.Connection:
    return psycopg.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                           dbname=database["NAME"], autocommit=True)


def settings_of(database: dict) -> dict[str, str]:
    with connect(database) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in LOG_SETTINGS}


def test_a_new_server_logs_tersely_and_without_statements(server):
    _, database = server

    assert settings_of(database) == {"log_error_verbosity": "terse", "log_min_error_statement": "panic",
                                     "log_statement": "none"}


def test_the_settings_are_put_back_when_a_running_server_is_reused(server):
    data_dir, database = server
    with connect(database) as conn:
        conn.execute("ALTER SYSTEM RESET ALL")
        conn.execute("SELECT pg_reload_conf()")

    embedded_database(data_dir)

    assert settings_of(database)["log_error_verbosity"] == "terse"


def test_a_duplicate_id_number_leaves_no_trace_in_the_server_log(server):
    data_dir, database = server
    with connect(database) as conn:
        conn.execute("CREATE TABLE person (id_number varchar(18) UNIQUE)")
        conn.execute("INSERT INTO person VALUES (%s)", [ID_NUMBER])
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO person VALUES (%s)", [ID_NUMBER])

    log = (data_dir / "log").read_text()
    assert "duplicate key value violates unique constraint" in log
    assert ID_NUMBER not in log

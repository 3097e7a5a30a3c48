"""Real PostgreSQL and MariaDB servers for the tests, one of each per test session.

Each server runs from Debian's binaries on 127.0.0.1, on a free port, in a data folder of its
own, as a non-root user (both refuse to run as root), and is stopped when the session ends.
``make test`` installs the binaries when they are missing. Without them a test marked
``database`` is skipped with the reason, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: Seconds a server gets to accept connections.
START_TIMEOUT = 60.0


def _missing(what: str) -> None:
    """Skip the test, or fail it in CI, where the servers must be there."""
    message = f"{what} (run `make test`, which installs it from Debian's packages)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_user(preferred: str) -> str | None:
    """The account a server runs as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in (preferred, "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError(f"no {preferred!r} or 'nobody' account to run the database server as")


def _as_user(user: str | None) -> dict[str, Any]:
    """Popen/run keywords that drop root to ``user`` (the servers refuse to run as root)."""
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


def _data_folder(prefix: str, user: str | None) -> Path:
    """A folder below /tmp that ``user`` owns (pytest's own folders are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    if user:
        account = pwd.getpwnam(user)
        os.chown(folder, account.pw_uid, account.pw_gid)
    return folder


def _wait(ready: Callable[[], bool], server: subprocess.Popen[bytes], log: Path, name: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.returncode}:\n{_tail(log)}")
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not accept connections in {START_TIMEOUT:.0f}s:\n{_tail(log)}")


def _tail(log: Path) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-20:]) if log.exists() else ""


def _accepts(port: int) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    return ready


def _stop(server: subprocess.Popen[bytes], folder: Path) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
    shutil.rmtree(folder, ignore_errors=True)


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries on the machine, if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version_key(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _sqlalchemy_ready(url: str) -> Callable[[], bool]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    def ready() -> bool:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False
        finally:
            engine.dispose()

    return ready


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh PostgreSQL server (database ``postgres``, user ``postgres``)."""
    bindir = postgres_bin()
    if bindir is None:
        _missing("PostgreSQL server binaries (initdb, postgres) are not installed")
    assert bindir is not None
    user = _server_user("postgres")
    folder = _data_folder("medallion-pg-", user)
    data, log, port = folder / "data", folder / "server.log", _free_port()
    subprocess.run(
        [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
        cwd=folder,
        **_as_user(user),
    )
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(bindir / "postgres"),
                *("-D", str(data), "-p", str(port), "-k", str(folder)),
                *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"),
                *("-c", "full_page_writes=off", "-c", "shared_buffers=16MB"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            **_as_user(user),
        )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    try:
        _wait(_sqlalchemy_ready(url), server, log, "PostgreSQL")
        yield url
    finally:
        _stop(server, folder)


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """A SQLAlchemy URL of a fresh MariaDB server, connected as ``root`` without a password."""
    mariadbd = shutil.which("mariadbd") or (
        "/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").exists() else None
    )
    install_db = shutil.which("mariadb-install-db")
    if mariadbd is None or install_db is None:
        _missing("MariaDB server binaries (mariadbd, mariadb-install-db) are not installed")
    assert mariadbd is not None and install_db is not None
    user = _server_user("mysql")
    folder = _data_folder("medallion-mariadb-", user)
    data, log, port = folder / "data", folder / "error.log", _free_port()
    # Started as root, mariadbd switches to --user itself (and refuses root without it).
    owner = [f"--user={user}"] if user else []
    subprocess.run(
        [
            install_db,
            "--no-defaults",
            f"--datadir={data}",
            *owner,
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    with (folder / "stdout.log").open("wb") as out:
        server = subprocess.Popen(
            [
                mariadbd,
                "--no-defaults",
                f"--datadir={data}",
                *owner,
                f"--port={port}",
                "--bind-address=127.0.0.1",
                f"--socket={folder / 'mariadb.sock'}",
                f"--pid-file={folder / 'mariadb.pid'}",
                f"--log-error={log}",
                "--skip-name-resolve",
                "--skip-grant-tables",
                "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=8M",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"mysql+pymysql://root@127.0.0.1:{port}/"
    try:
        _wait(_accepts(port), server, log, "MariaDB")
        _wait(_sqlalchemy_ready(url), server, log, "MariaDB")
        yield url
    finally:
        _stop(server, folder)

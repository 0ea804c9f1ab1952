"""A throwaway PostgreSQL cluster for the test session.

Started from the server binaries where they are installed (Debian's ``postgresql``
package; ``.ci/run`` installs it), on a free local port, in a temporary folder; stopped
and removed at the end. initdb refuses to run as root, so as root the cluster runs as
the ``postgres`` system user the package creates. (pytest-postgresql starts clusters the
same way but cannot run them as root, which CI is.)
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


class Cluster:
    def __init__(self) -> None:
        bindir = binaries()
        if bindir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="workbench-pg-"))
        self.data = self.folder / "data"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--locale=C")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "log"),
                  "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                  "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c max_connections=200", "start")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"
        self._count = 0

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.as_user, str(self.bindir / tool), *args], check=True,
                       capture_output=True, timeout=120)

    def _admin(self, sql: str) -> None:
        import psycopg

        deadline = time.time() + 30
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                                     dbname="postgres", autocommit=True) as conn:
                    conn.execute(sql)
                return
            except psycopg.errors.ObjectInUse:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    def new_database(self, template: str | None = None) -> str:
        """A fresh, empty database (or a copy of ``template``); returns its URL."""
        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        self._admin(f'CREATE DATABASE "{name}"'
                    + (f' TEMPLATE "{template}"' if template else ""))
        return f"{self.url}/{name}"

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)

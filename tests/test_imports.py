from __future__ import annotations

from pathlib import Path

import pytest

from workbench.errors import InvalidInput
from workbench.imports import import_file
from workbench.store import Store

from .cli import run


def test_each_kind_of_file_goes_to_its_reader(store: Store, tmp_path: Path):
    codebook = tmp_path / "tags.csv"
    codebook.write_text("tag,description\nhousing,Homes\n", encoding="utf-8")
    assert import_file(store, codebook).codes == 1
    with pytest.raises(InvalidInput, match=r"notes\.txt: import reads \.qdpx"):
        import_file(store, tmp_path / "notes.txt")


def test_the_command_line_says_what_it_reads(tmp_path: Path, db_url: str):
    path = tmp_path / "project.nvp"
    path.write_bytes(b"not ours")
    res = run("import", str(path), "--db", db_url, cwd=tmp_path)
    assert res.returncode == 1  # bad input, as for any file that cannot be read
    assert res.stderr.strip() == ("error: project.nvp: import reads .qdpx, .qdc (REFI-QDA), "
                                  ".sqlite3 or .csv (Taguette), not .nvp")

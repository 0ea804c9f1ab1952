"""What a ZIP's entries inflate to, counted as they are read."""

import zipfile

import pytest

from workbench.archives import InflateBudget, Inflated

MB = 1 << 20


def _zip(path, sizes):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, size in enumerate(sizes):
            z.writestr(f"part{n}.xml", b"a" * size)
    return zipfile.ZipFile(path)


def test_entries_within_the_budget_are_read_whole(tmp_path):
    archive = _zip(tmp_path / "ok.zip", [MB, MB // 2])
    budget = InflateBudget(2 * MB)
    assert [len(budget.read(archive, i)) for i in archive.infolist()] == [MB, MB // 2]
    assert budget.read(archive, archive.infolist()[0], keep=False) == b""


def test_an_entry_past_its_limit_is_refused_with_the_setting(tmp_path):
    archive = _zip(tmp_path / "big.zip", [3 * MB])
    with pytest.raises(Inflated, match=r"^part0.xml inflates to more than 2 MB "
                                       r"\(WORKBENCH_MAX_FILE_MB sets the limit\)$"):
        InflateBudget(2 * MB).read(archive, archive.infolist()[0])


def test_entries_past_five_limits_in_all_are_refused(tmp_path):
    archive = _zip(tmp_path / "many.zip", [int(1.5 * MB)] * 8)
    budget = InflateBudget(2 * MB)
    with pytest.raises(Inflated, match=r"^the archive inflates to more than 10 MB in all"):
        for info in archive.infolist():
            budget.read(archive, info, keep=False)

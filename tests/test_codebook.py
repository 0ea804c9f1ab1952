from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from workbench import codebook as cb


def test_the_codebook_validates_and_keeps_the_specified_ids():
    book = cb.load()
    assert book.ids == list(cb.SPEC)
    assert {c.group for c in book.codes} == {"FP", "OB", "RE"}
    for code in book.codes:
        assert code.name == cb.SPEC[code.id]
        assert code.definition and code.when_to_use and code.when_not_to_use
        assert code.indicators and code.examples
    # the frequent confusions are named both ways
    for a, b in [("OB01", "OB02"), ("FP02", "RE11"), ("FP04", "RE12"), ("FP08", "RE10"),
                 ("OB07", "OB08"), ("OB04", "OB11")]:
        assert b in book.get(a).confused_with and a in book.get(b).confused_with


def _write(tmp_path: Path, mutate) -> Path:
    raw = tomllib.loads(cb.DEFAULT_CODEBOOK.read_text(encoding="utf-8"))
    mutate(raw)
    import json

    # a TOML writer is not needed: the loader reads TOML, so emit TOML by hand-safe JSON
    lines = ["[codebook]", f"name = {json.dumps(raw['codebook']['name'])}",
             f"version = {json.dumps(raw['codebook']['version'])}"]
    for g in raw["group"]:
        lines += ["[[group]]", f"id = {json.dumps(g['id'])}", f"name = {json.dumps(g['name'])}"]
    for c in raw["code"]:
        lines.append("[[code]]")
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in c.items()]
    path = tmp_path / "codebook.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_problems_are_listed(tmp_path):
    def mutate(raw):
        raw["code"][0]["name"] = "Day one"
        raw["code"][1]["confused_with"] = ["ZZ99"]
        del raw["code"][2]["definition"]
        raw["code"] = [c for c in raw["code"] if c["id"] != "RE12"]

    with pytest.raises(cb.CodebookError) as info:
        cb.load(_write(tmp_path, mutate))
    message = str(info.value)
    assert "FP01 is named 'Day one'" in message
    assert "unknown code ZZ99" in message
    assert "FP03 lacks definition" in message
    assert "RE12 (Secure housing and basic services) is missing" in message


def test_not_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[[code]\nid = ", encoding="utf-8")
    with pytest.raises(cb.CodebookError, match="not valid TOML"):
        cb.load(path)


def test_versions_only_for_changed_codes(store, tmp_path):
    first, changed = store.load_codebook(cb.load())
    assert first is not None and len(changed) == 36
    again, none = store.load_codebook(cb.load())
    assert again is None and none == []

    def mutate(raw):
        raw["code"][4]["definition"] += " Revised after the pilot."

    second, changed = store.load_codebook(cb.load(_write(tmp_path, mutate)))
    assert second is not None and changed == ["FP05"]
    versions = {c.id: c.version for c in store.codes()}
    assert versions["FP05"] == 2 and versions["FP04"] == 1
    assert len(store.code_versions()) == 36


def test_user_codes(store):
    store.load_codebook(cb.load())
    store.add_user_code(cb.user_code("xx01", "Climate migration", "XX", "Moves caused by climate.",
                                     ["drought"]))
    assert "XX01" in {c.id for c in store.codes()}
    with pytest.raises(cb.CodebookError):
        cb.user_code("FP01", "Mine", "FP", "Taken")
    with pytest.raises(ValueError, match="exists already"):
        store.add_user_code(cb.user_code("XX01", "Again", "XX", "Dup"))


def test_examples_quoted_from_a_held_out_text_are_withheld():
    from workbench.codebook import without_examples_in

    book = cb.load()
    code = book.get("OB09")
    quoted = code.examples[0]
    text = "Some words before. " + quoted.upper().replace(",", " ,") + " And after."
    [kept] = without_examples_in([code], [text])
    assert quoted not in kept.examples and len(kept.examples) == len(code.examples) - 1
    [same] = without_examples_in([code], ["Nothing of the kind."])
    assert same is code

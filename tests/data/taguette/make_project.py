"""Make project.sqlite3: a Taguette project written by Taguette's own code.

    python -m venv /tmp/tag && /tmp/tag/bin/pip install taguette==1.5.2
    /tmp/tag/bin/python tests/data/taguette/make_project.py

Taguette cannot share the workbench's environment (it needs SQLAlchemy 1.4), so its file
is made once and kept here. The steps are those of Taguette's web handlers: documents are
converted to HTML by ``convert.to_html_chunks`` (HTML input, so no Calibre is needed),
highlights take their offsets in UTF-8 bytes of the text and their snippet from
``extract.extract``, every change is logged as a ``Command`` by its user, and the project
is written out by ``database.copy_project`` into a new SQLite file as its "Export project"
(sqlite3) button does. ``expected.json`` holds each highlight's text, taken from
Taguette's snippet, for the test to compare with.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from pathlib import Path

from taguette import convert, database, extract

HERE = Path(__file__).resolve().parent
DOCUMENTS = {
    "Interview with a mayor": (
        "<h1>Interview, Riace</h1>"
        "<p>Q: How did the town welcome newcomers after 2004?</p>"
        "<p>A: We reopened empty houses in the old centre &amp; the school stayed open. "
        "Families from Eritrea, Afghanistan and Syria — café owners, weavers — moved in.</p>"
        "<p>Q: What was hardest?</p>"
        "<p>A: Funding 🙂 came late; the prefecture paid months behind.</p>"),
    "Notes from Hilden": (
        "<p>Die Stadt Hilden öffnete 2016 ein Welcome Center für Geflüchtete.</p>"
        "<p>Volunteers guided families through the school system; language cafés met "
        "twice a week.</p>"),
}
TAGS = {"housing": "Empty homes reused for newcomers",
        "funding": "Money for integration work, and its delays",
        "civil society": "Volunteers, associations and their work"}
# (document, text to highlight, tags, user)
HIGHLIGHTS = [
    ("Interview with a mayor", "We reopened empty houses in the old centre & the school "
     "stayed open.", ["housing"], "ana"),
    ("Interview with a mayor", "café owners, weavers", ["civil society"], "ana"),
    ("Interview with a mayor", "Funding 🙂 came late; the prefecture paid months behind.",
     ["funding"], "ben"),
    ("Notes from Hilden", "öffnete 2016 ein Welcome Center für Geflüchtete",
     ["housing", "civil society"], "ben"),
    ("Notes from Hilden", "language cafés met twice a week", ["civil society"], "ana"),
]


def text_of(html: str) -> str:
    """The document's text as Taguette counts it: its text nodes, in order."""
    import bs4

    return "".join(str(s) for s in bs4.BeautifulSoup(html, "html5lib").find_all(string=True))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = database.connect(f"sqlite:///{os.path.join(tmp, 'taguette.sqlite3')}")()
        users = {name: database.User(login=name) for name in ("ana", "ben")}
        db.add_all(users.values())
        project = database.Project(name="Small towns", description="Generated for tests")
        db.add(project)
        db.flush()
        for user in users:
            db.add(database.ProjectMember(project=project, user_login=user,
                                          privileges=database.Privileges.ADMIN))
        docs = {}
        for name, html in DOCUMENTS.items():
            page = f'<html><head><meta charset="utf-8"></head><body>{html}</body></html>'
            body = asyncio.run(convert.to_html_chunks(
                page.encode("utf-8"), "text/html", f"{name}.html", {}))
            doc = database.Document(name=name, description="", filename=f"{name}.html",
                                    project=project,
                                    text_direction=database.TextDirection.LEFT_TO_RIGHT,
                                    contents=body)
            db.add(doc)
            db.flush()
            db.add(database.Command.document_add("ana", doc))
            docs[name] = doc
        tags = {}
        for path, description in TAGS.items():
            tag = database.Tag(project=project, path=path, description=description)
            db.add(tag)
            db.flush()
            db.add(database.Command.tag_add("ana", tag))
            tags[path] = tag
        expected = []
        for name, quote, tag_paths, user in HIGHLIGHTS:
            doc = docs[name]
            text = text_of(doc.contents)
            at = text.index(quote)
            start = len(text[:at].encode("utf-8"))
            end = start + len(quote.encode("utf-8"))
            snippet = extract.extract(doc.contents, start, end)
            hl = database.Highlight(document=doc, start_offset=start, end_offset=end,
                                    snippet=snippet)
            db.add(hl)
            db.flush()
            db.execute(database.highlight_tags.insert(),
                       [{"highlight_id": hl.id, "tag_id": tags[p].id} for p in tag_paths])
            db.add(database.Command.highlight_add(user, doc, hl,
                                                  sorted(tags[p].id for p in tag_paths)))
            expected.append({"document": name, "text": text_of(snippet), "tags": tag_paths,
                             "user": user})
        db.commit()
        out = HERE / "project.sqlite3"
        out.unlink(missing_ok=True)
        dest = database.connect(f"sqlite:///{out}")()
        dest.add(database.User(login="admin"))
        dest.commit()
        database.copy_project(db, dest, project.id, "admin")
        dest.commit()
    (HERE / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1)
                                        + "\n", encoding="utf-8")
    print(f"wrote {out} and expected.json ({len(expected)} highlights)")


if __name__ == "__main__":
    main()

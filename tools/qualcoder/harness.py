"""Headless driver for QualCoder's own REFI-QDA project import / export.

Usage: python harness.py INPUT.qdpx OUTDIR [--no-export]

What it runs unmodified from QualCoder's source tree (src/src/qualcoder):
  * qualcoder.app.App                       (settings, sqlite connection, coder-name views)
  * MainWindow.new_project from __main__.py (schema creation; its source is taken from
                                             __main__.py via ast and run with a stand-in 'self',
                                             because importing __main__ pulls in the whole GUI + AI stack)
  * qualcoder.refi.RefiImport(app, textedit, "qdpx")   -> import_project()
  * qualcoder.refi.RefiExport(app, textedit, "project") -> export_project()

What is replaced:
  * qualcoder.ai_llm: a module built from the *real* top-level functions of ai_llm.py
    (get_default_ai_models, update_ai_models, ...) without its langchain/openai/Bio imports.
  * Modal UI: QFileDialog.get*Name / getExistingDirectory return the paths we want,
    QMessageBox/QDialog.exec return at once (their texts are logged to OUTDIR/qualcoder-log.txt).
"""
import ast
import builtins
import json
import os
import shutil
import sys
import time
import types
import zipfile
from pathlib import Path

t_start = time.time()
_json_out = sys.stdout
sys.stdout = sys.stderr  # QualCoder print()s (e.g. "No module named 'vlc'"): keep stdout for the JSON line
HERE = Path(__file__).resolve().parent
QC_PKG = HERE / "src" / "src" / "qualcoder"
sys.path.insert(0, str(QC_PKG.parent))

args = [a for a in sys.argv[1:] if not a.startswith("--")]
if len(args) != 2:
    print("usage: harness.py INPUT.qdpx OUTDIR [--no-export]", file=sys.stderr)
    sys.exit(2)
do_export = "--no-export" not in sys.argv
in_qdpx = Path(args[0]).resolve()
outdir = Path(args[1]).resolve()
outdir.mkdir(parents=True, exist_ok=True)
log_lines = []


def log(msg):
    log_lines.append(str(msg))


# QualCoder's gui() installs gettext's _ ; do the same (English, NullTranslations)
import gettext
gettext.NullTranslations().install()

# --- qualcoder.ai_llm stand-in built from the real module's top-level functions ---------
import qualcoder  # noqa: E402  (package __init__)
_ai_src = (QC_PKG / "ai_llm.py").read_text(encoding="utf-8")
_ai_tree = ast.parse(_ai_src)
_keep = [n for n in _ai_tree.body if isinstance(n, (ast.FunctionDef,))]
_ai_mod = types.ModuleType("qualcoder.ai_llm")
_ai_mod.__file__ = str(QC_PKG / "ai_llm.py")
exec("import configparser, logging, re, os, uuid\nlogger = logging.getLogger('qualcoder.ai_llm')\n",
     _ai_mod.__dict__)
import __future__  # noqa: E402  (annotations are not evaluated: they name langchain classes)
exec(compile(ast.Module(body=_keep, type_ignores=[]), str(QC_PKG / "ai_llm.py"), "exec",
             flags=__future__.annotations.compiler_flag, dont_inherit=True), _ai_mod.__dict__)


class _AiLLMStub:  # MainWindow.new_project does self.app.ai = AiLLM(app, textedit); AI is disabled
    def __init__(self, *a, **k):
        pass


_ai_mod.AiLLM = _AiLLMStub
sys.modules["qualcoder.ai_llm"] = _ai_mod

from PyQt6 import QtWidgets  # noqa: E402

qapp = QtWidgets.QApplication(["qualcoder-harness"])

# --- no modal dialogs --------------------------------------------------------------------
project_base = str(outdir / "qualcoder-project")  # new_project appends ".qda"
export_dir = outdir / ".qc-export-tmp"
qdpx_copy = outdir / "input-copy.qdpx"  # RefiImport extracts next to the file it is given


def _get_open(*a, **k):
    return str(qdpx_copy), "(*.qdpx *.QDPX)"


def _get_save(*a, **k):
    return project_base, ""


def _get_dir(*a, **k):
    export_dir.mkdir(exist_ok=True)
    return str(export_dir)


QtWidgets.QFileDialog.getOpenFileName = staticmethod(_get_open)
QtWidgets.QFileDialog.getSaveFileName = staticmethod(_get_save)
QtWidgets.QFileDialog.getExistingDirectory = staticmethod(_get_dir)


def _mb_exec(self):
    log(f"[MessageBox] {self.windowTitle()}: {self.text()}")
    return int(QtWidgets.QMessageBox.StandardButton.Ok.value)


QtWidgets.QMessageBox.exec = _mb_exec


def _dlg_exec(self):  # RefiLineEndings: keep its default ("No change to line endings")
    log(f"[Dialog] {type(self).__name__} accepted with defaults")
    return 1


QtWidgets.QDialog.exec = _dlg_exec

from qualcoder.app import App  # noqa: E402
from qualcoder import helpers  # noqa: E402
from qualcoder import refi  # noqa: E402
import qualcoder.app as qc_app_mod  # noqa: E402


class TextLog:
    """parent_textedit stand-in: QualCoder only calls .append(str)."""

    def append(self, s):
        log(s)


# --- run the real MainWindow.new_project body with a stand-in self -------------------------
_main_src = (QC_PKG / "__main__.py").read_text(encoding="utf-8")
_main_tree = ast.parse(_main_src)
_new_project = None
for node in ast.walk(_main_tree):
    if isinstance(node, ast.ClassDef) and node.name == "MainWindow":
        for item in node.body:
            if isinstance(item, ast.FunctionDef) and item.name == "new_project":
                _new_project = item
if _new_project is None:
    raise SystemExit("MainWindow.new_project not found in __main__.py")
import datetime as _dt  # noqa: E402
import logging as _logging  # noqa: E402
_ns = {
    "App": App, "AiLLM": _AiLLMStub, "Path": Path, "QtWidgets": QtWidgets, "datetime": _dt,
    "Message": helpers.Message, "get_default_user_directory": helpers.get_default_user_directory,
    "logger": _logging.getLogger("qualcoder.__main__"), "_": builtins._,
}
exec(compile(ast.Module(body=[_new_project], type_ignores=[]), str(QC_PKG / "__main__.py"), "exec"), _ns)


class _UI:
    textEdit = TextLog()
    tabWidget = types.SimpleNamespace(setCurrentWidget=lambda *a: None)
    tab_action_log = tab_reports = tab_coding = tab_manage = None


class FakeMainWindow:
    def __init__(self):
        self.app = None
        self.ui = _UI()
        self.project = {}
        self.journal_display = None

    def close_project(self):
        pass

    def setWindowTitle(self, t):
        pass

    def open_project(self, path_, newproject="no"):
        # The real open_project re-opens the connection, then upgrades old databases and fills menus;
        # for a freshly created v17 database only the connection matters.
        self.app.create_connection(path_)
        # RefiImport commits after every row; without this each commit is an fsync (seconds per run).
        # Durability only: no effect on what QualCoder reads or writes.
        if os.environ.get("QC_HARNESS_FSYNC") != "1":
            self.app.conn.execute("PRAGMA synchronous=OFF")

    def clear_tab_widgets(self, *a, **k):
        pass


# fresh project dir: remove a previous run's project so new_project does not add a suffix
for p in (Path(project_base + ".qda"), export_dir, qdpx_copy, outdir / "qualcoder-export.qdpx"):
    if p.is_dir():
        shutil.rmtree(p)
    elif p.exists():
        p.unlink()
shutil.copyfile(in_qdpx, qdpx_copy)

mw = FakeMainWindow()
_ns["new_project"](mw)
app = mw.app
if not app.project_name:
    raise SystemExit("QualCoder project creation failed:\n" + "\n".join(log_lines))
t_created = time.time()

# --- QualCoder REFI-QDA project import ----------------------------------------------------
import traceback  # noqa: E402


def _rel(fn):
    try:
        return str(Path(fn).relative_to(HERE / "src"))
    except ValueError:
        return fn


import_error = None
importer = refi.RefiImport.__new__(refi.RefiImport)
try:
    # same as RefiImport(app, textedit, "qdpx"), but keep the object if import_project raises
    refi.RefiImport.__init__(importer, app, mw.ui.textEdit, "qdpx")
except Exception as err:
    tb = traceback.extract_tb(err.__traceback__)
    qc_frames = [f for f in tb if "/qualcoder/" in f.filename]
    where = qc_frames[-1] if qc_frames else tb[-1]
    import_error = {"type": type(err).__name__, "message": str(err),
                    "where": f"{_rel(where.filename)}:{where.lineno} in {where.name}",
                    "code": where.line,
                    "stack": [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in qc_frames]}
    traceback.print_exc()
    if getattr(importer, "pd", None) is not None:
        importer.pd.close()
    if getattr(importer, "folder_name", ""):
        shutil.rmtree(importer.folder_name, ignore_errors=True)
app.update_coder_names()
t_imported = time.time()

cur = app.conn.cursor()


def one(sql):
    cur.execute(sql)
    return cur.fetchone()[0]


result = {
    "ok": import_error is None,
    "input": str(in_qdpx),
    "project": app.project_path,
    "sources": one("select count(*) from source"),
    "codes": one("select count(*) from code_name"),
    "codings": one("select count(*) from code_text"),
    "coders": sorted(r[0] for r in cur.execute("select distinct owner from code_text").fetchall()
                     if r[0] is not None),
    "codings_with_null_cid": one("select count(*) from code_text where cid is null"),
    "categories": one("select count(*) from code_cat"),
    "annotations": one("select count(*) from annotation"),
    "cases": one("select count(*) from cases"),
    "image_codings": one("select count(*) from code_image"),
    "av_codings": one("select count(*) from code_av"),
    "refi_users": [u["name"] for u in getattr(importer, "users", [])],
    "import_error": import_error,
}
dup_msgs = [line for line in log_lines if line.startswith("Duplicated text coding")]
result["duplicate_codings_skipped"] = len(dup_msgs)

# --- QualCoder REFI-QDA project export ----------------------------------------------------
if do_export:
    try:
        refi.RefiExport(app, mw.ui.textEdit, "project")
        produced = sorted(export_dir.glob("*.qdpx"))
        if produced:
            final = outdir / "qualcoder-export.qdpx"
            shutil.move(str(produced[0]), final)
            result["export"] = str(final)
            with zipfile.ZipFile(final) as z:
                qde = [n for n in z.namelist() if n.endswith(".qde")]
                result["export_entries"] = len(z.namelist())
                if qde:
                    import xml.etree.ElementTree as ET
                    root = ET.fromstring(z.read(qde[0]))
                    result["export_codings"] = sum(1 for e in root.iter() if e.tag.endswith("}Coding"))
        else:
            result["export"] = None
            result["export_error"] = "RefiExport produced no .qdpx"
    except Exception as err:  # report, don't hide
        result["export"] = None
        tb = traceback.extract_tb(err.__traceback__)
        qc_frames = [f for f in tb if "/qualcoder/" in f.filename]
        where = qc_frames[-1] if qc_frames else tb[-1]
        result["export_error"] = {"type": type(err).__name__, "message": str(err),
                                  "where": f"{_rel(where.filename)}:{where.lineno} in {where.name}",
                                  "code": where.line}
        traceback.print_exc()
    shutil.rmtree(export_dir, ignore_errors=True)

app.conn.close()
qdpx_copy.unlink(missing_ok=True)
t_end = time.time()
result["seconds"] = {"create": round(t_created - t_start, 2), "import": round(t_imported - t_created, 2),
                     "total_python": round(t_end - t_start, 2)}
(outdir / "qualcoder-log.txt").write_text("\n".join(log_lines) + "\n", encoding="utf-8")
print(json.dumps(result, ensure_ascii=False), file=_json_out, flush=True)
sys.exit(0 if import_error is None else 1)  # JSON is printed either way

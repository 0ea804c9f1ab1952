"""Team mode: accounts, roles, sign-in; the single-user default needs none of it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from workbench import accounts

from .apptest import goto, nav_pages
from .cli import run
from .conftest import ROOT

PASSWORDS = {"mia": "maintainer-pass-1", "leo": "lead-pass-22", "rita": "researcher-333"}
ROLES = {"mia": "maintainer", "leo": "lead", "rita": "researcher"}


def test_roles_grow_and_nothing_is_allowed_to_an_unknown_role():
    assert accounts.can("researcher", "code") and accounts.can("researcher", "search")
    assert not accounts.can("researcher", "export") and not accounts.can("researcher", "train")
    assert accounts.can("lead", "export") and accounts.can("lead", "adjudicate")
    assert accounts.can("lead", "edit_codebook") and not accounts.can("lead", "train")
    assert accounts.can("maintainer", "train") and accounts.can("maintainer", "manage_users")
    assert accounts.can("maintainer", "export") and accounts.can("maintainer", "code")
    assert not accounts.can("guest", "code")
    assert accounts.can(None, "train")  # single-user mode


def test_passwords_are_hashed_and_never_logged(store):
    hashed = accounts.hash_password("s3cret-words")
    assert hashed.startswith("$argon2id$") and "s3cret-words" not in hashed
    store.add_user("mia", "maintainer", hashed, actor="setup")
    assert accounts.authenticate(store, "mia", "s3cret-words") == accounts.Account(
        "mia", "maintainer")
    assert accounts.authenticate(store, "mia", "wrong-words") is None
    assert accounts.authenticate(store, "nobody", "s3cret-words") is None
    store.set_user("mia", password_hash=accounts.hash_password("other-words-2"))
    log = repr([(e.before, e.after) for e in store.audit_log(10, entity="user")])
    assert "s3cret" not in log and "$argon2" not in log and "changed" in log
    with pytest.raises(accounts.AccountError, match="at least 8"):
        accounts.hash_password("short")
    with pytest.raises(ValueError, match="no active maintainer"):
        store.set_user("mia", role="lead")


def _team(store) -> None:
    for name in ("mia", "leo", "rita"):
        store.add_user(name, ROLES[name], accounts.hash_password(PASSWORDS[name]))


def _app(store, monkeypatch) -> AppTest:
    monkeypatch.setenv("WORKBENCH_DB", store.url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_wrong_password_gets_no_access(demo_store, monkeypatch):
    _team(demo_store)
    at = _app(demo_store, monkeypatch)
    assert at.header[0].value == "Sign in" and not nav_pages(at)
    _sign_in(at, "leo", "not-his-password")
    assert at.error[0].value == "Wrong name or password."
    assert not nav_pages(at) and not at.dataframe
    _sign_in(at, "nobody", PASSWORDS["leo"])
    assert not nav_pages(at)


def test_a_researcher_codes_but_cannot_export_or_train(demo_store, monkeypatch):
    _team(demo_store)
    at = _sign_in(_app(demo_store, monkeypatch), "rita", PASSWORDS["rita"])
    pages = nav_pages(at)
    assert "Code" in pages and "Search" in pages and "Export" not in pages
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/export.py")
    goto(at, "Model")
    assert not [b for b in at.button if b.key in ("train", "activate")]
    assert "for maintainers" in at.caption[0].value
    goto(at, "Code")
    accept = next(b for b in at.button if b.label == "Accept")
    accept.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(e.actor == "rita" for e in demo_store.audit_log(5, entity="coding"))


def test_a_lead_exports_a_maintainer_trains(demo_store, monkeypatch):
    _team(demo_store)
    lead = _sign_in(_app(demo_store, monkeypatch), "leo", PASSWORDS["leo"])
    assert "Export" in nav_pages(lead)
    goto(lead, "Model")
    assert not [b for b in lead.button if b.key == "train"]
    maintainer = _sign_in(_app(demo_store, monkeypatch), "mia", PASSWORDS["mia"])
    goto(maintainer, "Model")
    assert [b for b in maintainer.button if b.key == "train"]


def test_users_command(db_url, tmp_path):
    first = run("users", "add", "leo", "--role", "lead", "--password-stdin",
                "--db", db_url, cwd=tmp_path, input=PASSWORDS["leo"] + "\n")
    assert first.returncode == 1 and "first account must be a maintainer" in first.stderr
    added = run("users", "add", "mia", "--role", "maintainer", "--password-stdin", "--db",
                db_url, cwd=tmp_path, input=PASSWORDS["mia"] + "\n")
    assert added.returncode == 0 and "the app now asks everyone to sign in" in added.stdout
    run("users", "add", "rita", "--password-stdin", "--db", db_url, cwd=tmp_path,
        input=PASSWORDS["rita"] + "\n")
    promoted = run("users", "set-role", "rita", "lead", "--db", db_url, cwd=tmp_path)
    assert promoted.returncode == 0
    listed = run("users", "list", "--db", db_url, cwd=tmp_path)
    assert [ln.split()[:2] for ln in listed.stdout.splitlines()] == [["mia", "maintainer"],
                                                                     ["rita", "lead"]]
    bad = run("users", "set-role", "rita", "admin", "--db", db_url, cwd=tmp_path)
    assert bad.returncode == 1 and "role must be one of" in bad.stderr



@pytest.mark.parametrize("name, reason", [
    ("", "an account needs a name"), ("   ", "an account needs a name"),
    ("agreed", "'agreed' is a name the workbench records its own codings under"),
    ("Model", "'Model' is a name the workbench records"),
    ("a\nb", "printable characters only"), ("x" * 61, "at most 60 characters"),
])
def test_account_names_the_workbench_uses_itself_are_refused(name, reason, db_url, tmp_path):
    res = run("users", "add", name, "--role", "maintainer", "--password-stdin", "--db", db_url,
              cwd=tmp_path, input=PASSWORDS["mia"] + "\n")
    assert res.returncode == 1 and reason in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    from workbench.store import Store

    assert Store(db_url).users() == []


def test_a_disabled_or_demoted_account_loses_its_rights_on_the_next_click(demo_store,
                                                                         monkeypatch):
    _team(demo_store)
    lead = _sign_in(_app(demo_store, monkeypatch), "leo", PASSWORDS["leo"])
    goto(lead, "Export")
    demo_store.set_user("leo", role="researcher")
    goto(lead, "Code")  # the next click
    assert "Export" not in nav_pages(lead)
    demo_store.set_user("leo", active=False)
    goto(lead, "Search")
    assert lead.header[0].value == "Sign in" and not nav_pages(lead)
    assert "disabled or removed" in lead.warning[0].value


def test_sign_in_is_throttled_per_account(demo_store, monkeypatch):
    import uuid

    # the throttle lives as long as the server process: a name no other test signs in as
    tess = f"tess-{uuid.uuid4().hex[:8]}"
    demo_store.add_user("mia", "maintainer", accounts.hash_password(PASSWORDS["mia"]))
    demo_store.add_user(tess, "researcher", accounts.hash_password(PASSWORDS["rita"]))
    at = _app(demo_store, monkeypatch)
    for _ in range(accounts.Throttle().limit):
        _sign_in(at, tess, "wrong-password")
        assert at.error[0].value == "Wrong name or password."
    _sign_in(at, tess, PASSWORDS["rita"])  # the right one, too soon
    assert at.error[0].value.startswith("Too many failed sign-ins: try again in")
    assert not nav_pages(at)
    _sign_in(at, "mia", PASSWORDS["mia"])  # another account is not held up
    assert nav_pages(at)


def test_the_throttle_waits_longer_with_each_failure():
    throttle = accounts.Throttle(limit=2, window=100, lock=10)
    keys = ["account:x"]
    throttle.failed(keys, 0)
    assert throttle.wait(keys, 1) == 0
    throttle.failed(keys, 1)
    assert throttle.wait(keys, 2) == 9  # 10 s after the last failure
    throttle.failed(keys, 12)
    assert throttle.wait(keys, 12) == 20  # doubled
    assert throttle.wait(keys, 200) == 0  # the failures are out of the window
    throttle.failed(keys, 300)
    throttle.succeeded(keys)
    assert throttle.wait(keys, 300) == 0

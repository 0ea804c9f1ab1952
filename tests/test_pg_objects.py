"""Reading a pg_dump archive's objects from pg_restore's text, and comparing them; the
check against a real server is in test_backup.py."""

from __future__ import annotations

from workbench.store.pg_objects import Objects, archive_objects, difference

SCHEMA_SQL = """
--
-- Name: auditevent_append_only(); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.auditevent_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;


ALTER FUNCTION public.auditevent_append_only() OWNER TO postgres;

--
-- Name: auditevent; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.auditevent (
    id integer NOT NULL
);

--
-- Name: auditevent id; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.auditevent ALTER COLUMN id SET DEFAULT nextval('x'::regclass);

--
-- Name: auditevent auditevent_append_only; Type: TRIGGER; Schema: public; Owner: postgres
--

CREATE TRIGGER auditevent_append_only BEFORE DELETE OR UPDATE ON public.auditevent FOR EACH \
ROW EXECUTE FUNCTION public.auditevent_append_only();
"""

EXPECTED = Objects(
    frozenset({("FUNCTION", "auditevent_append_only()"), ("TABLE", "auditevent"),
               ("TRIGGER", "auditevent auditevent_append_only")}),
    {("FUNCTION", "auditevent_append_only()"):
     "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END",
     ("TRIGGER", "auditevent auditevent_append_only"):
     "CREATE TRIGGER auditevent_append_only BEFORE DELETE OR UPDATE ON auditevent FOR EACH "
     "ROW EXECUTE FUNCTION auditevent_append_only()"})


def test_objects_are_read_by_name_with_what_they_do_and_table_parts_left_out():
    found = archive_objects(SCHEMA_SQL)
    assert found == EXPECTED
    assert difference(found, EXPECTED) is None


def test_each_difference_is_named():
    found = archive_objects(SCHEMA_SQL.replace("RAISE EXCEPTION 'the audit log is "
                                               "append-only';", "RETURN OLD;"))
    assert difference(found, EXPECTED) == ("its function auditevent_append_only() differs "
                                           "from schema {revision}'s")
    dropped = archive_objects(SCHEMA_SQL.split("--\n-- Name: auditevent auditevent_append")[0])
    assert difference(dropped, EXPECTED) == ("its trigger auditevent auditevent_append_only "
                                             "is missing (schema {revision} has it)")
    extension = archive_objects(SCHEMA_SQL + "\n--\n-- Name: dblink; Type: EXTENSION; "
                                "Schema: -; Owner: -\n--\n\nCREATE EXTENSION dblink;\n")
    assert difference(extension, EXPECTED) == ("it has an extension dblink, which no "
                                               "Workbench store has")

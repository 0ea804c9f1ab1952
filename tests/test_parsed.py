"""The plain data parsing hands to the store."""


def test_stated_authors_split_people_and_drop_placeholders():
    from workbench.parsed import stated_authors

    assert stated_authors("Ana Costa; Ben Ode") == ["Ana Costa", "Ben Ode"]
    assert stated_authors("Ana Costa & Ben  Ode") == ["Ana Costa", "Ben Ode"]
    assert stated_authors("Ministry of Labour and Social Affairs") == [
        "Ministry of Labour and Social Affairs"]
    assert stated_authors("Administrator") == [] and stated_authors("  ") == []

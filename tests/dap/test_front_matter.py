"""dap.set_front_matter: one top-level key of a document's front matter rewritten, the rest kept."""

from __future__ import annotations

from dap import assemble, set_front_matter

DOCUMENT = '+++\ntitle = "Old"\ntheme = "classic"\n[extra]\ntheme = "nested"\n+++\nIntro.\n\n## A {#a}\nText.\n'


def test_it_replaces_the_keys_line_and_keeps_everything_else():
    changed = set_front_matter(DOCUMENT, "theme", "museum")

    assert changed == DOCUMENT.replace('theme = "classic"', 'theme = "museum"')
    assert assemble(changed).theme == "museum"


def test_a_key_only_set_inside_a_table_is_added_at_the_top_level():
    document = '+++\ntitle = "Old"\n[extra]\ntheme = "nested"\n+++\n## A\nText.\n'

    changed = set_front_matter(document, "theme", "minimal")

    assert changed.startswith('+++\ntheme = "minimal"\ntitle = "Old"\n[extra]\ntheme = "nested"\n')
    assert assemble(changed).theme == "minimal"


def test_quotes_backslashes_and_line_breaks_in_a_value_stay_one_toml_string():
    title = 'Say "hi" \\ then\nleave'

    assert assemble(set_front_matter(DOCUMENT, "title", title)).title == title

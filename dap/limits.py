"""The hard limits on a trail document, and why each is where it is.

Anyone who can open the editor's preview (a viewer) or hold a read API key can make the server
assemble a document, so assembling must cost time linear in the document's size whatever it
holds. The parsers we use are linear on ordinary text but not on everything: Python's tomllib
is quadratic in the parts of a dotted key and recurses once per nested array, and a few of
markdown-it's rules look along a whole line. These limits keep every part within bounds where
its cost is linear; going over one is an error diagnostic, never an exception.
"""

from __future__ import annotations

# The whole document, in UTF-8. A long trail of 100 stops is about 50 KB.
MAX_DOCUMENT_BYTES = 200 * 1024

# Characters on one line. The longest line an author writes is a paragraph typed without line
# breaks: 300 words is about 2,000 characters, more than a phone shows on one screen. Line-bound
# rules (a table row's cells, a heading's {#id}, a front-matter key) then stay cheap.
MAX_LINE_CHARS = 5_000

# markdown-it's cost is in the markup it finds, not only in the bytes: these bound what a 200 KB
# document can hold of the costliest kinds, so the worst one assembles in well under a second
# (bench/dap.py), as a preview by a viewer must.
# Lines: each costs ~30 microseconds however short (a block to try every rule on). A 500-stop
# trail of 10 lines a stop is 5,000.
MAX_LINES = 10_000
# Opening brackets: each may start a link or picture, whose label is read ahead for, ~60
# microseconds a bracket (`![[` repeated). Room for 20 links or pictures on each of 500 stops.
MAX_BRACKETS = 10_000
# Table cell borders `|`: ~18 microseconds each. 20,000 is forty tables of 100 rows and 4 columns.
MAX_TABLE_PIPES = 20_000

# Stops in one trail: each is a printed card, and a walk of 500 cards is already a long one.
MAX_STOPS = 500

# The front matter holds four settings (title, language, theme, call_to_action); these leave room for comments
# and unknown keys (warned about, then ignored) while bounding what tomllib is asked to read.
MAX_FRONT_MATTER_BYTES = 8 * 1024
MAX_FRONT_MATTER_KEYS = 100
# Levels of tables, arrays and dotted keys (`a.b.c = 1` is 3). The settings need 1.
MAX_FRONT_MATTER_DEPTH = 10

# Blocks (quotes, lists) and inline markup (links, emphasis) inside one another; deeper markup
# is shown as text. markdown-it's own guard against recursion, the value its commonmark preset has.
MAX_NESTING = 20

# The call to action is printed under every code, on a business card as on a sign: a short line.
MAX_CALL_TO_ACTION_CHARS = 80

# Media references: a document may hold up to MAX_BRACKETS of them, each perhaps naming something the library
# lacks. The author needs the first few problems of each kind, not ten thousand lines: after this many, one
# line says how many more there are.
MAX_MEDIA_DIAGNOSTICS = 50
# Did-you-mean compares a missing name with every name in the library (difflib: 25 to 70 microseconds a
# comparison of ordinary names, quadratic in their lengths). It is looked up for at most this many distinct
# missing names, and for no more than MAX_NAME_COMPARISONS comparisons in all (a third of a second at worst):
# the rest are reported without a suggestion.
MAX_SUGGESTIONS = 20
MAX_NAME_COMPARISONS = 5_000
# The longest name the library holds (trails.Asset.name): a longer reference can't be near any of them.
MAX_MEDIA_NAME_CHARS = 100

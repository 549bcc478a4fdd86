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

# Stops in one trail: each is a printed card, and a walk of 500 cards is already a long one.
MAX_STOPS = 500

# The front matter holds three settings (title, language, theme); these leave room for comments
# and unknown keys (warned about, then ignored) while bounding what tomllib is asked to read.
MAX_FRONT_MATTER_BYTES = 8 * 1024
MAX_FRONT_MATTER_KEYS = 100
# Levels of tables, arrays and dotted keys (`a.b.c = 1` is 3). The settings need 1.
MAX_FRONT_MATTER_DEPTH = 10

# Blocks (quotes, lists) and inline markup (links, emphasis) inside one another; deeper markup
# is shown as text. markdown-it's own guard against recursion, the value its commonmark preset has.
MAX_NESTING = 20

"""Translations: another document in another language, with the same stop ids as the main one.

`compare` checks an assembled translation against the assembled main document and reports, with the
translation's line numbers: stops it lacks, stops the main document doesn't have, stops the main document
changed after they were translated ("may be out of date"; the caller says when each changed), and pictures
that differ. `LANGUAGES` is the list an author picks from, each language in its own name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dap.assemble import AssembledStop, Assembly, Diagnostic


@dataclass(frozen=True)
class Language:
    tag: str  # BCP 47
    name: str  # in the language itself
    english: str
    rtl: bool = False

    @property
    def label(self) -> str:
        """Its own name, and the English one when that differs: "Deutsch (German)"."""
        return self.name if self.name == self.english else f"{self.name} ({self.english})"

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


# The languages offered in the editor; the scanner page's own words are translated for the first nine.
LANGUAGES: tuple[Language, ...] = (
    Language("en", "English", "English"),
    Language("fr", "Français", "French"),
    Language("de", "Deutsch", "German"),
    Language("es", "Español", "Spanish"),
    Language("it", "Italiano", "Italian"),
    Language("nl", "Nederlands", "Dutch"),
    Language("ja", "日本語", "Japanese"),
    Language("zh", "中文", "Chinese"),
    Language("ar", "العربية", "Arabic", rtl=True),
    Language("pt", "Português", "Portuguese"),
    Language("pt-BR", "Português (Brasil)", "Portuguese (Brazil)"),
    Language("pl", "Polski", "Polish"),
    Language("cs", "Čeština", "Czech"),
    Language("da", "Dansk", "Danish"),
    Language("sv", "Svenska", "Swedish"),
    Language("nb", "Norsk bokmål", "Norwegian Bokmål"),
    Language("fi", "Suomi", "Finnish"),
    Language("el", "Ελληνικά", "Greek"),
    Language("tr", "Türkçe", "Turkish"),
    Language("ru", "Русский", "Russian"),
    Language("uk", "Українська", "Ukrainian"),
    Language("ko", "한국어", "Korean"),
    Language("zh-Hant", "中文（繁體）", "Chinese (Traditional)"),
    Language("hi", "हिन्दी", "Hindi"),
    Language("he", "עברית", "Hebrew", rtl=True),
    Language("fa", "فارسی", "Persian", rtl=True),
    Language("ur", "اردو", "Urdu", rtl=True),
)
_BY_TAG = {language.tag.lower(): language for language in LANGUAGES}
RTL_PRIMARY = frozenset({"ar", "he", "fa", "ur"})
_IMAGE_SOURCE = re.compile(r'<img\b[^>]*?\bsrc="([^"]*)"')


def language(tag: str) -> Language:
    """The language of a BCP 47 tag, matched in any case; an unlisted tag is named by itself."""
    found = _BY_TAG.get(tag.lower())
    if found is not None:
        return found
    primary = tag.split("-", 1)[0].lower()
    return Language(tag, tag, tag, rtl=primary in RTL_PRIMARY)


def is_rtl(tag: str) -> bool:
    return language(tag).rtl


@dataclass(frozen=True)
class TranslationReport:
    language: Language
    translated: int  # stops of the main document the translation has
    total: int  # stops of the main document
    diagnostics: tuple[Diagnostic, ...]

    @property
    def complete(self) -> bool:
        return self.translated == self.total

    @property
    def summary(self) -> str:
        """For example "French: 7 of 8 stops"."""
        return f"{self.language.english}: {self.translated} of {self.total} stops"


def compare(
    main: Assembly,
    translation: Assembly,
    *,
    tag: str,
    main_changed: Mapping[str, datetime] | None = None,
    translated_at: Mapping[str, datetime] | None = None,
) -> TranslationReport:
    """How `translation` (in the language `tag`) stands against `main`, stop by stop.

    `main_changed` maps a stop id to when the main document last changed that stop; `translated_at` maps
    it to when its translation last changed. A stop whose translation is older is "may be out of date".
    Line numbers are the translation's, or 0 for a stop it lacks (the message names the main document's line).
    """
    main_changed = main_changed or {}
    translated_at = translated_at or {}
    theirs = {stop.id: stop for stop in translation.stops}
    ours = {stop.id: stop for stop in main.stops}
    diagnostics: list[Diagnostic] = []
    for stop in main.stops:
        if stop.id not in theirs:
            message = (
                f'The stop "{stop.title}" {{#{stop.id}}} (line {stop.line} of the main document) is not translated; '
                "visitors see it in the main language."
            )
            diagnostics.append(Diagnostic(0, "warning", "missing-stop", message))
    for stop in translation.stops:
        original = ours.get(stop.id)
        if original is None:
            message = (
                f"The main document has no stop {{#{stop.id}}}; this stop is never shown. "
                "Give it the id of the stop it translates."
            )
            diagnostics.append(Diagnostic(stop.line, "warning", "extra-stop", message))
            continue
        changed, done = main_changed.get(stop.id), translated_at.get(stop.id)
        if changed is not None and done is not None and done < changed:
            message = (
                f'The main document changed the stop "{original.title}" after it was translated; '
                "this translation may be out of date."
            )
            diagnostics.append(Diagnostic(stop.line, "warning", "out-of-date", message))
        if _pictures(stop) != _pictures(original):
            message = (
                f'The pictures differ from the main document\'s stop "{original.title}" '
                f"({', '.join(_pictures(original)) or 'none'} there, {', '.join(_pictures(stop)) or 'none'} here)."
            )
            diagnostics.append(Diagnostic(stop.line, "warning", "media-differs", message))
    translated = sum(1 for stop in main.stops if stop.id in theirs)
    return TranslationReport(
        language=language(tag),
        translated=translated,
        total=len(main.stops),
        diagnostics=tuple(sorted(diagnostics, key=lambda d: d.line)),
    )


def _pictures(stop: AssembledStop) -> tuple[str, ...]:
    """The names of the pictures a stop shows, in order (read from its sanitised HTML)."""
    return tuple(_IMAGE_SOURCE.findall(stop.html))

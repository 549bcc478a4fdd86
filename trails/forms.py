from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

import dap
from trails.cards import LAYOUTS
from trails.media import MediaRefused, check_name, max_files_per_upload
from trails.models import Trail, assemble
from trails.qr import MAX_BORDER, MIN_BORDER, PNG_SIZE_PX, PRINT_SIZE_MM, QrOptions


def _diagnostic_errors(assembly: dap.Assembly) -> list[ValidationError]:
    return [
        ValidationError(f"Line {d.line}: {d.message}" if d.line else d.message, code=d.code) for d in assembly.errors
    ]


class TrailSourceForm(forms.ModelForm):
    """Edit a trail as Markdown in the staff admin; a document with errors is refused with its line numbers."""

    class Meta:
        model = Trail
        fields = ["source", "status"]
        widgets = {"source": forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "true"})}

    def clean_source(self) -> str:
        source = self.cleaned_data["source"]
        assembly = assemble(source)
        if not assembly.ok:
            raise ValidationError(_diagnostic_errors(assembly))
        return source


class TrailEditorForm(forms.Form):
    """The dashboard editor: the document, and the version of the trail it was opened at.

    The document is assembled once, when the trail is saved (`Trail.set_source`); its errors come back
    through `add_document_errors`.
    """

    source = forms.CharField(
        strip=False,
        max_length=dap.MAX_DOCUMENT_BYTES,
        widget=forms.Textarea(attrs={"rows": 28, "spellcheck": "true", "class": "source", "id": "source"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, readonly: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if readonly:
            self.fields["source"].widget.attrs["readonly"] = True

    def add_document_errors(self, assembly: dap.Assembly) -> None:
        self.add_error("source", _diagnostic_errors(assembly))

    def write_in(self, language: str) -> None:
        """Have the text area read and write in `language`, right to left for Arabic, Hebrew and the like."""
        info = dap.language(language)
        self.fields["source"].widget.attrs.update(lang=info.tag, dir=info.direction)


class TranslationPickForm(forms.Form):
    """Which language to add to a trail: from dap.LANGUAGES, less the ones it has."""

    language = forms.ChoiceField(label="Add a language")

    def __init__(self, *args, taken: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        lowered = {tag.lower() for tag in taken}
        self.fields["language"].choices = [
            (language.tag, language.label) for language in dap.LANGUAGES if language.tag.lower() not in lowered
        ]


def translation_starter(trail_source: str, language: str) -> str:
    """A new translation's text: the main document with its language set, to be translated stop by stop."""
    return dap.relanguage(trail_source, language)


STARTER = """+++
title = "My new trail"
language = "en"
theme = "classic"
+++
A few words to welcome visitors; they appear on the first stop.

## First stop {#first-stop}
What's there to see here?

## Second stop {#second-stop}
And here?
"""


class QrOptionsForm(forms.Form):
    """How a downloaded QR code looks; read from the query string so a choice can be linked to."""

    error_correction = forms.ChoiceField(
        label="Error correction",
        choices=[("L", "L: 7%"), ("M", "M: 15%"), ("Q", "Q: 25% (recommended)"), ("H", "H: 30%")],
        initial="Q",
    )
    size_px = forms.IntegerField(
        label="PNG size (pixels)", initial=512, min_value=PNG_SIZE_PX[0], max_value=PNG_SIZE_PX[1]
    )
    size_mm = forms.FloatField(
        label="Print size (mm)", initial=40, min_value=PRINT_SIZE_MM[0], max_value=PRINT_SIZE_MM[1]
    )
    foreground = forms.CharField(
        label="Code colour", initial="#000000", widget=forms.TextInput(attrs={"type": "color"})
    )
    background = forms.CharField(label="Background", initial="#ffffff", widget=forms.TextInput(attrs={"type": "color"}))
    border = forms.IntegerField(
        label="Quiet zone (modules)", initial=MIN_BORDER, min_value=MIN_BORDER, max_value=MAX_BORDER
    )

    # Where to show the problems whose code isn't a field's name.
    PROBLEM_FIELDS = {
        "low_contrast": "foreground",
        "foreground_format": "foreground",
        "background_format": "background",
    }

    @classmethod
    def from_query(cls, query) -> QrOptionsForm:
        """Bound to the query string, with the defaults for anything it leaves out."""
        data = {name: field.initial for name, field in cls.base_fields.items()}
        data.update({name: query[name] for name in data if query.get(name)})
        return cls(data)

    def clean(self) -> dict:
        cleaned = super().clean()
        self.warnings: list[str] = []
        if self.errors:
            return cleaned
        options = QrOptions(**cleaned)
        for problem in options.validate():
            if problem.is_error:
                field = self.PROBLEM_FIELDS.get(problem.code, problem.code if problem.code in self.fields else None)
                self.add_error(field, ValidationError(problem.message, code=problem.code))
            else:
                self.warnings.append(problem.message)
        self.options = options
        return cleaned


class PrintForm(forms.Form):
    paper = forms.ChoiceField(
        label="Layout", choices=[(name, layout.label) for name, layout in LAYOUTS.items()], initial="A4"
    )
    crop_marks = forms.BooleanField(
        label="For a print shop (crop marks; bleed on cards, signs and tents)", required=False
    )


# The media library -------------------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; each is checked by trails.media when it is stored."""

    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise ValidationError("Choose at least one picture or sound file.", code="required")
        most = max_files_per_upload()
        if len(files) > most:
            # Refused as a whole, before any is stored: a batch stays something a person can check afterwards.
            raise ValidationError(
                f"That's {len(files)} files: upload at most {most} at once. Nothing was uploaded.",
                code="too_many_files",
            )
        # Each file is judged on its own when it is stored (an empty or unreadable one is named then), so one
        # bad file doesn't turn the others away.
        return files


# What the file pickers offer (the server checks each file's content whatever its name or type says).
ACCEPTED_MEDIA = ",".join(
    (
        "image/jpeg,image/png,image/webp,image/heic,image/heif,.heic,.heif",
        "audio/mpeg,audio/mp4,audio/aac,audio/ogg,audio/opus,.mp3,.m4a,.aac,.ogg,.opus",
    )
)


class MediaUploadForm(forms.Form):
    files = MultipleFileField(
        label="Pictures and sound",
        help_text="JPEG, PNG, WebP or HEIC pictures; MP3, M4A/AAC or Ogg/Opus sound.",
        widget=MultipleFileInput(attrs={"accept": ACCEPTED_MEDIA, "multiple": True}),
    )


class MediaRenameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=100,
        help_text="Trails refer to it by this name; renaming rewrites them as a new version of each.",
    )

    def __init__(self, *args, asset=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.asset = asset

    def clean_name(self) -> str:
        try:
            return check_name(self.cleaned_data["name"], exclude=self.asset)
        except MediaRefused as refusal:
            raise ValidationError(str(refusal), code=refusal.code) from None


class MediaReplaceForm(forms.Form):
    file = forms.FileField(
        label="New file",
        help_text="Same name, so every page that shows it shows the new one.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_MEDIA}),
    )

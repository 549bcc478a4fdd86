from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

import dap
from trails.models import Trail


class TrailSourceForm(forms.ModelForm):
    """Edit a trail as Markdown; a document with errors is refused with its line numbers."""

    class Meta:
        model = Trail
        fields = ["source", "status"]
        widgets = {"source": forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "true"})}

    def clean_source(self) -> str:
        source = self.cleaned_data["source"]
        assembly = dap.assemble(source)
        if not assembly.ok:
            raise ValidationError(
                [ValidationError(f"Line {d.line}: {d.message}" if d.line else d.message, code=d.code) for d in assembly.errors]
            )
        return source

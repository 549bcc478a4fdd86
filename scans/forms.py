from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError

import dap
from scans.analytics import Filters, Period
from trails.models import Trail

# Longer ranges are for the export, not the page.
MAX_CUSTOM_DAYS = 3 * 366


class AnalyticsFilterForm(forms.Form):
    """The page's filters, read from the query string so a view can be bookmarked and shared."""

    RANGES = [("7", "Last 7 days"), ("30", "Last 30 days"), ("90", "Last 90 days"), ("custom", "Custom")]

    range = forms.ChoiceField(choices=RANGES, required=False, initial="30")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    trail = forms.ModelChoiceField(queryset=Trail.objects.live(), required=False, empty_label="All trails")
    bots = forms.BooleanField(required=False, label="Include bots")
    language = forms.ChoiceField(
        choices=[("", "All languages"), *((language.tag, language.label) for language in dap.LANGUAGES)],
        required=False,
    )

    def __init__(self, data=None, *, today: datetime.date, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.today = today

    def clean(self) -> dict:
        data = super().clean()
        if data.get("range") != "custom":
            return data
        start, end = data.get("start"), data.get("end")
        if start is None or end is None:
            raise ValidationError("A custom range needs a first and a last day.", code="incomplete_range")
        if start > end:
            raise ValidationError("The first day must come before the last.", code="reversed_range")
        if start > self.today:
            raise ValidationError("The range starts in the future.", code="future_range")
        if (min(end, self.today) - start).days >= MAX_CUSTOM_DAYS:
            raise ValidationError(f"Choose at most {MAX_CUSTOM_DAYS} days, or export the scans.", code="range_too_long")
        return data

    def filters(self) -> Filters:
        """The filters chosen, or the defaults (the last 30 days, all trails, no bots) when the form is invalid."""
        data = self.cleaned_data if self.is_valid() else {}
        choice = data.get("range") or "30"
        if choice == "custom":
            period = Period(data["start"], min(data["end"], self.today))
        else:
            period = Period(self.today - datetime.timedelta(days=int(choice) - 1), self.today)
        return Filters(
            period=period,
            trail=data.get("trail"),
            include_bots=bool(data.get("bots")),
            language=data.get("language") or "",
        )

"""The page list: drives navigation, and the smoke tests loop over it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str
    title: str
    icon: str
    audience: str


PAGES = (
    PageSpec("pages/overview.py", "Overview", ":material/dashboard:", "Leadership"),
    PageSpec("pages/topics.py", "Topics", ":material/topic:", "Analysts"),
    PageSpec("pages/agencies.py", "Agencies & reach", ":material/map:", "Analysts"),
    PageSpec("pages/outcomes.py", "Outcomes", ":material/thumb_up:", "Leadership"),
    PageSpec("pages/pipeline.py", "Pipeline", ":material/timeline:", "Program staff"),
    PageSpec("pages/data.py", "Data", ":material/database:", "Analysts"),
    PageSpec("pages/report.py", "Report", ":material/slideshow:", "Presenters"),
)

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
    PageSpec("views/overview.py", "Overview", ":material/dashboard:", "Leadership"),
    PageSpec("views/topics.py", "Topics", ":material/topic:", "Analysts"),
    PageSpec("views/agencies.py", "Agencies & reach", ":material/map:", "Analysts"),
    PageSpec("views/outcomes.py", "Outcomes", ":material/thumb_up:", "Leadership"),
    PageSpec("views/pipeline.py", "Pipeline", ":material/timeline:", "Program staff"),
    PageSpec("views/data.py", "Data", ":material/database:", "Analysts"),
    PageSpec("views/report.py", "Report", ":material/slideshow:", "Presenters"),
)

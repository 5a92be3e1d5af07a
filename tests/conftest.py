from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from critac_metrics import db
from critac_metrics.ingest import ingest_files
from critac_metrics.store import DEMO_FILES

ROOT = Path(__file__).resolve().parent.parent

# A small hand-made data set with the edge cases the metrics must get right: multi-topic
# engagements, fiscal-year boundaries (30 Sep / 1 Oct), declined and withdrawn requests,
# unanswered survey items and a follow-up wave.
TINY = {
    "agencies.csv": """agency_id,agency_name,agency_type,state,sworn_officers,population_served
A1,Springfield Police Department,municipal,IL,40,110000
A2,Navajo Nation Police Department,tribal,AZ,250,170000
A3,State University Police Department,campus,TX,,30000
A4,Guam Police Department,territorial,GU,1000,
""",
    "engagements.csv": """engagement_id,agency_id,requested_on,status,assistance_type,topics,started_on,completed_on,delivery_mode,provider,participants
E1,A1,2023-09-30,completed,training,De-escalation; Use of Force,2023-10-10,2023-11-01,onsite,IACP,25
E2,A1,2023-10-01,completed,virtual_consultation,De-escalation,2023-10-05,2023-10-20,virtual,IACP,
E3,A2,2024-03-15,completed,training,Officer Safety and Wellness; De-escalation; School Safety,2024-04-01,2024-05-01,hybrid,NTOA,40
E4,A3,2024-09-30,declined,policy_review,School Safety,,,,,
E5,A3,2024-10-01,in_progress,assessment,Active Shooter Response,2024-10-15,,onsite,IACLEA,
E6,A4,2024-06-01,withdrawn,training,Crisis Intervention,,,,,
E7,A2,2022-12-01,completed,expert_briefing,Crisis Intervention,2022-12-05,2022-12-05,virtual,FBINAA,12
""",
    "survey_responses.csv": """response_id,engagement_id,submitted_on,wave,respondent_role,satisfaction,knowledge_gain,service_delivery,operations_change,would_recommend,comment
R1,E1,2023-11-05,post,Chief,5,4,4,,5,Very useful
R2,E1,2023-11-06,post,Officer,4,3,,2,4,
R3,E1,2024-05-01,follow_up,Chief,5,5,4,4,5,We changed our policy
R4,E2,2023-10-25,,Lieutenant,2,4,3,3,1,<b>too short</b> & rushed
R5,E3,2024-05-03,post,Chief,5,5,5,4,5,
R6,E3,2024-05-04,post,Sergeant,4,4,5,,4,
R7,E7,2022-12-10,post,Sheriff,3,,4,5,5,=HYPERLINK("x")
""",
}


def run_cli(*args: str | Path, ok: bool | None = True) -> subprocess.CompletedProcess:
    """Run ``python -m critac_metrics ARGS``; ``ok=True`` asserts exit 0, ``ok=False`` a non-zero
    exit, ``ok=None`` neither."""
    proc = subprocess.run(
        [sys.executable, "-m", "critac_metrics", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if ok is True:
        assert proc.returncode == 0, proc.stderr + proc.stdout
    elif ok is False:
        assert proc.returncode != 0, proc.stdout
    return proc


def write_tiny(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in TINY.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny")
    write_tiny(directory)
    return directory


def ingested(directory: Path, path: Path) -> Path:
    """A database at ``path`` holding the CSV files in ``directory`` (the import must pass)."""
    report = ingest_files(path, sorted(directory.glob("*.csv")))
    assert report.ok, report.summary_lines()
    return path


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory, tiny_dir) -> Path:
    return ingested(tiny_dir, tmp_path_factory.mktemp("tinydb") / "tiny.duckdb")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The demo database, built from the committed data/*.csv exactly as the app builds it."""
    path = tmp_path_factory.mktemp("demodb") / "demo.duckdb"
    report = ingest_files(path, list(DEMO_FILES), is_demo=True)
    assert report.ok, report.summary_lines()
    return path


@pytest.fixture
def tiny_con(tiny_db):
    con = db.connect(tiny_db)
    yield con
    con.close()


@pytest.fixture
def demo_con(demo_db):
    con = db.connect(demo_db)
    yield con
    con.close()


@pytest.fixture
def copy_db(tmp_path):
    def _copy(source: Path) -> Path:
        target = tmp_path / source.name
        shutil.copyfile(source, target)
        return target

    return _copy


def unescape(markdown: str) -> str:
    """The text a Markdown element shows for a string escaped by dashboard.show.plain."""
    return re.sub(r"\\(.)", r"\1", markdown)

"""The data contract: tables, columns, types and allowed values, declared once.

Import validation, the DuckDB DDL and docs/data-contract.md are all derived from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass

AGENCY_TYPES = (
    "municipal",
    "county",
    "sheriff",
    "state",
    "tribal",
    "territorial",
    "campus",
    "other",
)
STATUSES = ("requested", "approved", "in_progress", "completed", "declined", "withdrawn")
ASSISTANCE_TYPES = (
    "training",
    "virtual_consultation",
    "onsite_consultation",
    "policy_review",
    "resource_referral",
    "expert_briefing",
    "peer_exchange",
    "assessment",
)
DELIVERY_MODES = ("virtual", "onsite", "hybrid")
WAVES = ("post", "follow_up")
SURVEY_ITEMS = (
    "satisfaction",
    "knowledge_gain",
    "service_delivery",
    "operations_change",
    "would_recommend",
)
# Requests that were turned down or given up: no assistance will follow.
CLOSED_UNSERVED = ("declined", "withdrawn")
# Statuses that do not count as an engagement: an engagement is a request the programme accepted
# (approved, in progress or completed); one still awaiting approval is not an engagement yet.
NOT_ENGAGED = ("requested", *CLOSED_UNSERVED)

TERRITORIES = ("PR", "GU", "VI", "AS", "MP")
STATES = [
    "AL",
    "AK",
    "AZ",
    "AR",
    "CA",
    "CO",
    "CT",
    "DE",
    "FL",
    "GA",
    "HI",
    "ID",
    "IL",
    "IN",
    "IA",
    "KS",
    "KY",
    "LA",
    "ME",
    "MD",
    "MA",
    "MI",
    "MN",
    "MS",
    "MO",
    "MT",
    "NE",
    "NV",
    "NH",
    "NJ",
    "NM",
    "NY",
    "NC",
    "ND",
    "OH",
    "OK",
    "OR",
    "PA",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VT",
    "VA",
    "WA",
    "WV",
    "WI",
    "WY",
    "DC",
] + list(TERRITORIES)

STATE_NAMES = {
    "AL": "Alabama",
    "AK": "Alaska",
    "AZ": "Arizona",
    "AR": "Arkansas",
    "CA": "California",
    "CO": "Colorado",
    "CT": "Connecticut",
    "DE": "Delaware",
    "FL": "Florida",
    "GA": "Georgia",
    "HI": "Hawaii",
    "ID": "Idaho",
    "IL": "Illinois",
    "IN": "Indiana",
    "IA": "Iowa",
    "KS": "Kansas",
    "KY": "Kentucky",
    "LA": "Louisiana",
    "ME": "Maine",
    "MD": "Maryland",
    "MA": "Massachusetts",
    "MI": "Michigan",
    "MN": "Minnesota",
    "MS": "Mississippi",
    "MO": "Missouri",
    "MT": "Montana",
    "NE": "Nebraska",
    "NV": "Nevada",
    "NH": "New Hampshire",
    "NJ": "New Jersey",
    "NM": "New Mexico",
    "NY": "New York",
    "NC": "North Carolina",
    "ND": "North Dakota",
    "OH": "Ohio",
    "OK": "Oklahoma",
    "OR": "Oregon",
    "PA": "Pennsylvania",
    "RI": "Rhode Island",
    "SC": "South Carolina",
    "SD": "South Dakota",
    "TN": "Tennessee",
    "TX": "Texas",
    "UT": "Utah",
    "VT": "Vermont",
    "VA": "Virginia",
    "WA": "Washington",
    "WV": "West Virginia",
    "WI": "Wisconsin",
    "WY": "Wyoming",
    "DC": "District of Columbia",
    "PR": "Puerto Rico",
    "GU": "Guam",
    "VI": "U.S. Virgin Islands",
    "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
}

# Census regions; territories form their own group.
REGIONS = {
    "Northeast": "CT ME MA NH RI VT NJ NY PA",
    "Midwest": "IL IN MI OH WI IA KS MN MO NE ND SD",
    "South": "DE DC FL GA MD NC SC VA WV AL KY MS TN AR LA OK TX",
    "West": "AZ CO ID MT NV NM UT WY AK CA HI OR WA",
    "Territories": " ".join(TERRITORIES),
}
STATE_REGION = {code: region for region, codes in REGIONS.items() for code in codes.split()}

SIZE_BANDS = ("< 50", "50–249", "250–999", "1,000+", "Unknown")

TOPIC_SEPARATOR = ";"
# Dates outside this range are typos (and years before 1 break date arithmetic downstream).
DATE_RANGE = ("2000-01-01", "2100-12-31")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text" | "date" | "int" | "enum" | "topics"
    required: bool = False
    unique: bool = False
    allowed: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 200  # for text: longer values are rejected (hostile or broken input)
    description: str = ""

    @property
    def sql_type(self) -> str:
        return {"date": "DATE", "int": "BIGINT", "topics": "VARCHAR[]"}.get(self.kind, "VARCHAR")


@dataclass(frozen=True)
class Table:
    name: str
    key: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


AGENCIES = Table(
    "agencies",
    "agency_id",
    (
        Column("agency_id", "text", required=True, unique=True, description="Agency identifier"),
        Column("agency_name", "text", required=True, description="Agency name"),
        Column("agency_type", "enum", required=True, allowed=AGENCY_TYPES),
        Column(
            "state",
            "enum",
            required=True,
            allowed=tuple(STATES),
            description="USPS code of a state, DC or territory",
        ),
        Column("sworn_officers", "int", minimum=0, description="Number of sworn officers"),
        Column("population_served", "int", minimum=0, description="Population served"),
    ),
)

ENGAGEMENTS = Table(
    "engagements",
    "engagement_id",
    (
        Column("engagement_id", "text", required=True, unique=True),
        Column("agency_id", "text", required=True, description="Must exist in agencies"),
        Column("requested_on", "date", required=True, description="Date of the request"),
        Column("status", "enum", required=True, allowed=STATUSES),
        Column("assistance_type", "enum", required=True, allowed=ASSISTANCE_TYPES),
        Column(
            "topics",
            "topics",
            required=True,
            max_length=1000,
            description="One or more topics separated by ';' (the first is the primary topic)",
        ),
        Column("started_on", "date", description="Not before requested_on"),
        Column(
            "completed_on",
            "date",
            description="Not before started_on; required when status is completed",
        ),
        Column("delivery_mode", "enum", allowed=DELIVERY_MODES),
        Column("provider", "text", description="Partner organisation that delivered it"),
        Column("participants", "int", minimum=0, description="People trained or briefed"),
    ),
)

SURVEY_RESPONSES = Table(
    "survey_responses",
    "response_id",
    (
        Column("response_id", "text", required=True, unique=True),
        Column("engagement_id", "text", required=True, description="Must exist in engagements"),
        Column("submitted_on", "date", required=True),
        Column("wave", "enum", allowed=WAVES, description="post (default) or follow_up"),
        Column("respondent_role", "text"),
        *(
            Column(
                item,
                "int",
                minimum=1,
                maximum=5,
                description="Likert answer 1–5; blank = not answered",
            )
            for item in SURVEY_ITEMS
        ),
        Column("comment", "text", max_length=5000),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (AGENCIES, ENGAGEMENTS, SURVEY_RESPONSES)}
# Load order: parents before children.
TABLE_ORDER = ("agencies", "engagements", "survey_responses")


def size_band(sworn_officers: float | None) -> str:
    """The agency size band for a number of sworn officers (pure-Python twin of the SQL CASE)."""
    if sworn_officers is None or sworn_officers != sworn_officers:  # None or NaN
        return "Unknown"
    if sworn_officers < 50:
        return "< 50"
    if sworn_officers < 250:
        return "50–249"
    if sworn_officers < 1000:
        return "250–999"
    return "1,000+"


def _rule(col: Column) -> str:
    parts = []
    if col.kind == "enum":
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.allowed))
    elif col.kind == "int":
        bound = f"{col.minimum}–{col.maximum}" if col.maximum is not None else f">= {col.minimum}"
        parts.append(f"whole number {bound}")
    elif col.kind == "date":
        parts.append(
            f"date `YYYY-MM-DD` (native dates in Parquet/Excel), {DATE_RANGE[0]} to {DATE_RANGE[1]}"
        )
    elif col.kind == "topics":
        parts.append("topic names separated by `;`")
    else:
        parts.append("text")
    if col.kind in ("text", "topics"):
        parts.append(f"at most {col.max_length:,} characters")
    if col.unique:
        parts.append("unique")
    if col.description and col.name != "state":
        parts.append(col.description[0].lower() + col.description[1:])
    return "; ".join(parts)


CONTRACT_INTRO = """# The data contract

Generated from `critac_metrics/schema.py` (`python -m critac_metrics contract`); a test keeps this
file in step with the code that enforces it.

An import is one or more files: CSV (UTF-8, with or without BOM, LF or CRLF line ends), Parquet, or
Excel `.xlsx`. A file's table is named by the start of its file stem (`agencies_2024.csv` feeds
`agencies`); in a workbook, by the start of each sheet name (other sheets are ignored with a warning).
A workbook cell holding a formula is read as the value the workbook saved with it; a workbook
written by a script may have saved none, and is then refused rather than read as blank.

- **Headers** are matched case-insensitively, with surrounding spaces trimmed and inner spaces read
  as underscores (`Agency ID` is `agency_id`). Unknown extra columns are ignored with a warning.
  Optional columns may be left out.
- **Values** are trimmed. A blank cell is a missing value. Enumerated values are matched
  case-insensitively, with spaces or hyphens read as underscores (`In Progress` is `in_progress`).
- **Topics**: one or more names separated by `;`, the first being the primary topic, matched
  case-insensitively to the catalogue in `data/topics.csv`. An unknown topic is kept as a new topic
  (group "Other (not in catalogue)") with a warning.
- **All or nothing.** Any error rejects the whole import and leaves the database exactly as it was.
  The report names the file, the row as a spreadsheet shows it (the header is row 1), the column,
  the offending value and the rule, for every error; when more than 100 rows of a file break the
  same rule in the same column, the first 100 are listed and the rest counted. Warnings do not
  block.
- **Re-importing** a record whose id already exists replaces it; importing the same files twice
  changes nothing. References (`agency_id`, `engagement_id`) may point at rows already stored or
  in the same import.
- A malformed, empty or binary file, or one whose table cannot be told from its name, gets a
  one-line error.
"""

CONTRACT_RULES = {
    "engagements": [
        "`started_on` is not before `requested_on`; `completed_on` is not before `started_on` "
        "(nor `requested_on`).",
        "`completed_on` is required when `status` is `completed`.",
        "`declined` and `withdrawn` requests are not counted as engagements.",
    ],
    "survey_responses": [
        "A blank answer means not answered (it is not counted in n).",
        "A blank `wave` is `post`.",
    ],
}


def _input_rules() -> str:
    """What any file must be, whatever its table (the bounds are the readers' own constants)."""
    from . import readers  # readers imports this module

    return f"""- **Control characters** (U+0000–U+001F other than tab, line feed and carriage return, and
  U+007F) are refused in every cell and header of every file, anywhere in the file, known column or
  not: each such cell is an error with its row, column and the character. In a workbook, Excel's
  escapes such as `_x000B_` are read as the character they stand for.
- **Workbooks** are bounded before they are read: all their parts together may expand to at
  most {readers.MAX_WORKBOOK_BYTES // 2**20:,} MB, no part over {readers.RATIO_FROM_BYTES // 2**20:,} MB \
to more than {readers.MAX_COMPRESSION_RATIO:,} times its compressed size,
  and no cell may hold more than {readers.MAX_CELL_CHARS:,} characters (Excel's own limit). A
  workbook beyond these is refused; import bigger data as CSV or Parquet.
- A file given as a **symbolic link**, or that is not a regular file (a folder, pipe or device),
  is refused without being read.
"""


def contract_markdown() -> str:
    lines = [CONTRACT_INTRO + _input_rules()]
    for table in TABLES.values():
        lines += [f"## {table.name}", "", "| column | required | rule |", "|---|---|---|"]
        lines += [
            f"| `{c.name}` | {'yes' if c.required else 'no'} | {_rule(c)} |" for c in table.columns
        ]
        lines += [""] + [f"- {rule}" for rule in CONTRACT_RULES.get(table.name, [])]
        lines.append("")
    lines += ["## States and territories", "", ", ".join(f"`{s}`" for s in STATES), ""]
    return "\n".join(lines)

"""A report folder as `make compare` and `make stability` read it: its claims.csv and runs.csv,
plain or gzipped, checked for the columns the comparison needs, and the confidence level the
run was measured at.

A folder is `results/report/`, an archive's `report/` (reports/*/report, an unpacked
libtorch-claims-report.zip's report/), or the archive's top folder holding that `report/`.

The level (`report.confidence_level`) is taken from, in order:
1. the configuration recorded beside the report: `config/config.used.yaml` (the zip's layout);
2. claims.csv's `confidence` column on its fixed-schedule rows (`stop` = fixed: claim 1),
   which are looked at once, so their interval's level is the base level itself (a sampled
   cell's level is 1 - (1 - base) / looks, and claims.csv does not say how many looks);
3. the configuration files kept beside an archive (`config/*.yaml`, later files winning),
   where they set it; else the default, 0.95, which the page and stdout then call assumed.
Only two levels that are both known (1 or 2) and differ stop a comparison.

Older archives: claims.csv without `processes`, `stop`, `confidence` (every interval at the
base level), and the verdict `no clear difference`, which later became `equivalent` (its
reason says the interval lies inside the band: "too small to matter") or `inconclusive`.
"""

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from .agreement import KEY
from .comparisons import CLAIM_COLUMNS
from .samples import read_table
from .stats import VERDICTS

# Every claims.csv has had these; the ones appended later (processes, stop, confidence, and the
# spike rows' rates and excess) are read where present.
REQUIRED_COLUMNS = CLAIM_COLUMNS[: CLAIM_COLUMNS.index("processes")]
NUMERIC_COLUMNS = ["ratio", "ci_low", "ci_high", "confidence", "excess", "excess_low", "excess_high"]
DEFAULT_LEVEL = 0.95
LEGACY_VERDICT = "no clear difference"


class ReportError(ValueError):
    """Input the comparison cannot use; the message names the cause and the fix."""


@dataclass
class Report:
    role: str  # baseline, candidate, run 1, ...
    folder: Path
    claims: pd.DataFrame
    runs: pd.DataFrame | None  # None: the folder has no runs.csv
    level: float  # report.confidence_level of the run
    level_source: str  # where `level` comes from, in words
    level_known: bool  # False: assumed (the default)
    notes: list = field(default_factory=list)


def table_path(folder, name):
    """folder/name.csv or folder/name.csv.gz, or None."""
    for candidate in (folder / f"{name}.csv", folder / f"{name}.csv.gz"):
        if candidate.is_file():
            return candidate
    return None


def report_dir(path, role):
    """The folder holding claims.csv(.gz): `path` itself or its report/ (an archive's top)."""
    if not str(path):
        raise ReportError(f"no {role} given: name a report folder (make compare BASELINE=<folder>)")
    path = Path(path)
    if path.is_file() and path.name in ("claims.csv", "claims.csv.gz"):
        path = path.parent
    if path.suffix == ".zip":
        raise ReportError(f"the {role} {path} is a zip: unpack it (unzip {path}) and give the folder it holds")
    if not path.exists():
        fix = (
            "make the report first (make report) or name one with CANDIDATE=<folder> (--candidate)"
            if role == "candidate"
            else "give a report folder, e.g. reports/2026-12-05-all-releases/report or an unpacked "
            "libtorch-claims-report.zip"
        )
        raise ReportError(f"the {role} folder {path} does not exist: {fix}")
    for folder in (path, path / "report"):
        if table_path(folder, "claims"):
            return folder
    raise ReportError(
        f"the {role} folder {path} holds no claims.csv (plain or .gz): give the folder of a report's "
        "claims.csv and runs.csv (results/report, or an archive's report/)"
    )


def read_csv(path, role, reader):
    """reader(path), or ReportError where the file is not a CSV (binary, empty, a broken gzip)."""
    try:
        return reader(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as error:
        table = Path(path).name.split(".")[0]
        raise ReportError(
            f"the {role}'s {path} cannot be read as a CSV ({error}): give a report's {table}.csv"
        ) from None


def read_claims(path, role="report"):
    """A claims.csv (plain or gzipped), checked and with older verdict words mapped to today's."""
    claims = read_csv(path, role, read_table)
    missing = [c for c in REQUIRED_COLUMNS if c not in claims.columns]
    if missing:
        raise ReportError(
            f"the {role}'s {path} lacks {len(missing)} of the {len(REQUIRED_COLUMNS)} columns a claims.csv has "
            f"({', '.join(missing[:6])}{' ...' if len(missing) > 6 else ''}): it is another table or another "
            "schema; give the claims.csv of a report made by this pipeline"
        )
    repeated = int(claims.duplicated(KEY).sum())
    if repeated:
        raise ReportError(
            f"the {role}'s {path} has {repeated} rows that repeat another's claim, comparison, version, device, "
            "front, case and variants: it is not one run's claims.csv; give the claims.csv of a single report"
        )
    for column in NUMERIC_COLUMNS:
        if column in claims:
            claims[column] = pd.to_numeric(claims[column], errors="coerce")
    legacy = claims.verdict == LEGACY_VERDICT
    inside = claims.reason.fillna("").str.contains("too small to matter")
    claims.loc[legacy, "verdict"] = "inconclusive"
    claims.loc[legacy & inside, "verdict"] = "equivalent"
    unknown = sorted(set(claims.verdict.dropna()) - set(VERDICTS))
    if unknown:
        raise ReportError(
            f"the {role}'s {path} has verdicts this tool does not know ({', '.join(unknown)}; known: "
            f"{', '.join(VERDICTS)}): give a claims.csv made by this pipeline"
        )
    claims.attrs["legacy_verdicts"] = int(legacy.sum())
    return claims


ARCHIVE_TOP = "libtorch-claims-report"  # the top folder of the zip archive_report writes
RUN_ARCHIVE = f"{ARCHIVE_TOP}.zip"  # beside results/report


def config_files(folder):
    """Configuration kept beside a report: the zip's config.used.yaml, an archive's config/, or
    for a run's own results/report the config.used.yaml in the archive the run wrote beside it."""
    for config_dir in (folder / "config", folder.parent / "config"):
        used = config_dir / "config.used.yaml"
        if used.is_file():
            return [used], True
        if config_dir.is_dir():
            return sorted(config_dir.glob("*.yaml")), False
    archive = folder.parent / RUN_ARCHIVE
    if archive.is_file():
        try:
            used = zipfile.Path(archive, f"{ARCHIVE_TOP}/config/config.used.yaml")
            if used.is_file():
                return [used], True
        except (OSError, zipfile.BadZipFile):
            pass
    return [], False


def recorded_level(files):
    """report.confidence_level of the last file that sets it, with that file; else (None, None)."""
    level, source = None, None
    for path in files:
        try:
            config = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        value = (config.get("report") or {}).get("confidence_level") if isinstance(config, dict) else None
        if value is not None:
            level, source = float(value), path
    return level, source


def base_level(claims, folder):
    """(level, where it comes from, known) of the run: see the module docstring."""
    files, complete = config_files(folder)
    level, source = recorded_level(files)
    if complete and level is not None:
        return level, f"from {source}", True
    if "confidence" in claims and "stop" in claims:
        fixed = claims.loc[claims.stop == "fixed", "confidence"].dropna()
        if not fixed.empty:
            return float(fixed.mode().iloc[0]), "from claims.csv's fixed-schedule rows", True
    if level is not None:
        return level, f"from {source}", True
    names = ", ".join(p.name for p in files)
    why = f"its config files ({names}) do not set it" if files else "no configuration or fixed-schedule row records it"
    return DEFAULT_LEVEL, f"assumed, the default: {why}", False


def read_report(path, role):
    """The report at `path` for the comparison; ReportError naming cause and fix where it cannot be."""
    folder = report_dir(path, role)
    claims = read_claims(table_path(folder, "claims"), role)
    notes = []
    if claims.attrs["legacy_verdicts"]:
        notes.append(
            f"{claims.attrs['legacy_verdicts']} of its verdicts read 'no clear difference' (an older word): "
            "taken as equivalent where the interval lay inside the band, else inconclusive."
        )
    runs_path = table_path(folder, "runs")
    # as text: a commit or a configuration hash of digits (and an 'e') must not become a number
    runs = read_csv(runs_path, role, lambda p: pd.read_csv(p, dtype=str, keep_default_na=False)) if runs_path else None
    if runs is None:
        notes.append("It has no runs.csv: its provenance is not compared.")
    level, source, known = base_level(claims, folder)
    if "confidence" not in claims:
        notes.append(f"Its claims.csv records no level per interval: each is taken at the run's level, {level:g}.")
    return Report(role, folder, claims, runs, level, source, known, notes)


def check_levels(first, second):
    """Verdicts and intervals at different confidence levels answer different questions: refuse."""
    if first.level_known and second.level_known and abs(first.level - second.level) > 1e-9:
        raise ReportError(
            f"the {first.role} and the {second.role} were measured at different confidence levels (report."
            f"confidence_level): {first.level:g} ({first.folder}, {first.level_source}) and {second.level:g} "
            f"({second.folder}, {second.level_source}), so their verdicts answer different questions. Rerun "
            f"the {second.role} with `report: {{confidence_level: {first.level:g}}}` in a --configfile, or compare "
            f"it with a {first.role} measured at {second.level:g}"
        )

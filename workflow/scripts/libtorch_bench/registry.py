"""The claim registry (workflow/resources/comparisons.yaml): per claim its technique, grid
axes, floor, variant styles, figures and mechanism, and the comparisons that answer it.
Everything else in the pipeline asks this module instead of repeating those facts."""

import fnmatch
import string
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "resources" / "comparisons.yaml"
METRICS = ("median", "p99", "max", "spikes", "first_call", "process_total")
FIGURE_KINDS = ("platform", "across")
GENERIC_COLORS = ["#cf222e", "#0969da", "#fb8500", "#2a9d8f", "#bc6c25", "#d63384", "#6c757d", "#20c997"]


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Figure:
    name: str  # file stem: results/report/figures/[{version}/{device}/]{name}.png
    claim: str
    kind: str  # platform (one per libtorch version and device) or across (one for all)
    draw: str  # a drawer of libtorch_bench.figures, e.g. "claim2.time"
    caption: str  # stem of workflow/report/<caption>.rst
    label: str
    title: str
    section: str = "figures"  # where the page shows it: with the claim's figures, under "why", or "findings"


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    category: str
    technique: str
    blog: str
    floor: str | None
    axes: tuple = ()
    grid: dict = field(default_factory=dict)
    variants: dict = field(default_factory=dict)  # name -> {"color", "label"}
    figures: tuple = ()
    mechanism: str | None = None
    controls: str = ""  # the variant the run's controls are built on (see csrc/harness/harness.h)
    findings: dict = field(default_factory=dict)  # the rules of its plain-words finding (libtorch_bench/findings.py)
    trend: dict = field(default_factory=dict)  # {comparison, family}: what its version trend follows (trend.py)

    @property
    def is_grid(self):
        """Run by run_technique over a parameter grid (else the technique plans its own runs)."""
        return bool(self.axes)


def _figures(claim_id, entries):
    if entries is None:  # a new claim gets a time-per-case figure and the version trend
        entries = [
            {
                "name": f"claim{claim_id}_time",
                "kind": "platform",
                "draw": "generic.time_by_case",
                "caption": "generic_time",
                "label": "time per case",
                "title": f"Claim {claim_id}: time per case",
            },
            {
                "name": f"claim{claim_id}_trend",
                "kind": "across",
                "draw": "across.trend",
                "caption": "generic_trend",
                "label": "trend",
                "title": f"Claim {claim_id}: ratio by libtorch version",
            },
            {
                "name": f"claim{claim_id}_glance",
                "kind": "across",
                "draw": "across.trend_glance",
                "caption": "generic_trend_glance",
                "section": "findings",
                "label": "trend at a glance",
                "title": f"Claim {claim_id}: the trend at a glance",
            },
        ]
    figures = []
    for entry in entries:
        if entry.get("kind") not in FIGURE_KINDS:
            raise RegistryError(
                f"claim {claim_id}: figure {entry.get('name')} has kind {entry.get('kind')!r}, "
                f"not one of {FIGURE_KINDS}"
            )
        figures.append(
            Figure(
                name=entry["name"],
                claim=claim_id,
                kind=entry["kind"],
                draw=entry["draw"],
                caption=entry.get("caption", entry["name"]),
                label=entry.get("label", entry["name"]),
                title=entry.get("title", entry["name"]),
                section=entry.get("section", "figures"),
            )
        )
    return tuple(figures)


# The sentences of a claim's answer across releases (findings.across, libtorch_bench/findings_across.py)
# and the placeholders each may fill.
ACROSS_CHANGE = {"family", "value", "direction", "before", "after", "ratio_before", "ratio_after", "because", "since"}
ACROSS_ENDS = {"first", "last"}
ACROSS_SENTENCES = {"change": ACROSS_CHANGE, "also": ACROSS_CHANGE, "flat": ACROSS_ENDS, "untold": ACROSS_ENDS}


def _check_across(claim_id, across):
    """A typo in findings.across fails when the registry loads, not when the page is drawn."""
    if not across:
        return
    unknown = set(across) - set(ACROSS_SENTENCES) - {"slow", "fast"}
    missing = {"change", "flat"} - set(across)
    if unknown or missing:
        raise RegistryError(
            f"claim {claim_id}: findings.across has {sorted(unknown)} and lacks {sorted(missing)} "
            f"(known: {sorted(ACROSS_SENTENCES)}, slow, fast; change and flat are needed)"
        )
    for key, allowed in ACROSS_SENTENCES.items():
        named = {name for _, name, _, _ in string.Formatter().parse(across.get(key, "")) if name}
        if named - allowed:
            raise RegistryError(
                f"claim {claim_id}: findings.across.{key} names {sorted(named - allowed)}; "
                f"it may fill {sorted(allowed)}"
            )


def _claim(claim_id, spec):
    missing = {"title", "technique", "blog"} - set(spec)
    if missing:
        raise RegistryError(f"claim {claim_id} lacks {sorted(missing)}")
    axes = tuple(spec.get("axes") or ())
    grid = dict(spec.get("grid") or {})
    if set(grid) - set(axes):
        raise RegistryError(f"claim {claim_id}: grid names {sorted(set(grid) - set(axes))}, which are not its axes")
    _check_across(claim_id, (spec.get("findings") or {}).get("across"))
    return Claim(
        id=claim_id,
        title=spec["title"],
        category=spec.get("category", f"Claim {claim_id}: {spec['title']}"),
        technique=spec["technique"],
        blog=spec["blog"],
        floor=spec.get("floor"),
        axes=axes,
        grid=grid,
        variants=dict(spec.get("variants") or {}),
        figures=_figures(claim_id, spec.get("figures")),
        mechanism=spec.get("mechanism"),
        controls=spec.get("controls") or "",
        findings=dict(spec.get("findings") or {}),
        trend=dict(spec.get("trend") or {}),
    )


class Registry:
    def __init__(self, claims, comparisons):
        self.claims = claims  # id (str) -> Claim, in file order
        self.comparisons = comparisons  # list of dicts, each with a str "claim"

    # ---- claims and techniques -------------------------------------------------------------
    def claim_of(self, technique):
        for claim in self.claims.values():
            if claim.technique == technique:
                return claim
        raise KeyError(f"no claim is measured by technique {technique!r}")

    @property
    def techniques(self):
        return [c.technique for c in self.claims.values()]

    @property
    def grid_techniques(self):
        return [c.technique for c in self.claims.values() if c.is_grid]

    @property
    def floors(self):
        return {c.floor for c in self.claims.values() if c.floor}

    def comparisons_of(self, claim_id):
        return [c for c in self.comparisons if c["claim"] == claim_id]

    # ---- figures ---------------------------------------------------------------------------
    def figures(self, kind=None):
        return [f for c in self.claims.values() for f in c.figures if kind is None or f.kind == kind]

    def figure(self, name):
        for f in self.figures():
            if f.name == name:
                return f
        raise KeyError(f"no figure named {name!r} in the registry")

    # ---- variants --------------------------------------------------------------------------
    def style(self, variant):
        """(colour, label) from the registry, or None for a variant it does not style."""
        for claim in self.claims.values():
            if variant in claim.variants:
                spec = claim.variants[variant]
                return spec["color"], spec["label"]
        return None

    def legend_order(self):
        return [v for c in self.claims.values() for v in c.variants]

    def named_variants(self, claim_id):
        """Every variant the registry names for a claim (styles, floor, comparisons), and the
        globs its comparisons use: what the technique must offer."""
        claim = self.claims[claim_id]
        names, globs = set(claim.variants), set()
        if claim.floor:
            names.add(claim.floor)
        for comparison in self.comparisons_of(claim_id):
            for spec in (comparison["slow"], comparison["fast"]):
                for item in spec["fastest_of"] if isinstance(spec, dict) else [spec]:
                    if item == "each":
                        continue
                    (globs if is_pattern(item) else names).add(item)
        return names, globs


def is_control(variant):
    """The controls every run carries (control_same, control_twice, control_plus20): variants of
    the harness, not of the technique; shown in "Can this run tell?", not among the variants."""
    return variant.startswith("control_")


def is_pattern(spec):
    return any(ch in spec for ch in "*?[")


def matches(spec, name):
    return fnmatch.fnmatchcase(name, spec)


def load(path=DEFAULT_PATH):
    spec = yaml.safe_load(Path(path).read_text())
    claims = {str(k): _claim(str(k), v) for k, v in spec["claims"].items()}
    comparisons = spec["comparisons"]
    ids = [c["id"] for c in comparisons]
    if len(ids) != len(set(ids)):
        raise RegistryError(f"{path}: comparison ids are not unique")
    techniques = [c.technique for c in claims.values()]
    if len(techniques) != len(set(techniques)):
        raise RegistryError(f"{path}: two claims name the same technique")
    for c in comparisons:
        c["claim"] = str(c["claim"])
        if c["claim"] not in claims:
            raise RegistryError(f"{path}: comparison {c['id']} names unknown claim {c['claim']}")
        if c["metric"] not in METRICS:
            raise RegistryError(f"{path}: comparison {c['id']} has metric {c['metric']!r}; known: {METRICS}")
    for claim_id, claim in claims.items():  # a claim that names no trend follows its first primary comparison
        primary = [c["id"] for c in comparisons if c["claim"] == claim_id and c.get("primary")]
        if not claim.trend and primary and claim.axes:
            claims[claim_id] = replace(claim, trend={"comparison": primary[0], "family": claim.axes[-1]})
    return Registry(claims, comparisons)

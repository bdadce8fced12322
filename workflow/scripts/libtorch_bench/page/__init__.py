"""The product's answer: one self-contained HTML page (inline CSS, figures as data URIs, no
script, no network) that tells, for each claim of the blog, on each libtorch version and
device: does it hold, by how much, how sure we are, and why. A wide run (releases.py) adds a
page per release, just as self-contained, for the detail behind it.

The data is shaped here (verdicts.py, figures.py, mechanism.py, provenance.py); the markup is
the Jinja2 template workflow/report/page.html.jinja2, which draws both kinds of page."""

import os
from pathlib import Path

import jinja2

from .. import format as fmt
from ..findings import findings
from ..findings_across import SIDE_TOLERANCE
from ..provenance import git_commit, mixed_provenance
from ..samples import HARNESS_VARIANT, read_table
from . import releases, trust, verdicts
from .figures import caption_params, claim_figures
from .mechanism import mechanism_items
from .provenance import provenance

TEMPLATE_DIR = Path(__file__).resolve().parents[3] / "report"


def platform_names(runs):
    """'libtorch 1.8.1 on cpu, libtorch 2.13.0 (installed) on cpu, ...': the config's key only
    where it is not the version itself."""
    keys = runs[["libtorch", "version", "device"]].drop_duplicates()
    keys = keys.assign(order=keys["libtorch"].map(verdicts.version_key)).sort_values(["order", "device"])
    names = keys.assign(
        name=[r.libtorch + (f" ({r.version})" if r.version != r.libtorch else "") for r in keys.itertuples()]
    )
    devices = names.groupby("name", sort=False)["device"].agg(tuple)
    if len(keys) > fmt.NAMED and devices.nunique() == 1:  # a wide run: each version once
        versions = list(devices.index)
        return f"libtorch {', '.join(versions[:-1])} and {versions[-1]}, each on {' and '.join(devices.iloc[0])}"
    return ", ".join(
        f"{r.libtorch}" + (f" ({r.version})" if r.version != r.libtorch else "") + f" on {r.device}"
        for r in keys.itertuples(index=False)
    )


def claim_section(registry, claim, claims, figures):
    """A claim's part of a page: its comparisons (each a table of its cases), its figures, and
    why some platforms have none."""
    rows = claims[claims.claim == claim.id]
    measured = (rows.verdict != "not run").any()
    return {
        "id": claim.id,
        "title": claim.title,
        "blog": claim.blog,
        "comparisons": [
            {
                "question": c["question"],
                "id": c["id"],
                "metric": c["metric"],
                "primary": bool(c.get("primary")),
                "table": verdicts.comparison_table(claims, c),
            }
            for c in registry.comparisons_of(claim.id)
            if not c.get("control")
        ],
        "not_measured": None
        if measured
        else "; ".join(r.removeprefix("not run: ") for r in sorted(set(rows["reason"].dropna()))),
        "figures": figures["shown"],
        "figures_not_run": figures["not_run"],
    }


def with_glance(found, figures, registry):
    """The findings, each claim said across releases with its trend at a glance beside it (a link
    to its full trend figure below)."""
    for c in found["claims"]:
        c["glance"] = figures[c["id"]]["glance"] if c["across"] else None
        trend = [f.name for f in registry.claims[c["id"]].figures if f.draw == "across.trend"]
        c["trend_href"] = f"#{trend[0]}" if trend else f"#claim{c['id']}"
    return found


def build(registry, claims, runs, mechanism, drift, inputs, platforms, caption_dir, config, report_dir, data_links):
    """The page's data, in the template's terms: index.html's (a wide run's platform figures go
    to its release pages instead, build_release)."""
    settings = config["report"]
    split = releases.is_split(platforms)
    params = caption_params(registry, config)
    figures = {
        claim.id: claim_figures(claim, inputs, runs, [] if split else platforms, caption_dir, params)
        for claim in registry.claims.values()
    }
    claim_sections = [
        claim_section(registry, claim, claims, figures[claim.id])
        | {"mechanism": mechanism_items(mechanism, claim), "why_figures": figures[claim.id]["why"]}
        for claim in registry.claims.values()
    ]
    nav = releases.navigation(runs, platforms) if split else []
    glance = verdicts.glance(claims, registry)
    for row, platform in zip(glance["rows"], verdicts.ordered_platforms(claims), strict=True):
        row["href"] = releases.page_name(platform[1]) if split else None
    if split:  # 23 rows of 'cuda: not run, no CUDA device' say one thing
        glance["rows"] = verdicts.compact_not_run(glance["rows"], verdicts.ordered_platforms(claims))
    commit = git_commit()
    drift_warning, drift_spread = trust.drift(drift, float(config["sampling"]["probe_drift"]))
    return {
        "kind": "index",
        "split": split,
        "releases": nav,
        "platforms": releases.span(nav, platforms) if split else platform_names(runs),
        "settings": settings,
        "sampling": config["sampling"],
        "harness": {**harness_settings(config), "batched": batched_cases(summary_of(data_links), registry)},
        "claim1": config.get("techniques", {}).get("model_inference", {}),
        "mixed_provenance": mixed_provenance(runs),
        "drift_warning": drift_warning,
        "drift_spread": drift_spread,
        "controls": trust.controls(claims, registry, settings),
        "errors": trust.error_budget(claims),
        "findings": with_glance(findings(registry, claims), figures, registry),
        "side_tolerance": SIDE_TOLERANCE,
        "glance": glance,
        "claims": claim_sections,
        "provenance": provenance(runs, config, report_dir, commit),
        "tables": [{"href": os.path.relpath(p, report_dir), "name": Path(p).name} for p in data_links],
    }


def build_release(registry, claims, runs, inputs, platforms, caption_dir, config, report_dir, release, nav):
    """A release page's data (releases.py): the release's rows of the glance and of every
    comparison, its platform figures, its runs; a link back to the answer and to its neighbours."""
    version = release["version"]
    claims, runs = claims[claims.version == version], runs[runs.version == version]
    platforms = [(v, d) for v, d in platforms if v == version]
    params = caption_params(registry, config)
    at = [r["version"] for r in nav].index(version)
    glance = verdicts.glance(claims, registry)
    for row in glance["rows"]:
        row["href"] = None
    return {
        "kind": "release",
        "split": False,
        "release": release,
        "previous": nav[at - 1] if at else None,
        "next": nav[at + 1] if at + 1 < len(nav) else None,
        "platforms": platform_names(runs),
        "settings": config["report"],
        "glance": glance,
        "claims": [
            claim_section(registry, claim, claims, figures)
            for claim in registry.claims.values()
            for figures in [claim_figures(claim, inputs, runs, platforms, caption_dir, params, across=False)]
        ],
        "provenance": provenance(runs, config, report_dir, git_commit()),
    }


def environment():
    """The templates of workflow/report/ (this page's and make compare's, which share style.css)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def batched_cases(summary, registry):
    """Which cells this run timed in batches, per claim: 'claim 2: 9 of 16 cases (8 calls per sample
    to 512)', from summary.csv's batch column (the most calls a sample of the case held)."""
    if summary is None or "batch" not in summary or summary.empty:
        return []
    lines = []
    for claim in registry.claims.values():
        rows = summary[(summary.technique == claim.technique) & (summary.variant != HARNESS_VARIANT)]
        if rows.empty:
            continue
        per_case = rows.groupby(["version", "device", "front", "params"])["batch"].max()
        batched = per_case[per_case > 1]
        if len(batched):
            calls = f"{batched.min()}" if batched.min() == batched.max() else f"{batched.min()} to {batched.max()}"
            lines.append(f"claim {claim.id}: {len(batched)} of {len(per_case)} cases ({calls} calls per sample)")
    return lines


def harness_settings(config):
    """How the run's processes timed and allocated, in the Method section's words."""
    harness = config.get("harness", {})
    malloc = harness.get("malloc", {})
    parts = [
        f"{name.replace('_', ' ')} {value / 2**20:g} MiB"
        for name, value in (
            ("mmap threshold", malloc.get("mmap_threshold", 0)),
            ("trim threshold", malloc.get("trim_threshold", 0)),
        )
        if value
    ]
    return {
        "batch_target": float(harness.get("batch_target", 1)),
        "malloc_text": ", ".join(parts) or "none set: glibc's defaults",
    }


def summary_of(tables):
    """summary.csv among the page's tables, if it is there."""
    path = next((p for p in tables if Path(p).name == "summary.csv"), None)
    return read_table(path) if path and Path(path).is_file() else None


def render(page):
    return environment().get_template("page.html.jinja2").render(page=page)


def render_all(registry, claims, runs, mechanism, drift, inputs, platforms, caption_dir, config, report_dir, tables):
    """{file name: html}: index.html and, for a wide run, release-<version>.html per release
    (releases.page_names), each to be written into report_dir."""
    data = build(registry, claims, runs, mechanism, drift, inputs, platforms, caption_dir, config, report_dir, tables)
    pages = {"index.html": render(data)}
    for release in data["releases"]:
        detail = build_release(
            registry, claims, runs, inputs, platforms, caption_dir, config, report_dir, release, data["releases"]
        )
        pages[release["href"]] = render(detail)
    return pages

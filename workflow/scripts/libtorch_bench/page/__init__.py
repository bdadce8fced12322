"""The product's answer: one self-contained HTML page (inline CSS, figures as data URIs, no
script, no network) that tells, for each claim of the blog, on each libtorch version and
device: does it hold, by how much, how sure we are, and why.

The data is shaped here (verdicts.py, mechanism.py, provenance.py); the markup is the Jinja2
template workflow/report/page.html.jinja2."""

import os
from pathlib import Path

import jinja2

from .. import format as fmt
from ..findings import findings
from ..provenance import git_commit, mixed_provenance
from ..samples import HARNESS_VARIANT, read_table
from . import trust, verdicts
from .captions import caption_html, data_uri
from .mechanism import mechanism_items
from .provenance import provenance

TEMPLATE_DIR = Path(__file__).resolve().parents[3] / "report"


def platform_status(runs, version, device, technique):
    sel = runs[(runs.version == version) & (runs.device == device) & (runs.technique == technique)]
    if sel.empty:
        return f"not run: technique {technique} was not measured"
    if not (sel.status == "ok").any():
        return f"not run: {sel.iloc[0]['reason'] or sel.iloc[0]['status']}"
    return ""


def caption_params(registry, config):
    """What the captions may name, as the plot rules pass it to Snakemake's report: each grid
    technique's parameter values (`snakemake.params.grid.<technique>.<axis>`)."""
    techniques = config.get("techniques", {})
    return {
        "grid": {
            c.technique: {a: techniques.get(c.technique, {}).get(a, c.grid.get(a)) for a in c.axes}
            for c in registry.claims.values()
            if c.is_grid
        }
    }


def figure_entry(path, caption_dir, figure, values, title, params):
    return {
        "src": data_uri(path),
        "alt": title,
        "title": title,
        "caption": caption_html(caption_dir, figure.caption, values, params),
    }


def claim_figures(claim, inputs, runs, platforms, caption_dir, params):
    """The claim's figures in page order: each platform figure for every platform its technique
    ran on, then the across figures; the 'why' ones apart; and one line per reason why the
    technique did not run on the other platforms."""
    shown, why, not_run = [], [], {}
    libtorch_of = runs.groupby("version")["libtorch"].first().to_dict()
    for version, device in platforms:
        reason = platform_status(runs, version, device, claim.technique)
        if reason:
            not_run.setdefault(reason.removeprefix("not run: "), []).append(
                f"{libtorch_of.get(version, version)} {device}"
            )
    for figure in claim.figures:
        if figure.kind == "platform":
            for version, device in platforms:
                if platform_status(runs, version, device, claim.technique):
                    continue
                libtorch = libtorch_of.get(version, version)
                title = f"{figure.title} — libtorch {libtorch} on {device}"
                values = {"version": version, "device": device, "libtorch": libtorch}
                path = inputs[f"{figure.name}_{version}_{device}"]
                shown.append(figure_entry(path, caption_dir, figure, values, title, params))
        else:
            (why if figure.section == "why" else shown).append(
                figure_entry(inputs[figure.name], caption_dir, figure, {}, figure.title, params)
            )
    lines = [f"{', '.join(where)}: {reason}" for reason, where in not_run.items()]
    return shown, why, lines


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


def build(registry, claims, runs, mechanism, drift, inputs, platforms, caption_dir, config, report_dir, data_links):
    """The page's data, in the template's terms."""
    settings = config["report"]
    claim_sections = []
    for claim in registry.claims.values():
        rows = claims[claims.claim == claim.id]
        measured = (rows.verdict != "not run").any()
        figures, why_figures, figures_not_run = claim_figures(
            claim, inputs, runs, platforms, caption_dir, caption_params(registry, config)
        )
        claim_sections.append(
            {
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
                "figures": figures,
                "figures_not_run": figures_not_run,
                "mechanism": mechanism_items(mechanism, claim),
                "why_figures": why_figures,
            }
        )
    commit = git_commit()
    drift_warning, drift_spread = trust.drift(drift, float(config["sampling"]["probe_drift"]))
    return {
        "platforms": platform_names(runs),
        "settings": settings,
        "sampling": config["sampling"],
        "harness": {**harness_settings(config), "batched": batched_cases(summary_of(data_links), registry)},
        "claim1": config.get("techniques", {}).get("model_inference", {}),
        "mixed_provenance": mixed_provenance(runs),
        "drift_warning": drift_warning,
        "drift_spread": drift_spread,
        "controls": trust.controls(claims, registry, settings),
        "errors": trust.error_budget(claims),
        "findings": findings(registry, claims),
        "glance": verdicts.glance(claims, registry),
        "claims": claim_sections,
        "provenance": provenance(runs, config, report_dir, commit),
        "tables": [{"href": os.path.relpath(p, report_dir), "name": Path(p).name} for p in data_links],
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

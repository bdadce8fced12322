"""The product's answer: one self-contained HTML page (inline CSS, figures as data URIs, no
script, no network) that tells, for each claim of the blog, on each libtorch version and
device: does it hold, by how much, how sure we are, and why.

The data is shaped here (verdicts.py, mechanism.py, provenance.py); the markup is the Jinja2
template workflow/report/page.html.jinja2."""

import os
from pathlib import Path

import jinja2

from ..provenance import git_commit, mixed_provenance
from . import verdicts
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


def figure_entry(path, caption_dir, figure, values, title):
    return {
        "src": data_uri(path),
        "alt": title,
        "title": title,
        "caption": caption_html(caption_dir, figure.caption, values),
    }


def claim_figures(registry, claim, inputs, runs, platforms, caption_dir):
    """The claim's figures in page order: each platform figure for every platform (a 'not run'
    line where its technique did not run there), then the across figures; the 'why' ones apart."""
    shown, why = [], []
    for figure in claim.figures:
        if figure.kind == "platform":
            for version, device in platforms:
                libtorch = (
                    runs[runs.version == version]["libtorch"].iloc[0] if (runs.version == version).any() else version
                )
                title = f"{figure.title} — libtorch {libtorch} on {device}"
                reason = platform_status(runs, version, device, claim.technique)
                shown.append(
                    {"title": title, "not_run": reason}
                    if reason
                    else figure_entry(
                        inputs[f"{figure.name}_{version}_{device}"],
                        caption_dir,
                        figure,
                        {"version": version, "device": device, "libtorch": libtorch},
                        title,
                    )
                )
        else:
            (why if figure.section == "why" else shown).append(
                figure_entry(inputs[figure.name], caption_dir, figure, {}, figure.title)
            )
    return shown, why


def platform_names(runs):
    """'libtorch 1.8.1 on cpu, libtorch 2.13.0 (installed) on cpu, ...': the config's key only
    where it is not the version itself."""
    keys = runs[["libtorch", "version", "device"]].drop_duplicates()
    keys = keys.assign(order=keys["libtorch"].map(verdicts.version_key)).sort_values(["order", "device"])
    return ", ".join(
        f"{r.libtorch}" + (f" ({r.version})" if r.version != r.libtorch else "") + f" on {r.device}"
        for r in keys.itertuples(index=False)
    )


def build(registry, claims, runs, mechanism, inputs, platforms, caption_dir, config, settings, report_dir, data_links):
    """The page's data, in the template's terms."""
    claim_sections = []
    for claim in registry.claims.values():
        rows = claims[claims.claim == claim.id]
        measured = (rows.verdict != "not run").any()
        figures, why_figures = claim_figures(registry, claim, inputs, runs, platforms, caption_dir)
        claim_sections.append(
            {
                "id": claim.id,
                "title": claim.title,
                "blog": claim.blog,
                "answer": verdicts.answer(claims, claim.id, registry),
                "comparisons": [
                    {
                        "question": c["question"],
                        "id": c["id"],
                        "metric": c["metric"],
                        "primary": bool(c.get("primary")),
                        "table": verdicts.comparison_table(claims, c),
                    }
                    for c in registry.comparisons_of(claim.id)
                ],
                "not_measured": None
                if measured
                else "; ".join(r.removeprefix("not run: ") for r in sorted(set(rows["reason"].dropna()))),
                "figures": figures,
                "mechanism": mechanism_items(mechanism, claim),
                "why_figures": why_figures,
            }
        )
    commit = git_commit()
    return {
        "platforms": platform_names(runs),
        "settings": settings,
        "mixed_provenance": mixed_provenance(runs),
        "glance": verdicts.glance(claims, registry),
        "claims": claim_sections,
        "provenance": provenance(runs, config, report_dir, commit),
        "tables": [{"href": os.path.relpath(p, report_dir), "name": Path(p).name} for p in data_links],
    }


def render(page):
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("page.html.jinja2").render(page=page)

"""The product's answer: one self-contained HTML page (inline CSS, figures as base64 data URIs,
no script, no network) that tells, for each claim of the blog, on each libtorch version and
device: does it hold, by how much, how sure we are, and why.

Figure captions are the same reStructuredText files Snakemake's own report uses
(workflow/report/*.rst), rendered here with the figure's version and device filled in.
"""

import base64
import datetime
import html
import os
import re
import sys
from pathlib import Path

import numpy as np
import yaml

from provenance import git_commit
from report_data import load_comparisons, mixed_provenance, parse_params, read_table, version_key

VERDICT_CLASS = {"holds": "holds", "reversed": "reversed", "no clear difference": "unclear", "not run": "notrun"}
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;max-width:1180px;margin:0 auto;
padding:0 18px 60px;color:#1f2328;line-height:1.45}
h1{font-size:1.7em;margin-top:1.2em}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.5em}table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #d0d7de;padding:3px 7px;vertical-align:top;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.v{display:inline-block;padding:0 6px;border-radius:9px;font-size:.85em;font-weight:600;white-space:nowrap}
.holds{background:#dafbe1;color:#116329}.reversed{background:#ffebe9;color:#a40e26}
.unclear{background:#eaeef2;color:#424a53}.notrun{background:#fff8c5;color:#7d4e00}.mixed{background:#fbefff;color:#6e40c9}.warning{border:2px solid #bf8700;background:#fff8c5;padding:.5em 1em;margin:1em 0}
figure{margin:1.2em 0}figure img{max-width:100%;border:1px solid #eaeef2}
figcaption{font-size:.9em;color:#3d444d;max-width:900px}blockquote{border-left:4px solid #d0d7de;margin:0;
padding:.2em 1em;color:#57606a}.answer{font-size:1.05em;background:#f6f8fa;padding:.6em 1em;border-radius:6px}
details{margin:.6em 0}summary{cursor:pointer;font-weight:600}code{background:#f6f8fa;padding:0 3px;border-radius:3px}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;font-size:.82em}.small{font-size:.85em;color:#57606a}
"""


def esc(text):
    return html.escape(str(text), quote=True)


def badge(verdict, text=None):
    cls = VERDICT_CLASS.get(verdict, "mixed")
    return f'<span class="v {cls}">{esc(text or verdict)}</span>'


def fmt_ratio(value):
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value:.3g}×"


def fmt_ns(ns):
    if ns is None or not np.isfinite(ns):
        return "–"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


# ---- captions (the .rst files shared with Snakemake's report) -----------------------------------

def rst_to_html(text, values):
    """The small subset of reStructuredText the captions use: paragraphs, ``code``, *emphasis*,
    **strong**, and Jinja-style {{ snakemake.wildcards.X }} placeholders."""
    text = re.sub(r"\{\{\s*snakemake\.wildcards\.(\w+)\s*\}\}", lambda m: values.get(m.group(1), m.group(0)), text)
    text = esc(text)
    text = re.sub(r"``(.+?)``", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    paragraphs = [p.strip().replace("\n", " ") for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def figure_html(path, caption_dir, caption_name, values, alt):
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    caption_file = Path(caption_dir) / f"{caption_name}.rst"
    caption = rst_to_html(caption_file.read_text(), values) if caption_file.exists() else ""
    return (f'<figure><img alt="{esc(alt)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{caption}</figcaption></figure>")


# ---- verdict summaries ----------------------------------------------------------------------------

def cell_label(libtorch, device, front):
    return f"{libtorch} · {device}" + ("" if front == "cpp" else f" · {front}")


def ordered_cells(table):
    cells = table[["libtorch", "version", "device", "front"]].drop_duplicates()
    cells = cells.assign(order=cells["libtorch"].map(version_key))
    cells = cells.sort_values(["order", "version", "device", "front"])
    return [tuple(c) for c in cells[["libtorch", "version", "device", "front"]].itertuples(index=False)]


def summarize_cell(rows):
    """One verdict for a comparison in one cell, from its per-case verdicts."""
    measured = rows[rows.verdict != "not run"]
    if measured.empty:
        reasons = rows["reason"].dropna().unique()
        return {"word": "not run", "class": "not run", "text": reasons[0] if len(reasons) else "not run"}
    counts = measured["verdict"].value_counts()
    n, holds, rev = len(measured), int(counts.get("holds", 0)), int(counts.get("reversed", 0))
    ratios = measured["ratio"][np.isfinite(measured["ratio"]) & (measured["ratio"] > 0)]
    geo = float(np.exp(np.log(ratios).mean())) if len(ratios) else float("nan")
    spread = f"{fmt_ratio(ratios.min())}–{fmt_ratio(ratios.max())}" if len(ratios) > 1 else fmt_ratio(geo)
    if holds == n:
        word, cls = "holds", "holds"
    elif rev == n:
        word, cls = "reversed", "reversed"
    elif holds and rev:
        word, cls = f"mixed: holds in {holds}, reversed in {rev} of {n}", "mixed"
    elif holds:
        word, cls = f"holds in {holds} of {n}", "holds" if holds * 2 > n else "mixed"
    elif rev:
        word, cls = f"reversed in {rev} of {n}", "reversed" if rev * 2 > n else "mixed"
    else:
        word, cls = "no clear difference", "no clear difference"
    return {"word": word, "class": cls, "text": f"ratio {spread} (geometric mean {fmt_ratio(geo)}) over {n} case(s)",
            "n": n, "holds": holds, "reversed": rev, "geo": geo}


def glance_table(claims, comparisons, claim_titles):
    primary = claims[claims.primary.astype(str).str.lower().isin(["true", "1"])]
    cells = ordered_cells(claims)
    head = "".join(f"<th>{esc(cell_label(c[0], c[2], c[3]))}</th>" for c in cells)
    body = []

    def cell_rows(rows, cell):
        return rows[(rows.libtorch == cell[0]) & (rows.version == cell[1]) & (rows.device == cell[2])
                    & (rows.front == cell[3])]

    for claim in sorted(claim_titles):
        wanted = [c for c in comparisons if c["claim"] == claim and c.get("primary")]
        rows = primary[primary.claim == claim]
        title = f"Claim {claim}: {esc(claim_titles[claim]['title'])}"
        if rows.empty or (rows.verdict == "not run").all():  # one line, the reason per cell
            tds = []
            for cell in cells:
                part = cell_rows(rows, cell)
                tds.append(f"<td>{badge('not run')}<br><span class='small'>{esc(part['reason'].iloc[0])}</span></td>"
                           if len(part) else '<td class="small">–</td>')
            body.append(f"<tr><th>{title}</th>{''.join(tds)}</tr>")
            continue
        for comparison in wanted:
            part_rows = rows[rows.comparison == comparison["id"]]
            tds = []
            for cell in cells:
                part = cell_rows(part_rows, cell)
                if part.empty:
                    tds.append('<td class="small">–</td>')
                    continue
                s = summarize_cell(part)
                tds.append(f"<td>{badge(s['class'], s['word'])}<br><span class='small'>{esc(s['text'])}</span></td>")
            body.append(f"<tr><th>{title}<br><span class='small'>{esc(comparison['id'])} "
                        f"({esc(comparison['metric'])})</span></th>" + "".join(tds) + "</tr>")
    return f"<table><tr><th>claim · comparison</th>{head}</tr>{''.join(body)}</table>"


def answer_sentences(claims, claim, comparisons):
    """Plain sentences: per cell, what the primary comparisons say; contradictions said plainly."""
    out = []
    rows = claims[claims.claim == claim]
    for cell in ordered_cells(rows):
        part = rows[(rows.libtorch == cell[0]) & (rows.version == cell[1]) & (rows.device == cell[2])
                    & (rows.front == cell[3])]
        bits, contradicted, supported = [], False, False
        for comparison in comparisons:
            if comparison["claim"] != claim or not comparison.get("primary"):
                continue
            s = summarize_cell(part[part.comparison == comparison["id"]])
            if s["word"] == "not run":
                bits.append(f"{comparison['metric']}: not run ({s['text'].removeprefix('not run: ')})")
                continue
            contradicted |= s.get("reversed", 0) > 0
            supported |= s.get("holds", 0) > 0
            bits.append(f"{comparison['metric']}: {s['word']}, {s['text']}")
        label = f"libtorch {cell[0]} on {cell[2]}" + ("" if cell[3] == "cpp" else f" ({cell[3]} front)")
        if part[part.primary.astype(str).str.lower().isin(["true", "1"])].verdict.eq("not run").all():
            out.append(f"<li><strong>{esc(label)}</strong> — {badge('not run')} "
                       f"{esc(part['reason'].iloc[0].removeprefix('not run: ').rstrip('.'))}.</li>")
            continue
        lead = ""
        if contradicted:  # and where other cases bear it out, say both
            lead = ("<strong>The data is mixed here: some cases bear the claim out, others contradict it.</strong> "
                    if supported else "<strong>The data contradicts the claim here.</strong> ")
        out.append(f"<li>{lead}<strong>{esc(label)}</strong> — {esc('; '.join(bits))}.</li>")
    return "<ul class='answer'>" + "".join(out) + "</ul>"


def case_order(case):
    """Cases in numeric order of their parameters (B=1 before B=16), text after numbers."""
    return tuple((0, v, "") if isinstance(v, (int, float)) else (1, 0, str(v))
                 for _, v in sorted(parse_params(case).items()))


def comparison_table(claims, comparison):
    rows = claims[claims.comparison == comparison["id"]]
    if rows.empty:
        return ""
    all_cells = ordered_cells(rows)
    measured = rows[rows.verdict != "not run"]
    # Cells where nothing ran get one line under the table instead of a column of repeats.
    cells = [c for c in all_cells if ((measured.libtorch == c[0]) & (measured.version == c[1])
                                      & (measured.device == c[2]) & (measured.front == c[3])).any()]
    pairs = measured[["case", "slow_variant", "fast_variant"]].drop_duplicates()
    pairs = pairs.assign(order=pairs["case"].map(case_order)).sort_values(["order", "slow_variant", "fast_variant"])
    head = "".join(f"<th>{esc(cell_label(c[0], c[2], c[3]))}</th>" for c in cells)
    lines = []
    not_run = []
    for cell in all_cells:
        part = rows[(rows.libtorch == cell[0]) & (rows.version == cell[1]) & (rows.device == cell[2])
                    & (rows.front == cell[3])]
        if (part.verdict == "not run").all():
            not_run.append(f"{cell_label(cell[0], cell[2], cell[3])}: {part['reason'].iloc[0]}")
    for pair in pairs.itertuples(index=False):
        tds = []
        for cell in cells:
            r = rows[(rows.libtorch == cell[0]) & (rows.version == cell[1]) & (rows.device == cell[2])
                     & (rows.front == cell[3]) & (rows.case == pair.case) & (rows.slow_variant == pair.slow_variant)
                     & (rows.fast_variant == pair.fast_variant)]
            if r.empty:
                cellrows = rows[(rows.libtorch == cell[0]) & (rows.version == cell[1]) & (rows.device == cell[2])
                                & (rows.front == cell[3])]
                reason = cellrows["reason"].iloc[0] if len(cellrows) and (cellrows.verdict == "not run").all() else ""
                tds.append(f"<td>{badge('not run')}<br><span class='small'>{esc(reason)}</span></td>"
                           if reason else "<td class='small'>–</td>")
                continue
            r = r.iloc[0]
            if r.verdict == "not run":
                tds.append(f"<td>{badge('not run')}<br><span class='small'>{esc(r.reason)}</span></td>")
                continue
            extra = ""
            if comparison["metric"] in ("p99", "max", "spikes"):
                extra = (f"<br><span class='small'>p99 {fmt_ns(r.p99_slow_ns)} vs {fmt_ns(r.p99_fast_ns)}; "
                         f"max {fmt_ns(r.max_slow_ns)} vs {fmt_ns(r.max_fast_ns)}; spikes {int(r.spikes_slow)} vs "
                         f"{int(r.spikes_fast)} of {int(r.n_slow)}</span>")
            else:
                extra = (f"<br><span class='small'>{fmt_ns(r.median_slow_ns)} vs {fmt_ns(r.median_fast_ns)}, "
                         f"{int(r.rounds)} rounds</span>")
            tds.append(f"<td class='num'>{fmt_ratio(r.ratio)} <span class='small'>[{r.ci_low:.3g}, {r.ci_high:.3g}]"
                       f"</span> {badge(r.verdict)}{extra}</td>")
        lines.append(f"<tr><td>{esc(pair.case)}</td><td>{esc(pair.slow_variant)}</td><td>{esc(pair.fast_variant)}</td>"
                     + "".join(tds) + "</tr>")
    table = ""
    if lines:
        table = (f"<table><tr><th>case</th><th>slow</th><th>fast</th>{head}</tr>{''.join(lines)}</table>")
    notes = "".join(f"<li>{badge('not run')} {esc(n)}</li>" for n in not_run)
    return table + (f"<ul class='small'>{notes}</ul>" if notes else "")


# ---- mechanism text ------------------------------------------------------------------------------

def mechanism_text(mech, claim):
    part = mech[mech.claim == claim]
    if part.empty:
        return "<p>Not measured: there is no data for this claim's mechanism.</p>"
    items = []
    if claim == "1":
        wide = part.pivot_table(index=["libtorch", "device", "front", "variant"], columns="quantity",
                                values="value", aggfunc="sum", fill_value=0)
        for (libtorch, device, front, variant), r in wide.iterrows():
            spikes = int(r.get("spikes", 0))
            if not spikes:
                continue
            events = ", ".join(f"{q.split(':', 1)[1]} ×{int(v)}" for q, v in r.items()
                               if str(q).startswith("event:") and v)
            items.append(f"libtorch {libtorch} on {device}, {variant}: {spikes} spikes in {int(r.get('calls', 0))} "
                         f"calls; {int(r.get('spikes_at_new_shape', 0))} on the first call with a new input shape, "
                         f"{int(r.get('spikes_on_event_same_shape', 0))} more on calls the runner marked with an "
                         f"event" + (f" (events seen: {events})" if events else ""))
        if not items:
            items.append("No variant had a spike in any scenario.")
    elif claim == "2":
        per_row = part[part.quantity == "per_row_ns"]
        for (libtorch, device, front, case), g in per_row.groupby(["libtorch", "device", "front", "case"], sort=False):
            values = dict(zip(g["variant"], g["value"]))
            if {"rows_from_blob_vstack", "flat_from_blob"} <= set(values):
                floor = values.get("floor_memcpy", float("nan"))
                items.append(f"libtorch {libtorch} on {device}, {case}: each extra row costs "
                             f"{fmt_ns(values['rows_from_blob_vstack'])} with from_blob + vstack, "
                             f"{fmt_ns(values['flat_from_blob'])} with one from_blob over a flat vector, "
                             f"{fmt_ns(floor)} for a plain copy")
    elif claim == "3":
        conv = part[part.quantity == "conversion_ns"]
        share = part[part.quantity == "conversion_share"]
        for (libtorch, device, front), g in conv.groupby(["libtorch", "device", "front"], sort=False):
            s = share[(share.libtorch == libtorch) & (share.device == device) & (share.front == front)]["value"]
            items.append(f"libtorch {libtorch} on {device}" + ("" if front == "cpp" else f" ({front})")
                         + f": one mask → indices conversion costs {fmt_ns(g['value'].min())}–"
                         f"{fmt_ns(g['value'].max())} depending on size and density, "
                         f"{100 * s.min():.0f}–{100 * s.max():.0f}% of each mask-indexing call")
    return "<ul>" + "".join(f"<li>{esc(i)}.</li>" for i in items) + "</ul>"


# ---- provenance --------------------------------------------------------------------------------

def recorded(run, column, unset=("",)):
    """A text column of runs.csv, '' where unset (an empty cell reads back as NaN; older tables
    lack gpu and environment)."""
    value = getattr(run, column, "")
    return value.strip() if isinstance(value, str) and value.strip() not in unset else ""


def provenance_html(runs, config, report_dir, commit):
    cols = ["version", "libtorch", "device", "technique", "front", "status", "reason", "samples", "date",
            "git_commit", "compiler", "cxx11_abi", "threads", "wall_seconds"]
    rows = []
    for r in runs.sort_values(["version", "device", "technique", "front"]).itertuples(index=False):
        links = " ".join(f'<a href="{esc(os.path.relpath(p, report_dir))}">{esc(Path(p).name)}</a>'
                         for p in (r.csv, r.json))
        cells = "".join(f"<td>{esc(getattr(r, c))}</td>" for c in cols)
        rows.append(f"<tr>{cells}<td>{links}</td></tr>")
    first = runs.iloc[0] if len(runs) else None
    machine = ""
    if first is not None:
        machine = (f"<p>Machine: <code>{esc(first.host)}</code>, {esc(first.cpu_model)}, {esc(first.cores)} cores, "
                   f"{esc(first.os)}, Python {esc(first.python)}"
                   + (f", GPU: {esc(recorded(first, 'gpu'))}" if recorded(first, "gpu") else "") + ".</p>"
                   + (f"<p>Tuning variables set: <code>{esc(recorded(first, 'environment'))}</code>.</p>"
                      if recorded(first, "environment", unset=("", "none")) else ""))
    return (machine + f"<p>Report built from commit <code>{esc(commit)}</code> on "
            f"{datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}.</p>"
            f"<table><tr>{''.join(f'<th>{c}</th>' for c in cols)}<th>raw data</th></tr>{''.join(rows)}</table>"
            f"<details><summary>Configuration of this run</summary><pre>{esc(yaml.safe_dump(config, sort_keys=False))}"
            "</pre></details>")


# ---- the page -----------------------------------------------------------------------------------

def render(claims, runs, mech, comparisons_path, figures, caption_dir, config, settings, report_dir, data_links):
    claim_info, comparisons = load_comparisons(comparisons_path)
    commit = git_commit()
    cells = ordered_cells(runs.assign(front="cpp"))
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>libtorch inference claims: "
             f"the verdicts</title><meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<style>{CSS}</style></head><body>"]
    parts.append(
        "<h1>Do the 2021 libtorch inference tips still hold?</h1>"
        "<p>A 2021 blog post (“Techniques for speeding up pytorch/libtorch inference”, ompugao, on libtorch 1.8.1) "
        "makes three claims about "
        "making libtorch inference fast. This page answers each one with measurements, on each libtorch version "
        "and device this pipeline ran: " + esc(", ".join(f"{c[0]} ({c[1]}) on {c[2]}" for c in cells)) + ".</p>"
        "<p>Every comparison asks whether a <em>slow</em> variant takes longer than a <em>fast</em> one, as the "
        f"ratio slow / fast with a {100 * float(settings['confidence_level']):g}% bootstrap interval. "
        f"{badge('holds')} the whole interval lies above {float(settings['holds_above']):g} (the slow one is "
        f"clearly slower); {badge('reversed')} it lies below {float(settings['reversed_below']):g} (the opposite "
        f"of the claim); {badge('no clear difference')} anything else; {badge('not run')} nothing was measured, "
        "with the reason. Method details are at the end.</p>")
    mixed = mixed_provenance(runs)
    if mixed:  # before any verdict: a reader must know the numbers were not taken together
        parts.append("<div class='warning' id='mixed-provenance'><strong>Mixed provenance.</strong> "
                     + " ".join(esc(m) for m in mixed)
                     + " Compare verdicts across these groups with care, or rerun everything together "
                     "(<code>snakemake --cores all --forceall</code>).</div>")
    parts.append("<h2>At a glance</h2>" + glance_table(claims, comparisons, claim_info))
    for claim in ("1", "2", "3"):
        info = claim_info[claim]
        parts.append(f"<h2 id='claim{claim}'>Claim {claim} — {esc(info['title'])}</h2>"
                     f"<blockquote>{esc(info['blog'])}</blockquote>")
        parts.append("<h3>Answer</h3>" + answer_sentences(claims, claim, comparisons))
        for comparison in comparisons:
            if comparison["claim"] != claim:
                continue
            table = comparison_table(claims, comparison)
            title = (f"{esc(comparison['question'])} <span class='small'>({esc(comparison['id'])}, "
                     f"metric: {esc(comparison['metric'])})</span>")
            if comparison.get("primary"):
                parts.append(f"<h3>{title}</h3>{table}")
            else:
                parts.append(f"<details><summary>{title}</summary>{table}</details>")
        measured = (claims[claims.claim == claim].verdict != "not run").any()
        if not measured:  # one line instead of a card per figure
            reasons = sorted(set(claims[claims.claim == claim]["reason"].dropna()))
            parts.append(f"<p>{badge('not run')} No figures for this claim: "
                         f"{esc('; '.join(r.removeprefix('not run: ') for r in reasons))}.</p>")
            continue
        for fig in figures:
            if fig["claim"] == claim and fig["kind"] != "mechanism":
                if fig.get("status", "ok") != "ok":
                    parts.append(f"<p class='small'>{esc(fig['title'])}: {badge('not run')} "
                                 f"{esc(fig['reason'])}</p>")
                    continue
                parts.append(figure_html(fig["path"], caption_dir, fig["caption"], fig["values"], fig["title"]))
        parts.append("<h3>Why: what the measurements say about the mechanism</h3>" + mechanism_text(mech, claim))
        for fig in figures:
            if fig["claim"] == claim and fig["kind"] == "mechanism":
                parts.append(figure_html(fig["path"], caption_dir, fig["caption"], fig["values"], fig["title"]))
    parts.append(method_html(settings))
    parts.append("<h2>Provenance and raw data</h2>" + provenance_html(runs, config, report_dir, commit))
    parts.append("<p>Tables: " + " · ".join(f'<a href="{esc(os.path.relpath(p, report_dir))}">{esc(Path(p).name)}</a>'
                                           for p in data_links) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def method_html(settings):
    return f"""<h2>Method</h2>
<p><strong>Samples.</strong> Each variant of a technique is called in interleaved rounds whose order rotates;
every call is one sample. Summary statistics (n, median, IQR, p99, max, coefficient of variation) are in
<code>summary.csv</code>. A <em>spike</em> is a call slower than {float(settings['spike_factor']):g}× the median of
the same variant in the same case. The harness's own cost per sample (variant <code>harness_empty</code>) is listed
as <code>harness_ns</code> in <code>claims.csv</code>; ratios are not corrected for it, so where the fast
variant is only a few times the harness cost the ratio understates the difference.</p>
<p><strong>Intervals.</strong> Bootstrap ({esc(settings['method'])} interval, {int(settings['n_resamples'])}
resamples, confidence {float(settings['confidence_level']):g}, <code>scipy.stats.bootstrap</code>, seeded from
report seed {int(settings['seed'])} and the comparison's identity, so the same data always gives the same
verdicts). Medians, first calls and per-process totals resample <em>whole rounds, paired</em>: a replicate draws
rounds with replacement and takes both variants from the same rounds, because variants are interleaved within a
round and share the machine's state; calls within a round are not independent. For cold start a round is a fresh
process. The tail (p99, max, spike rate) resamples <em>single calls of each variant independently</em>: spikes
are rare and cluster where their cause puts them (the first call with a new shape is in the first round), so
resampling rounds would make the interval hinge on the round a handful of spikes fell in. The spike metric is
the ratio of smoothed spike rates (spikes + 0.5) / (calls + 1), finite when one side has none. The interval of a
maximum only says how much the maximum rests on single calls.
Fewer than {int(settings['min_rounds'])} rounds give no verdict (<em>no clear difference</em>).</p>
<p><strong>Verdicts.</strong> holds: interval above {float(settings['holds_above']):g}; reversed: interval below
{float(settings['reversed_below']):g}; otherwise no clear difference (the reason column says whether the interval
is too wide or the difference too small to matter). Per claim and cell, the at-a-glance word counts the cases:
<em>holds</em> when every case holds, <em>holds in k of n</em> otherwise; any reversed case is reported as such.
Comparisons that pick “the fastest other variant” choose it on the same data, which favours finding one.</p>"""


def main(snakemake):
    with open(snakemake.log[0], "w") as log:
        sys.stderr = log
        claims = read_table(snakemake.input.claims)
        runs = read_table(snakemake.input.runs)
        mech = read_table(snakemake.input.mechanism)
        report_dir = str(Path(snakemake.output.html).parent)
        figures = figure_list(dict(snakemake.input.items()), runs, snakemake.params.cells)
        page = render(claims, runs, mech, snakemake.input.comparisons, figures, snakemake.params.caption_dir,
                      snakemake.params.config, snakemake.params.settings, report_dir,
                      [snakemake.input.claims, snakemake.input.summary, snakemake.input.mechanism,
                       snakemake.input.runs])
        Path(snakemake.output.html).write_text(page, encoding="utf-8")
        print(f"{len(page) / 1e6:.2f} MB", file=log)


CELL_FIGURES = {  # output name -> (claim, technique, caption, title)
    "claim1_latency": ("1", "model_inference", "claim1_latency", "Claim 1: latency per call"),
    "claim1_distribution": ("1", "model_inference", "claim1_distribution", "Claim 1: latency distributions"),
    "claim2_time": ("2", "batch_from_rows", "claim2_time", "Claim 2: time vs B and N"),
    "claim3_time": ("3", "mask_indexing", "claim3_time", "Claim 3: time vs size and density"),
}


def figure_list(inputs, runs, cells):
    """Figures in page order with their captions; a cell whose technique did not run is a
    `not run` line instead of an image."""
    figures = []
    for claim in ("1", "2", "3"):
        for name, (fclaim, technique, caption, title) in CELL_FIGURES.items():
            if fclaim != claim:
                continue
            for version, device in cells:
                path = inputs.get(f"{name}_{version}_{device}")
                sel = runs[(runs.version == version) & (runs.device == device) & (runs.technique == technique)]
                libtorch = runs[runs.version == version]["libtorch"].iloc[0] if (runs.version == version).any() \
                    else version
                status, reason = "ok", ""
                if sel.empty:
                    status, reason = "not run", f"not run: technique {technique} was not measured"
                elif not (sel.status == "ok").any():
                    status, reason = "not run", f"not run: {sel.iloc[0]['reason'] or sel.iloc[0]['status']}"
                figures.append({"claim": claim, "kind": "cell", "path": path, "caption": caption, "status": status,
                                "reason": reason, "title": f"{title} — libtorch {libtorch} on {device}",
                                "values": {"version": version, "device": device, "libtorch": libtorch}})
        figures.append({"claim": claim, "kind": "trend", "path": inputs[f"claim{claim}_trend"],
                        "caption": f"claim{claim}_trend", "title": f"Claim {claim}: ratio by libtorch version",
                        "values": {}})
        figures.append({"claim": claim, "kind": "mechanism", "path": inputs[f"claim{claim}_mechanism"],
                        "caption": f"claim{claim}_mechanism", "title": f"Claim {claim}: mechanism", "values": {}})
    return figures


if __name__ == "__main__" and "snakemake" in globals():
    main(snakemake)  # noqa: F821 -- injected by Snakemake's script directive

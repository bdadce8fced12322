"""Does this run reproduce an archived report? Holds the current report (results/report, or
--candidate) against a baseline report folder (claims.csv and runs.csv, plain or gzipped: any
archive under reports/, an unpacked libtorch-claims-report.zip), verdict by verdict, and writes
results/compare/: comparison.csv (one row per comparison both measured: both ratios, intervals
and verdicts, how the verdict moved, the calibrated agreement z; agreement.py), unmatched.csv
(what only one side measured), index.html (the same in words, in the report's style) and
summary.txt (what stdout says).

    python -m libtorch_bench.compare BASELINE [--candidate results/report] [--out results/compare] [--strict]

Across machines absolute times differ: ratios and verdicts are compared, and a difference of
machine is said before anything else. Exit 0 when the comparison was made, also when nothing
is in common (it says why); 2 for input it cannot use, naming the cause and the fix, with
nothing written; with --strict, 1 when any decided verdict moved (holds, reversed, equivalent
to another of them; moves to or from inconclusive are more or less data, not a contradiction).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from . import agreement, registry
from . import format as fmt
from .atomic import write_text_atomic
from .compare_page import render
from .finding_changes import changed_findings
from .provenance import provenance_differences
from .report_folder import ReportError, check_levels, read_report
from .samples import readable_case

NAMES = ("baseline", "candidate")
SHOWN_ON_STDOUT = 5  # worst differences printed; the page lists more, comparison.csv all


def machine_of(runs):
    """'vm: AMD EPYC, 2 cores' of a runs table's measured runs, and their dates."""
    if runs is None:
        return "", ""
    measured = runs[runs.status == "ok"] if "status" in runs else runs
    if measured.empty:
        return "", ""
    first = measured.iloc[0]
    gpu = f", GPU {first.get('gpu')}" if str(first.get("gpu", "")).strip() else ""
    dates = sorted(d[:10] for d in measured.get("date", []) if d)
    when = (dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}") if dates else ""
    return f"{first.get('host', '')}: {first.get('cpu_model', '')}, {first.get('cores', '')} cores{gpu}", when


def describe(report):
    machine, when = machine_of(report.runs)
    return {
        "role": report.role,
        "folder": str(report.folder),
        "measured": int((report.claims.verdict != "not run").sum()),
        "platforms": agreement.measured_on(report.claims)[0],
        "machine": machine,
        "when": when,
        "level": f"{report.level:g}",
        "level_source": report.level_source,
        "notes": report.notes,
    }


def side_text(row, side):
    """'3.93× [3.49, 4.35] holds' of one side of a matched row (the excess where z used it)."""
    s = agreement.suffix(side)
    if row["z_scale"] == "excess rate":
        value = f"excess {row[f'excess{s}']:.3g} [{row[f'excess_low{s}']:.3g}, {row[f'excess_high{s}']:.3g}]"
    else:
        value = f"{fmt.ratio(row[f'ratio{s}'])} [{row[f'ci_low{s}']:.3g}, {row[f'ci_high{s}']:.3g}]"
    return {"value": value, "verdict": row[f"verdict{s}"]}


def difference_rows(result):
    """The worst-first differences as the page and stdout show them."""
    out = []
    for row in agreement.worst(result).to_dict("records"):
        libtorch = row[f"libtorch{agreement.suffix(NAMES[1])}"]
        out.append(
            {
                "claim": row["claim"],
                "comparison": row["comparison"],
                "metric": row["metric"],
                "platform": agreement.platform_label(libtorch, row["version"], row["device"], row["front"]),
                "case": readable_case(row["case"]),
                "variants": f"{row['slow_variant']} vs {row['fast_variant']}",
                "baseline": side_text(row, NAMES[0]),
                "candidate": side_text(row, NAMES[1]),
                "moved": row["moved"],
                "z": "–" if np.isnan(row["z"]) else f"{row['z']:+.2f}",
            }
        )
    return out


def agreement_words(counts, result, n_baseline, n_candidate):
    """How far the two runs agree, in plain words."""
    n, m = counts["comparisons"], counts["with_interval"]
    words = [
        f"{n} comparisons were measured in both runs (of {n_baseline} measured in the baseline and "
        f"{n_candidate} in the candidate). Their verdicts agree in {agreement.percent(counts['agree'], n)}; "
        f"{counts['moved_between_decided']} moved between decided states ({counts['holds_reversed']} of them holds "
        f"↔ reversed) and {counts['to_or_from_inconclusive']} to or from inconclusive."
    ]
    if m:
        words.append(
            f"Of the {m} with an interval on both sides, {agreement.percent(counts['within_uncertainty'], m)} agree "
            f"within their uncertainty (|z| ≤ {result.threshold:.2f}; about {100 * result.level:.0f}% would if both "
            f"runs measured the same thing with calibrated intervals) and {counts['beyond_uncertainty']} differ "
            f"beyond it (about {(1 - result.level) * m:.0f} would by chance)."
        )
    if counts["no_interval"]:
        words.append(f"{counts['no_interval']} have no interval on one side or both, so no z.")
    return " ".join(words)


def machine_words(differences):
    machine = [d for d in differences if d["machine"]]
    if not machine:
        return ""
    parts = "; ".join(
        f"{d['what']}: {', '.join(d['first']) or 'none'} against {', '.join(d['second']) or 'none'}" for d in machine
    )
    return (
        f"The two runs were measured on different machines ({parts}). Absolute times are expected to differ: "
        "ratios and verdicts are compared."
    )


def assemble(baseline, candidate, claims_registry):
    """Everything the page, the CSVs and stdout say."""
    result = agreement.compare(baseline.claims, candidate.claims, names=NAMES, levels=(baseline.level, candidate.level))
    counts = agreement.counts(result)
    changed, common, platforms = changed_findings(claims_registry, baseline.claims, candidate.claims)
    differences = (
        provenance_differences(baseline.runs, candidate.runs)
        if baseline.runs is not None and candidate.runs is not None
        else []
    )
    n_baseline, n_candidate = (describe(r)["measured"] for r in (baseline, candidate))
    matched = counts["comparisons"] > 0
    return {
        "result": result,
        "counts": counts,
        "sides": [describe(baseline), describe(candidate)],
        "machines": machine_words(differences),
        "nothing": "" if matched else agreement.nothing_in_common(result, baseline.claims, candidate.claims),
        "agreement": agreement_words(counts, result, n_baseline, n_candidate) if matched else "",
        "summary": agreement.summary_lines(result),
        "findings": {
            "changed": changed,
            "common": common,
            "platforms": platforms,
        },
        "differences": difference_rows(result),
        "provenance": differences,
        "unmatched": agreement.unmatched(result, baseline.claims, candidate.claims).to_dict("records"),
        "strict_fail": counts["moved_between_decided"] > 0,
    }


def findings_words(findings):
    if not findings["common"]:
        return "Findings: no platform measured by both, so none compared."
    on = f"on the {findings['common']} platforms both measured"
    if findings["common"] < max(findings["platforms"]):
        on += f" (of {findings['platforms'][0]} in the baseline and {findings['platforms'][1]} in the candidate)"
    if not findings["changed"]:
        return f"Findings: no claim's finding changed {on}."
    return f"Findings changed {on}: " + "; ".join(f"claim {c['id']} ({c['question']})" for c in findings["changed"])


def stdout_text(page, out):
    lines = [
        f"{s['role'].capitalize()}: {s['folder']}: {s['measured']} comparisons measured on {s['platforms']}"
        + (f"; {s['machine']}" if s["machine"] else "")
        + (f", {s['when']}" if s["when"] else "")
        + f"; confidence level {s['level']}, {s['level_source']}"
        for s in page["sides"]
    ]
    lines += [f"  {s['role']}: {note}" for s in page["sides"] for note in s["notes"]]
    if page["machines"]:
        lines.append(page["machines"])
    if page["nothing"]:
        lines.append(page["nothing"])
    else:
        lines += page["summary"]
        lines.append(findings_words(page["findings"]))
        shown = page["differences"][:SHOWN_ON_STDOUT]
        if shown:
            lines.append(
                f"Differ beyond their uncertainty or moved between decided verdicts: {len(page['differences'])}; "
                f"the worst {len(shown)}:"
            )
            lines += [
                f"  z {d['z']}: claim {d['claim']} {d['comparison']} ({d['variants']}), {d['platform']}, {d['case']}: "
                f"{d['baseline']['value']} {d['baseline']['verdict']} -> {d['candidate']['value']} "
                f"{d['candidate']['verdict']}"
                for d in shown
            ]
    if page["provenance"]:
        lines.append(
            "Provenance differs: "
            + "; ".join(
                f"{d['what']} ({', '.join(d['first']) or 'none'} | {', '.join(d['second']) or 'none'})"
                for d in page["provenance"]
            )
        )
    only = {}
    for row in page["unmatched"]:
        only[row["side"]] = only.get(row["side"], 0) + row["comparisons"]
    if only:
        lines.append(
            "Not matched: "
            + "; ".join(f"{n} comparisons measured in the {side} only" for side, n in only.items())
            + f" ({out / 'unmatched.csv'} lists them, the page says why)"
        )
    lines.append(f"Wrote {out / 'index.html'} and {out / 'comparison.csv'}.")
    return "\n".join(lines)


def check_out(out, *reports):
    """The output must not land in a report it reads (results/report stays untouched)."""
    for report in reports:
        if out.resolve() == report.folder.resolve() or report.folder.resolve() in out.resolve().parents:
            raise ReportError(
                f"--out {out} is inside the {report.role} folder {report.folder}: give another folder "
                "(default results/compare)"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", help="report folder to compare against (claims.csv and runs.csv, plain or .gz)")
    parser.add_argument("--candidate", default="results/report", help="the run to check (default: results/report)")
    parser.add_argument("--out", default="results/compare", help="where to write (default: results/compare)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any decided verdict moved")
    args = parser.parse_args(argv)
    out = Path(args.out)
    try:
        baseline = read_report(args.baseline, "baseline")
        candidate = read_report(args.candidate, "candidate")
        check_levels(baseline, candidate)
        check_out(out, baseline, candidate)
    except ReportError as error:
        print(f"compare: {error}.", file=sys.stderr)
        return 2
    page = assemble(baseline, candidate, registry.load())
    rows = page["result"].rows.sort_values(agreement.KEY)
    write_text_atomic(out / "comparison.csv", rows.to_csv(index=False, float_format="%.6g"))
    only = [t.assign(side=side) for side, t in page["result"].only.items()]
    unmatched = pd.concat(only, ignore_index=True)
    write_text_atomic(out / "unmatched.csv", unmatched.to_csv(index=False, float_format="%.6g"))
    write_text_atomic(out / "index.html", render(page))
    text = stdout_text(page, out)
    write_text_atomic(out / "summary.txt", text + "\n")
    print(text)
    if args.strict and page["strict_fail"]:
        print(f"compare --strict: {page['counts']['moved_between_decided']} decided verdicts moved.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Each claim's finding in plain words, derived from claims.csv by the rules in the claim
registry (`findings:` of each claim in workflow/resources/comparisons.yaml); no sentence is
written by hand. When the data changes, the words change.

A claim's rules name *facts* (a comparison's rows on one platform, optionally narrowed to
some cases or one slow variant), *sentences* and *advice*, each said where its condition holds.
A condition compares a fact's share of verdicts or its worst time with a number
("tail.holds >= 0.5 and not first.holds > 0"). Platforms (libtorch version x device x front)
on which the same sentences hold share one line, with each platform's numbers. Every number
in a sentence is a value of claims.csv: a case's ratio with its interval, or its times.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import format as fmt
from .findings_across import across_sentences
from .format import and_list
from .samples import parse_params, readable_case, version_key

FIELDS = ("holds", "reversed", "equivalent", "inconclusive")


class RuleError(ValueError):
    pass


@dataclass
class Fact:
    """One comparison's measured rows on one platform (perhaps narrowed)."""

    rows: object  # claims.csv rows with a verdict
    where: str  # the narrowing, in words ("K = 20"), or ""

    @property
    def n(self):
        return len(self.rows)

    def share(self, verdict):
        return float((self.rows.verdict == verdict).mean()) if self.n else 0.0

    def count(self, verdict):
        return int((self.rows.verdict == verdict).sum())

    @property
    def counts(self):
        """Spike facts: the verdict rests on the excess rate (rates.py), not on a ratio."""
        return self.n > 0 and "excess" in self.rows and (self.rows["metric"] == "spikes").all()

    def typical(self):
        """The case whose ratio (spikes: excess rate) is the median of the fact's cases (the lower
        one of a middle pair)."""
        ordered = self.rows.sort_values(["excess" if self.counts else "ratio", "case"], kind="stable")
        return ordered.iloc[(len(ordered) - 1) // 2]

    def loosest(self):
        """Spike facts: the case whose slow side's bound is the largest (what the run could miss)."""
        return self.rows.sort_values(["rate_slow_high", "case"], kind="stable").iloc[-1]

    def worst_ns(self):
        return float(self.rows["max_slow_ns"].max()) if self.n else float("nan")


def compact_case(case, cases):
    """The case by what tells it apart from the fact's other cases: 'B=16, N=512'; for claim 1's
    models, just 'attention' (its sizes go with the model)."""
    tables = [parse_params(c) for c in cases]
    shared = set.intersection(*(set(t) for t in tables)) if tables else set()
    varying = [k for k in sorted(shared) if len({str(t[k]) for t in tables}) > 1]
    params = parse_params(case)
    if "model" in varying:
        return str(params["model"])
    return ", ".join(f"{k}={params[k]}" for k in varying) or readable_case(case)


def resolve_where(where, rows):
    """{K: [20]} or {K: max} (the largest value measured) -> the rows and the narrowing in words."""
    words = []
    table = rows["case"].map(parse_params)
    keep = np.ones(len(rows), dtype=bool)
    for key, wanted in (where or {}).items():
        values = table.map(lambda p, key=key: p.get(key))
        if wanted in ("max", "min"):
            present = [v for v in values if v is not None]
            wanted = [max(present) if wanted == "max" else min(present)] if present else []
        wanted = {str(v) for v in wanted}
        keep &= values.map(lambda v, wanted=wanted: str(v) in wanted).to_numpy()
        words.append(f"{key} = {', '.join(sorted(wanted))}")
    return rows[keep], "; ".join(words)


def facts_on(claims, platform, specs):
    """Every named fact of a claim's rules on one platform."""
    libtorch, version, device, front = platform
    on = claims[
        (claims.libtorch == libtorch)
        & (claims.version == version)
        & (claims.device == device)
        & (claims.front == front)
        & (claims.verdict != "not run")
    ]
    facts = {}
    for name, spec in specs.items():
        rows = on[on.comparison == spec["comparison"]]
        if "slow" in spec:
            rows = rows[rows.slow_variant == spec["slow"]]
        rows, where = resolve_where(spec.get("where"), rows)
        facts[name] = Fact(rows, where)
    return facts


# ---- conditions ------------------------------------------------------------------------------

TOKEN = re.compile(r"\s*(\(|\)|and\b|or\b|not\b|>=|<=|==|>|<|\+|-|[A-Za-z_]\w*\.\w+|[0-9.]+(?:e[0-9-]+)?)")


def _tokens(text):
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = TOKEN.match(text, pos)
        if not m:
            raise RuleError(f"cannot read the condition {text!r} at {text[pos:]!r}")
        out.append(m.group(1))
        pos = m.end()
    return out


def value_of(facts, token):
    """fact.holds (a share 0..1), fact.holds_n, fact.n, fact.worst_ms, fact.measured."""
    name, field = token.split(".")
    if name not in facts:
        raise RuleError(f"condition names fact {name!r}, which the rules do not define")
    fact = facts[name]
    if field in FIELDS:
        return fact.share(field)
    if field.endswith("_n") and field[:-2] in FIELDS:
        return fact.count(field[:-2])
    if field == "n":
        return fact.n
    if field == "measured":
        return fact.n > 0
    if field == "worst_ms":
        return fact.worst_ns() / 1e6 if fact.n else 0.0
    raise RuleError(f"unknown field {field!r} in a condition (known: {FIELDS}, *_n, n, measured, worst_ms)")


def holds(condition, facts):
    """Evaluate 'a.holds >= 0.5 and not (b.reversed > 0 or c.measured)'."""
    if condition in (None, True, "always"):
        return True
    tokens = _tokens(str(condition))

    def expr(i):
        left, i = term(i)
        while i < len(tokens) and tokens[i] == "or":
            right, i = term(i + 1)
            left = left or right
        return left, i

    def term(i):
        left, i = factor(i)
        while i < len(tokens) and tokens[i] == "and":
            right, i = factor(i + 1)
            left = left and right
        return left, i

    def atom(i):
        return (float(tokens[i]) if tokens[i][0].isdigit() else value_of(facts, tokens[i])), i + 1

    def operand(i):  # a + b - c
        value, i = atom(i)
        while i < len(tokens) and tokens[i] in ("+", "-"):
            right, j = atom(i + 1)
            value, i = (value + right if tokens[i] == "+" else value - right), j
        return value, i

    def factor(i):
        if tokens[i] == "not":
            value, i = factor(i + 1)
            return not value, i
        if tokens[i] == "(":
            value, i = expr(i + 1)
            return value, i + 1
        left, i = operand(i)
        if i < len(tokens) and tokens[i] in COMPARE:
            op = tokens[i]
            right, i = operand(i + 1)
            return COMPARE[op](float(left), float(right)), i
        return bool(left), i

    value, end = expr(0)
    if end != len(tokens):
        raise RuleError(f"cannot read the condition {condition!r}")
    return value


# ---- filling a sentence ----------------------------------------------------------------------

COMPARE = {">=": float.__ge__, "<=": float.__le__, "==": float.__eq__, ">": float.__gt__, "<": float.__lt__}
PLACEHOLDER = re.compile(r"\{(\w+)\.(\w+)\}")


def field_text(fact, field):
    """What {fact.field} says on one platform (every number a value of claims.csv)."""
    if not fact.n:
        return "–"
    t = fact.typical()
    if field == "typical" and fact.counts:
        low, high = fmt.rate(t.excess_low, signed=True), fmt.rate(t.excess_high, signed=True)
        return f"{fmt.rate(t.excess, signed=True)} [{low}, {high}]"
    if field == "typical":
        return f"{fmt.ratio(t.ratio)} [{t.ci_low:.3g}, {t.ci_high:.3g}]"
    if field == "bound":  # the largest spike rate the run could have missed, and what it rests on
        if "rate_slow_high" not in fact.rows:  # a claims.csv from before the exact spike rates: the count
            b = fact.rows.sort_values(["n_slow", "case"], kind="stable").iloc[0]
            return f"{int(b.spikes_slow)} of {int(b.n_slow)} calls"
        b = fact.loosest()
        return (
            f"{int(b.spikes_slow)} of {int(b.n_slow)} calls, at most {fmt.rate(b.rate_slow_high)} "
            f"at {100 * b.confidence:.3g}%"
        )
    if field == "at":  # the typical case, named
        return f"{field_text(fact, 'typical')} at {field_text(fact, 'case')}"
    if field.startswith("at_") and field[3:] in FIELDS:  # the typical case among those with that verdict
        chosen = fact.rows[fact.rows.verdict == field[3:]]
        return field_text(Fact(chosen, fact.where), "at") if len(chosen) else field_text(fact, "at")
    if field == "case":
        return compact_case(t.case, fact.rows["case"])
    if field == "range":
        column, show = ("excess", lambda v: fmt.rate(v, signed=True)) if fact.counts else ("ratio", fmt.ratio)
        lo, hi = fact.rows[column].min(), fact.rows[column].max()
        return show(lo) if lo == hi else f"{show(lo)}–{show(hi)}"
    if field == "count":
        return f"{fact.count('holds')} of {fact.n}"
    if field in ("holds_n", "reversed_n", "equivalent_n", "inconclusive_n"):
        return f"{fact.count(field[:-2])} of {fact.n}"
    if field == "times":
        return f"{fmt.duration(t.median_slow_ns)} vs {fmt.duration(t.median_fast_ns)}"
    if field == "worst":
        return fmt.duration(fact.worst_ns())
    if field == "where":
        return fact.where
    if field in ("slow", "fast"):
        return str(t[f"{field}_variant"])
    raise RuleError(f"unknown placeholder field {field!r}")


def fill(text, per_platform, labels):
    """The sentence with each placeholder filled over the platforms it speaks for: counts add up,
    and the typical case is the median case of all their cases, named with its platform."""

    def one(m):
        name, field = m.group(1), m.group(2)
        pooled = pool([facts[name] for facts in per_platform], labels)
        text = field_text(pooled, field)
        if field in ("typical", "at") and len(labels) > 1 and pooled.n:
            text += f" ({pooled.typical()['platform']})"
        return text

    return PLACEHOLDER.sub(one, text)


def pool(facts, labels):
    """One fact over several platforms, each row labelled with its platform."""
    if len(facts) == 1:
        return facts[0]
    frames = [f.rows.assign(platform=label) for f, label in zip(facts, labels, strict=True)]
    return Fact(pd.concat(frames, ignore_index=True), facts[0].where)


# ---- a claim's findings ------------------------------------------------------------------------


def platform_name(platform):
    libtorch, version, device, front = platform
    name = f"libtorch {libtorch}" + (f" ({version})" if version not in (libtorch, "installed") else "")
    return name + f" on {device}" + ("" if front == "cpp" else f", {front} front")


def label_parts(platforms):
    """Each platform by what tells it apart from the others, as (release, where): ('1.8.1', ''),
    ('2.13.0', ' python'), ('2.13.0', ' cuda'), ('2.13.0 (installed)', '')."""
    devices = len({p[2] for p in platforms}) > 1
    keys = {}  # a release measured twice (a wheel and the installed torch) names its config key
    for p in platforms:
        keys.setdefault(p[0], set()).add(p[1])
    return [
        (
            p[0] + (f" ({p[1]})" if len(keys[p[0]]) > 1 and p[1] != p[0] else ""),
            (f" {p[2]}" if devices else "") + ("" if p[3] == "cpp" else f" {p[3]}"),
        )
        for p in platforms
    ]


def short_labels(platforms):
    """Each platform by what tells it apart from the others: '1.8.1', '2.13.0 python', '2.13.0 cuda'."""
    return [release + where for release, where in label_parts(platforms)]


RANGE = 3  # this many neighbouring releases or more are named as a range


def platform_list(on, platforms):
    """'1.8.1, 1.13.1 and 2.12.1', or on a run of many releases '1.9.1–1.12.1, 2.0.1–2.11.0 and
    2.13.0–2.15.0': RANGE or more neighbours in release order (among the measured platforms, on
    one device and front) as the first and the last."""
    parts = dict(zip(on, label_parts(on), strict=True))
    items, run = [], []

    def close():
        if len(run) >= RANGE:
            items.append(f"{parts[run[0]][0]}–{''.join(parts[run[-1]])}")
        else:
            items.extend("".join(parts[p]) for p in run)
        run.clear()

    for p in platforms:  # in the order of the findings: device, front, release
        if run and (p not in parts or p[2:] != run[-1][2:]):
            close()
        if p in parts:
            run.append(p)
    close()
    return and_list(items)


def lower_first(text):
    """The sentence after 'On 1.8.1: ', its first letter lowered unless its word is a name
    ('TorchScript', 'AOTInductor')."""
    word = text.split(" ", 1)[0]
    return text if any(ch.isupper() for ch in word[1:]) else text[:1].lower() + text[1:]


def group_name(platforms):
    """'libtorch 1.8.1 and 2.13.0 on cpu' (and the Python front) for platforms that share a line."""
    if len(platforms) == 1:
        return platform_name(platforms[0])
    versions = list(dict.fromkeys(p[0] for p in platforms))
    devices = sorted({p[2] for p in platforms})
    fronts = sorted({p[3] for p in platforms} - {"cpp"})
    ordered = sorted(versions, key=version_key)
    joined = (  # a wide run: the first and the last (the page's opening line lists them all)
        f"{ordered[0]} to {ordered[-1]} ({len(ordered)} releases)" if len(ordered) > fmt.NAMED else and_list(versions)
    )
    return f"libtorch {joined} on {' and '.join(devices)}" + (
        f" (C++ and the {', '.join(fronts)} front)" if fronts else ""
    )


def claim_findings(claim, rules, claims, absent=()):
    """{'question', 'platforms', 'sentences', 'across', 'advice', 'not_run'} for one claim: each
    sentence once, with the platforms it holds on named where it does not hold on all of them;
    `across`, where three releases or more were measured, how its answer moved across them."""
    rows = claims[claims.claim == claim.id]
    measured = rows[rows.verdict != "not run"]
    keys = measured[["libtorch", "version", "device", "front"]].drop_duplicates()
    keys = keys.assign(order=keys.libtorch.map(version_key)).sort_values(["device", "front", "order"])
    platforms = [tuple(k) for k in keys[["libtorch", "version", "device", "front"]].itertuples(index=False)]
    result = {
        "question": rules.get("question", claim.title),
        "platforms": "",
        "sentences": [],
        "across": [],
        "advice": [],
        "not_run": None,
    }
    if not platforms:  # the reasons of the platforms the whole section does not already name
        named = rows[~rows[["libtorch", "version", "device", "front"]].apply(tuple, axis=1).isin(list(absent))]
        reasons = sorted({r.removeprefix("not run: ") for r in named["reason"].dropna()})
        result["not_run"] = "; ".join(reasons) or "nothing was measured"
        return result
    facts = {p: facts_on(claims, p, rules["facts"]) for p in platforms}
    result["platforms"] = group_name(platforms)  # the page names them once, above all claims
    for sentence in rules["sentences"]:
        on = [p for p in platforms if holds(sentence.get("when"), facts[p])]
        if on:
            result["sentences"].append(said_on(sentence["say"], on, platforms, facts))
    result["across"] = across_sentences(claim, rules, rows, platforms)
    advice = {}
    for p in platforms:
        chosen = next((a for a in rules.get("advice", []) if holds(a.get("when"), facts[p])), None)
        if chosen is not None:
            advice.setdefault(chosen["say"], []).append(p)
    result["advice"] = [said_on(text, on, platforms, facts) for text, on in advice.items()]
    return result


def said_on(text, on, platforms, facts):
    """The sentence filled for the platforms it holds on, prefixed with them unless that is all."""
    filled = fill(text, [facts[p] for p in on], short_labels(on))
    if len(on) == len(platforms) and len(platforms) > 1 or len(platforms) == 1:
        return filled
    return f"On {platform_list(on, platforms)}: {lower_first(filled)}"


def findings(registry, claims):
    """The findings section: where it was measured, what was not run (once, with why), and each
    claim's findings in registry order (claims without rules are left out)."""
    measured = claims[claims.verdict != "not run"]
    keys = measured[["libtorch", "version", "device", "front"]].drop_duplicates()
    keys = keys.assign(order=keys.libtorch.map(version_key)).sort_values(["device", "front", "order"])
    on = [tuple(k) for k in keys[["libtorch", "version", "device", "front"]].itertuples(index=False)]
    everything = claims[["libtorch", "version", "device", "front"]].drop_duplicates()
    missing, absent = {}, []  # device -> the first clause of each reason; the platforms
    for p in everything.itertuples(index=False):
        part = claims[(claims.libtorch == p.libtorch) & (claims.device == p.device) & (claims.front == p.front)]
        if (part.verdict == "not run").all() and tuple(p) not in on:
            reason = re.sub(r"\s*\(.*?\)", "", part["reason"].iloc[0].removeprefix("not run: ").split(":")[0]).strip()
            missing.setdefault(p.device, {}).setdefault(reason, None)
            absent.append(tuple(p))
    return {
        "measured_on": group_name(on) if on else "",
        "not_run": [f"{device}: {'; '.join(reasons)}" for device, reasons in missing.items()],
        "claims": [
            {"id": c.id, "title": c.title, **claim_findings(c, c.findings, claims, absent)}
            for c in registry.claims.values()
            if c.findings
        ],
    }

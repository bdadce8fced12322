"""Which claims' findings changed between two claims tables.

The findings (findings.py) quote numbers that vary from run to run within their intervals, so
their sentences never read alike twice. What a finding *says* is which of its claim's rules
hold where: the sentences and the advice that apply on each platform, and the releases where
its trend moved. A claim's finding changed when that differs on the platforms both tables
measured (the others cannot be compared); both sides' sentences go with it."""

import pandas as pd

from . import trend
from .agreement import PLATFORM
from .findings import facts_on, findings, holds
from .findings_across import TREND_RELEASES


def common_platforms(first, second):
    """The (version, device, front) both tables measured."""
    measured = [
        set(t.loc[t.verdict != "not run", PLATFORM].itertuples(index=False, name=None)) for t in (first, second)
    ]
    return measured[0] & measured[1], measured


def restrict(claims, platforms):
    return claims[pd.MultiIndex.from_frame(claims[PLATFORM]).isin(list(platforms))]


def what_it_says(claim, claims):
    """{platform: (the sentence rules that hold, the advice chosen)} and the trend's moves."""
    rules = claim.findings
    measured = claims[(claims.claim == claim.id) & (claims.verdict != "not run")]
    said = {}
    for platform in measured[["libtorch"] + PLATFORM].drop_duplicates().itertuples(index=False, name=None):
        facts = facts_on(claims, platform, rules["facts"])
        sentences = tuple(i for i, s in enumerate(rules["sentences"]) if holds(s.get("when"), facts))
        advice = next((i for i, a in enumerate(rules.get("advice", [])) if holds(a.get("when"), facts)), None)
        said[platform[1:]] = (sentences, advice)
    moves = set()
    if claim.trend and "across" in rules and measured.libtorch.nunique() >= TREND_RELEASES:
        found = trend.changes(measured, claim.id, claim.trend)
        moves = set(found[["device", "front", "family", "before", "after"]].itertuples(index=False, name=None))
    return said, moves


def words(finding):
    if finding["not_run"]:
        return [f"not run: {finding['not_run']}"]
    return finding["sentences"] + finding["across"] + [f"What to do: {a}" for a in finding["advice"]]


def changed_findings(registry, first, second):
    """({'id', 'question', 'first', 'second'} for each claim whose findings differ on the
    platforms both tables measured, the number of those platforms, each table's number)."""
    common, measured = common_platforms(first, second)
    if not common:
        return [], 0, [len(m) for m in measured]
    a, b = restrict(first, common), restrict(second, common)
    said = [{c["id"]: c for c in findings(registry, t)["claims"]} for t in (a, b)]
    changed = []
    for claim in registry.claims.values():
        if claim.findings and what_it_says(claim, a) != what_it_says(claim, b):
            changed.append(
                {
                    "id": claim.id,
                    "question": said[0][claim.id]["question"],
                    "first": words(said[0][claim.id]),
                    "second": words(said[1][claim.id]),
                }
            )
    return changed, len(common), [len(m) for m in measured]

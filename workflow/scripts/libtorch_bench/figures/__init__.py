"""The report's figures (matplotlib, PNG). A claim's registry entry names its figures and the
drawer of each ("claim2.time"); a drawer gets a context and the path to write.

platform figures  one libtorch version on one device (PlatformContext); a claim whose technique
                  did not run there gets a `not run: <reason>` card instead
across figures    every version and device together (AcrossContext): the version trend and the
                  mechanism of each claim
"""

from dataclasses import dataclass

from ..samples import read_samples, read_table
from . import across, claim1, claim2, claim3, generic
from .common import placeholder, platform_title

DRAWERS = {
    "claim1.latency_per_call": claim1.latency_per_call,
    "claim1.distribution": claim1.distribution,
    "claim1.mechanism": claim1.mechanism,
    "claim2.time": claim2.time,
    "claim2.mechanism": claim2.mechanism,
    "claim3.time": claim3.time,
    "claim3.mechanism": claim3.mechanism,
    "generic.time_by_case": generic.time_by_case,
    "across.trend": across.trend,
    "across.times": across.times,
    "across.trend_glance": across.trend_glance,
}


@dataclass
class PlatformContext:
    claim: object  # registry.Claim
    summary: object  # summary.csv rows of this platform
    sample_paths: list
    title: str
    settings: dict

    def samples(self):
        """This platform's raw samples of the claim's technique (read when a drawer asks)."""
        return read_samples([p for p in self.sample_paths if f"/{self.claim.technique}." in p])


@dataclass
class AcrossContext:
    claim: str
    claims: object  # claims.csv
    mechanism: object  # mechanism.csv
    settings: dict
    titles: dict
    registry_claim: object = None  # registry.Claim


def run_status(runs, version, device, technique):
    """('ok', '') or ('not run', reason) for one technique on one platform (any front that ran counts)."""
    rows = runs[(runs.version == version) & (runs.device == device) & (runs.technique == technique)]
    if rows.empty:
        return "not run", f"technique {technique} was not measured (not enabled in this config)"
    if (rows.status == "ok").any():
        return "ok", ""
    return "not run", rows.iloc[0]["reason"] or rows.iloc[0]["status"]


def platform_figures(registry, sample_paths, summary_path, runs_path, version, device, out, settings):
    """Every platform figure of the registry for one version and device, into out[name]."""
    runs, summary = read_table(runs_path), read_table(summary_path)
    summary = summary[(summary.version == version) & (summary.device == device)]
    libtorch = runs[runs.version == version]["libtorch"].iloc[0] if (runs.version == version).any() else version
    title = platform_title(libtorch, version, device)
    dpi = int(settings["figure_dpi"])
    for figure in registry.figures("platform"):
        claim = registry.claims[figure.claim]
        status, reason = run_status(runs, version, device, claim.technique)
        if status != "ok":
            placeholder(out[figure.name], f"{figure.title}: {title}", f"not run: {reason}", dpi)
            continue
        DRAWERS[figure.draw](
            PlatformContext(claim, summary, list(sample_paths), title, settings), out[figure.name], dpi
        )


def across_figures(registry, claims_path, mechanism_path, out, settings):
    claims, mechanism = read_table(claims_path), read_table(mechanism_path)
    titles = {c.id: c.title for c in registry.claims.values()}
    for figure in registry.figures("across"):
        DRAWERS[figure.draw](
            AcrossContext(figure.claim, claims, mechanism, settings, titles, registry.claims[figure.claim]),
            out[figure.name],
            int(settings["figure_dpi"]),
        )

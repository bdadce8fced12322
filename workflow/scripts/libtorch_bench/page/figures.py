"""A claim's figures as the pages show them, each with its caption and as a data URI: the
platform figures of the platforms a page shows, the across figures, the 'why' ones (shown with
the mechanism) and the trend at a glance (beside the claim's finding)."""

from .captions import caption_html, data_uri


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


def figure_entry(path, caption_dir, figure, values, title, params, key=None):
    return {
        "id": key or figure.name,  # a platform figure's: name_version_device, as its input
        "src": data_uri(path),
        "alt": title,
        "title": title,
        "caption": caption_html(caption_dir, figure.caption, values, params),
    }


def claim_figures(claim, inputs, runs, platforms, caption_dir, params, across=True):
    """{'shown', 'why', 'glance', 'not_run'}: each platform figure for every platform of
    `platforms` its technique ran on, then (with `across`) the across figures, the 'why' ones
    apart and the one for the findings; and a line per reason why the technique did not run on
    the other platforms."""
    out = {"shown": [], "why": [], "glance": None, "not_run": []}
    not_run = {}
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
                key = f"{figure.name}_{version}_{device}"
                out["shown"].append(figure_entry(inputs[key], caption_dir, figure, values, title, params, key))
        elif across:
            entry = figure_entry(inputs[figure.name], caption_dir, figure, {}, figure.title, params)
            if figure.section == "findings":
                out["glance"] = entry
            else:
                out["why" if figure.section == "why" else "shown"].append(entry)
    out["not_run"] = [f"{', '.join(where)}: {reason}" for reason, where in not_run.items()]
    return out

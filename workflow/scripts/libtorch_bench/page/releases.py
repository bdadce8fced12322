"""A wide run's detail, one page per libtorch release: release-<version>.html beside index.html,
each self-contained like it (inline CSS, figures as data URIs), with that release's verdicts at
a glance, each claim's comparisons on it (a column per device and front) and its figures.

A run of more than verdicts.WIDE platforms (configured versions x devices: what the report
rule knows before it runs) is split so; index.html then keeps the answer across releases and the
across figures. In one page, the all-releases run's 101 figures made 6.5 MB (at 256 colours)
whose first screens held none of the answer."""

from .verdicts import WIDE


def is_split(platforms):
    """Whether a run of these (version, device) platforms gets a page per release."""
    return len(platforms) > WIDE


def page_name(version):
    return f"release-{version}.html"


def page_names(platforms):
    """The release pages a run of these (version, device) platforms has, in config order."""
    if not is_split(platforms):
        return []
    return [page_name(v) for v in dict.fromkeys(version for version, _ in platforms)]


def span(nav, platforms):
    """'23 libtorch builds from 1.8.1 to 2.15.0 (installed), each on cpu and cuda': the page's opening
    line on a wide run, whose builds the glance and the release links name one by one."""
    devices = " and ".join(dict.fromkeys(device for _, device in platforms))
    return f"{len(nav)} libtorch builds from {nav[0]['label']} to {nav[-1]['label']}, each on {devices}"


def navigation(runs, platforms):
    """[{'version', 'libtorch', 'label', 'href'}] of the release pages, in release order."""
    from ..samples import version_key

    libtorch_of = runs.groupby("version")["libtorch"].first().to_dict() if len(runs) else {}
    versions = sorted(
        dict.fromkeys(v for v, _ in platforms), key=lambda v: (version_key(libtorch_of.get(v, v)), v == "installed")
    )
    return [
        {
            "version": v,
            "libtorch": libtorch_of.get(v, v),
            "label": libtorch_of.get(v, v) + (f" ({v})" if libtorch_of.get(v, v) != v else ""),
            "href": page_name(v),
        }
        for v in versions
    ]

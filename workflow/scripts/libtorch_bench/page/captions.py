"""Figure captions: the reStructuredText files Snakemake's own report uses
(workflow/report/<caption>.rst), as HTML with the figure's version and device filled in; and
figures as data URIs, so the page needs no other file."""

import base64
import html
import re
from pathlib import Path

import jinja2


def rst_to_html(text, values, params=None):
    """A caption as Snakemake's report renders it (Jinja2 over `snakemake.wildcards` and
    `snakemake.params`), then the small subset of reStructuredText the captions use:
    paragraphs, ``code``, *emphasis*, **strong**."""
    text = jinja2.Template(text, undefined=jinja2.StrictUndefined).render(
        snakemake={"wildcards": values, "params": params or {}}
    )
    text = html.escape(text, quote=True)
    text = re.sub(r"``(.+?)``", r"<code>\1</code>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    paragraphs = [p.strip().replace("\n", " ") for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def caption_html(caption_dir, caption, values, params=None):
    path = Path(caption_dir) / f"{caption}.rst"
    return rst_to_html(path.read_text(), values, params) if path.exists() else ""


def data_uri(path):
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")

"""The page of `make compare`, results/compare/index.html: self-contained, in the report's look
(the template workflow/report/compare.html.jinja2 includes the report's style.css)."""

from .page import environment

SHOWN = 100  # differences listed on the page; comparison.csv has them all


def render(page):
    return environment().get_template("compare.html.jinja2").render(page=page, shown=SHOWN)

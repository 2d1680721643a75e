"""One template per certificate kind: colours and which blocks appear, in order. Data, not code."""

from __future__ import annotations

from dataclasses import dataclass

Rgb = tuple[int, int, int]

# The blocks a template may list; render.py draws each.
HEADER, TITLE, META, HOLDER, IDS, LINES, OFFICE, VERIFY = (
    "header", "title", "meta", "holder", "ids", "lines", "office", "verify",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    accent: Rgb  # headings, rules and the seal
    border: Rgb  # the page frame
    blocks: tuple[str, ...]
    show_validity: bool = True  # print "valid until" (a receipt or ticket has no validity)
    wide_values: bool = False  # values in a large type (passes read at a glance)


_ALL = (HEADER, TITLE, META, HOLDER, IDS, LINES, OFFICE, VERIFY)

GENERIC = Template("generic", accent=(40, 60, 110), border=(40, 60, 110), blocks=_ALL)

TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template("revenue-certificate", accent=(20, 83, 45), border=(150, 110, 30), blocks=_ALL),
        Template("land-record-extract", accent=(110, 60, 20), border=(110, 60, 20), blocks=_ALL),
        Template(
            "booking-pass",
            accent=(0, 95, 115),
            border=(0, 95, 115),
            blocks=(HEADER, TITLE, META, HOLDER, LINES, VERIFY),
            wide_values=True,
        ),
        Template(
            "receipt",
            accent=(60, 60, 60),
            border=(120, 120, 120),
            blocks=(HEADER, TITLE, META, HOLDER, LINES, OFFICE, VERIFY),
            show_validity=False,
        ),
        Template(
            "grievance-ticket",
            accent=(140, 30, 40),
            border=(140, 30, 40),
            blocks=(HEADER, TITLE, META, HOLDER, LINES, OFFICE, VERIFY),
            show_validity=False,
        ),
    )
}


def template_for(kind: str) -> Template:
    """The template for a certificate kind, or the generic layout for a kind without one."""
    return TEMPLATES.get(kind, GENERIC)

"""The last line of defence for the site: page bodies keep only what Markdown itself produces.

`doccontrol check` rejects raw HTML, event-handler attributes and unsafe links before a
document can be released. Whatever still reaches a page (a release committed by hand,
a draft in a preview) passes through `nh3` (the Rust `ammonia` sanitiser) after Markdown
has rendered it: scripts, styles, frames, event handlers, style attributes, classes other
than Markdown's and doccontrol's, and `javascript:` URLs are removed, so no text from a
document can run in a reader's browser or hide itself there.
"""

from __future__ import annotations

import nh3
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor

TAGS = set(nh3.ALLOWED_TAGS)
ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"id", "title", "lang", "dir"},
    "a": {"href", "hreflang", "name"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "ol": {"start", "type"},
    "details": {"open"},
}
# Only the classes Markdown and doccontrol's own pages set: a class from a document (`{: .md-toggle }`)
# could hide or restyle text on the site that the Word copy shows.
CLASSES = {
    "a": {"dc-ref", "headerlink", "footnote-ref", "footnote-backref"},
    "div": {"footnote", "dc-table-box"},
    "ul": {"dc-shelf"},
    "span": {"dc-shelf__label", "dc-shelf__count", "dc-gap", "dc-nowrap"},
    "p": {"dc-unsigned"},
    "table": {"dc-list", "dc-changes", "dc-register", "dc-withdrawn", "dc-clauses", "dc-held-back"},
    "th": {"dc-nowrap", "dc-title-cell"},
    "td": {"dc-nowrap", "dc-title-cell"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


_CLEANER = nh3.Cleaner(tags=TAGS, attributes=ATTRIBUTES, allowed_classes=CLASSES, url_schemes=URL_SCHEMES,
                       link_rel=None, strip_comments=True)


def clean(html: str) -> str:
    """html with every element, attribute and URL scheme outside the allow-lists removed."""
    return _CLEANER.clean(html)


class Sanitize(Extension):
    """Run `clean` over each page's rendered HTML, after raw HTML has been put back in."""

    def extendMarkdown(self, md):
        md.postprocessors.register(SanitizePostprocessor(md), "doccontrol_sanitize", 1)


class SanitizePostprocessor(Postprocessor):
    def run(self, text: str) -> str:
        return clean(text)

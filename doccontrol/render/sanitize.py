"""The last line of defence for the site: page bodies keep only what Markdown itself produces.

`doccontrol check` rejects raw HTML, event-handler attributes and unsafe links before a
document can be released. Whatever still reaches a page (a release committed by hand,
a draft in a preview) passes through `nh3` (the Rust `ammonia` sanitiser) after Markdown
has rendered it: scripts, styles, frames, event handlers and `javascript:` URLs are
removed, so no text from a document can run in a reader's browser.
"""

from __future__ import annotations

import nh3
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor

TAGS = set(nh3.ALLOWED_TAGS)
ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "hreflang", "name"},
    "td": {"colspan", "rowspan", "align", "style"},
    "th": {"colspan", "rowspan", "align", "scope", "style"},
    "ol": {"start", "type"},
    "details": {"open"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
STYLE_PROPERTIES = {"text-align"}


_CLEANER = nh3.Cleaner(tags=TAGS, attributes=ATTRIBUTES, url_schemes=URL_SCHEMES, link_rel=None,
                       strip_comments=True, filter_style_properties=STYLE_PROPERTIES)


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

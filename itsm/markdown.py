"""Markdown rendered through an allow-list sanitiser: no script runs, ever (SPEC §2)."""

import hashlib
import logging
import threading

import markdown as md
import nh3
from django.core.cache import cache
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}
logger = logging.getLogger(__name__)


EXTENSIONS = ["fenced_code", "tables", "sane_lists", "nl2br"]
# Building a converter (loading its extensions) costs more than converting a short comment, and a
# timeline renders dozens of them: each thread keeps one converter and resets it between texts
# (a converter is not thread-safe, hence one per thread).
_local = threading.local()


def _converter() -> md.Markdown:
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = md.Markdown(extensions=EXTENSIONS)
        # Raw HTML is text as typed: an error message pasted with <style> or <textarea> in it
        # is shown, not parsed (which would hide or mangle the rest of the page).
        converter.preprocessors.deregister("html_block")
        converter.inlinePatterns.deregister("html")
    return converter


def _same_site_images(tag: str, attribute: str, value: str) -> str | None:
    """Images only from the desk itself (its attachments): an outside address in a ticket is
    a tracking pixel that tells its author when, and from where, an agent read it."""
    if tag == "img" and attribute == "src":
        return value if value.startswith("/") and not value.startswith("//") else None
    return value


def _render(text: str) -> str:
    html = _converter().reset().convert(text)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_same_site_images,
    )


# Rendered HTML is kept in the cache (Redis in production), keyed by the text itself: a
# conversation is read far more often than written, and rendering one reply costs ~0.4 ms. The
# key names the renderer, so upgrading Markdown or nh3, or bumping RENDERING after changing the
# extensions or allow-lists above, never serves HTML made under other rules.
RENDERING = 2
CACHE_SECONDS = 7 * 24 * 3600
_PREFIX = f"md:{RENDERING}:{md.__version__}:{nh3.__version__}:"


def _key(text: str) -> str:
    return _PREFIX + hashlib.sha256(text.encode()).hexdigest()


def render_markdown_many(texts: list[str]) -> list[SafeString]:
    """HTML for each of ``texts`` (Markdown): links open safely, raw HTML is neutralised.

    One cache round trip for all of them; what the cache lacks is rendered and stored. A cache
    that fails costs speed, never the page.
    """
    keys = {text: _key(text) for text in texts if text}
    try:
        cached = cache.get_many(set(keys.values())) if keys else {}
    except Exception:  # the cache is an optimisation: render without it
        logger.warning("Markdown cache unavailable", exc_info=True)
        cached = None
    fresh = {}
    for text, key in keys.items():
        if cached is None or key not in cached:
            fresh[key] = _render(text)
    if fresh and cached is not None:
        try:
            cache.set_many(fresh, timeout=CACHE_SECONDS)
        except Exception:
            logger.warning("Markdown cache unavailable", exc_info=True)
    found = {**(cached or {}), **fresh}
    # Sanitised by nh3 in _render, whether just now or when it was cached.
    return [mark_safe(found[keys[text]]) if text else SafeString("") for text in texts]  # noqa: S308


def render_markdown(text: str) -> SafeString:
    """HTML for one Markdown ``text`` (see ``render_markdown_many``)."""
    return render_markdown_many([text])[0]

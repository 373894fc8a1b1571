import uuid
from html.parser import HTMLParser

import pytest

from itsm.markdown import render_markdown, render_markdown_many

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<svg onload=alert(1)><circle r=1 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<object data=x.swf></object><embed src=x.swf>",
    '<form action="https://evil.example"><input name=p></form>',
    "<details open ontoggle=alert(1)>",
    '<body onload="alert(1)">',
    "<<script>script>alert(1)<</script>/script>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
]
SAFE_TAGS = {
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
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str):
    parser = Elements()
    parser.feed(html)
    parser.close()
    return parser.found


@pytest.mark.parametrize("payload", XSS)
def test_the_sanitiser_neutralises(payload):
    html = render_markdown(payload)
    for tag, attrs in elements(html):
        assert tag in SAFE_TAGS, f"<{tag}> survived in {html!r}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"{name}= survived in {html!r}"
            assert name != "style", html
            if name in ("href", "src"):
                scheme = value.strip().lower().split("/", 1)[0]
                assert ":" not in scheme or scheme.startswith(SAFE_SCHEMES), html


def test_markdown_still_renders_what_people_write():
    html = render_markdown(
        "**Bold** and `code`\n\n- one\n- two\n\n[docs](https://example.com/a?b=1)"
    )
    assert "<strong>Bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.com/a?b=1"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_one_text_leaves_nothing_behind_for_the_next():
    # The converter is reused: a link reference defined in one comment must not resolve in
    # the next one (another ticket, maybe another user's).
    first = render_markdown("See [the runbook][rb].\n\n[rb]: https://wiki.example.com/secret")
    assert 'href="https://wiki.example.com/secret"' in first
    second = render_markdown("Read [the runbook][rb].")
    assert "wiki.example.com" not in second
    assert "[the runbook][rb]" in second


def test_each_thread_renders_with_its_own_converter():
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"**item {n}**\n\n[r{n}]: https://example.com/{n}\n\n[link][r{n}]" for n in range(40)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(render_markdown, texts))
    for n, html in enumerate(results):
        assert f"<strong>item {n}</strong>" in html
        assert f'href="https://example.com/{n}"' in html


# --- The rendering cache


@pytest.fixture
def renders(monkeypatch):
    """Counts the texts actually rendered (not served from the cache)."""
    from itsm import markdown

    seen = []
    real = markdown._render

    def counting(text):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(markdown, "_render", counting)
    return seen


def test_a_text_is_rendered_once_then_served_from_the_cache(renders):
    texts = [f"**reply {uuid.uuid4()}**", "", f"<script>alert({uuid.uuid4().int})</script>"]
    first = render_markdown_many(texts)
    assert renders == [texts[0], texts[2]]
    assert "<strong>reply" in first[0] and first[1] == "" and "<script" not in first[2]
    again = render_markdown_many(texts)
    assert renders == [texts[0], texts[2]]  # nothing more rendered
    assert again == first


def test_a_new_rendering_rule_never_reads_html_made_under_the_old_one(renders, monkeypatch):
    from itsm import markdown

    text = f"_rule {uuid.uuid4()}_"
    render_markdown(text)
    monkeypatch.setattr(markdown, "_PREFIX", markdown._PREFIX.replace("md:", "md-next:"))
    render_markdown(text)
    assert renders == [text, text]


def test_a_failing_cache_costs_speed_never_the_page(renders, monkeypatch):
    from itsm import markdown

    class Down:
        def get_many(self, keys):
            raise ConnectionError("cache down")

        def set_many(self, *args, **kwargs):
            raise AssertionError("nothing is written after a failed read")

    monkeypatch.setattr(markdown, "cache", Down())
    text = f"**down {uuid.uuid4()}**"
    assert "<strong>down" in render_markdown_many([text, text])[1]
    assert renders == [text]


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        (
            "<style>body{display:none}</style> after",
            "&lt;style&gt;body{display:none}&lt;/style&gt; after",
        ),
        ("a <textarea> b", "a &lt;textarea&gt; b"),
        ("Error: <div class='x'>boom</div>", "Error: &lt;div class='x'&gt;boom&lt;/div&gt;"),
    ],
)
def test_raw_html_shows_as_typed_never_parsed(typed, shown):
    html = str(render_markdown(typed))
    assert shown in html.replace("&#39;", "'")
    assert "<style" not in html and "<textarea" not in html and "<div" not in html


def test_images_come_from_the_desk_only():
    outside = str(render_markdown("![pixel](https://tracker.example/p.gif)"))
    relative = str(render_markdown("![trace](/desk/incidents/INC0000001/attachments/3/)"))
    protocol_relative = str(render_markdown("![pixel](//tracker.example/p.gif)"))
    assert "tracker.example" not in outside and "tracker.example" not in protocol_relative
    assert 'src="/desk/incidents/INC0000001/attachments/3/"' in relative

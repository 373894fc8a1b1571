"""Text out of mail: HTML turned into plain text, and a reply cut down to what its author
wrote (no quoted history, no signature). Pure functions, no database.

HTML is read with the standard library's parser and never rendered: scripts, styles and
comments (Outlook's conditional ones) are dropped, links are written out, images become
``[image: name]``. The result is text; it is stored as a ticket's Markdown description or a
comment and goes through the Markdown sanitiser when shown, like anything typed.
"""

import re
from html.parser import HTMLParser

BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody",
    "thead", "tfoot", "tr", "ul",
}  # fmt: skip
SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript", "svg", "object"}
VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr"}
# Where mail clients put the quoted message of an HTML reply.
QUOTE_CLASSES = {"gmail_quote", "moz-cite-prefix", "yahoo_quoted", "protonmail_quote"}
QUOTE_IDS = {"divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container"}


class _TextParser(HTMLParser):
    def __init__(self, *, drop_quotes: bool):
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.parts: list[str] = []
        self.skip_depth = 0  # inside script/style/quoted blocks
        self.stack: list[tuple[str, bool]] = []  # (tag, opened a skipped region)
        self.links: list[str | None] = []
        self.stopped = False  # Outlook's reply header: the rest is the quoted message
        self.in_pre = 0
        self.lists: list[list] = []  # ["ul"|"ol", counter]

    # -- helpers

    def newline(self, count: int = 1) -> None:
        """End the line, and leave ``count`` line breaks at least (never more) before what
        comes next: nested blocks do not pile up blank lines."""
        if self.skip_depth or self.stopped:
            return
        tail = "".join(self.parts[-3:])
        trailing = len(tail) - len(tail.rstrip("\n"))
        if not self.parts or trailing < count:
            self.parts.append("\n" * (count - trailing))

    def write(self, text: str) -> None:
        if not self.skip_depth and not self.stopped:
            self.parts.append(text)

    def _quoted(self, tag: str, attrs: dict) -> bool:
        if not self.drop_quotes:
            return False
        classes = set((attrs.get("class") or "").lower().split())
        return (tag == "blockquote" and attrs.get("type", "").lower() == "cite") or bool(
            classes & QUOTE_CLASSES
        )

    # -- parser events

    def handle_starttag(self, tag, attrs):
        attrs = {name.lower(): (value or "") for name, value in attrs}
        if self.drop_quotes and attrs.get("id", "").lower() in QUOTE_IDS:
            self.stopped = True
        skip = tag in SKIPPED_TAGS or self._quoted(tag, attrs)
        if tag not in VOID_TAGS:
            self.stack.append((tag, skip))
        if skip:
            self.skip_depth += 1
            return
        if tag == "br":
            self.newline()
        elif tag == "hr":
            self.newline()
            self.write("---")
            self.newline()
        elif tag == "img":
            name = attrs.get("alt") or attrs.get("title") or ""
            source = attrs.get("src", "")
            if not name and source.lower().startswith("cid:"):
                name = source[4:].split("@", 1)[0]
            self.write(f"[image: {name}]" if name else "[image]")
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
            self.newline()
        elif tag == "li":
            self.newline()
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                self.write(f"{self.lists[-1][1]}. ")
            else:
                self.write("- ")
        elif tag == "a":
            self.links.append(attrs.get("href"))
            self.link_start = len(self.parts)
        elif tag in ("td", "th"):
            self.write(" ")
        elif tag == "pre":
            self.in_pre += 1
            self.newline(2)
        elif tag in BLOCK_TAGS:
            self.newline(2 if tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6") else 1)

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        # close up to the matching open tag (mail HTML is often unbalanced)
        while self.stack:
            open_tag, skipped = self.stack.pop()
            if skipped:
                self.skip_depth -= 1
            if open_tag == tag:
                break
            if open_tag == "a" and self.links:
                self.links.pop()
        else:
            return
        if self.skip_depth:
            return
        if tag == "a" and self.links:
            href = self.links.pop()
            text = "".join(self.parts[getattr(self, "link_start", len(self.parts)) :]).strip()
            if href and re.match(r"^(https?|mailto):", href, re.I):
                target = href[7:] if href.lower().startswith("mailto:") else href
                if target.strip() != text and href.strip() != text:
                    self.write(f" ({href})")
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.newline()
        elif tag == "pre":
            self.in_pre -= 1
            self.newline(2)
        elif tag in BLOCK_TAGS and tag != "li":
            self.newline(2 if tag in ("p", "h1", "h2", "h3", "h4", "h5", "h6") else 1)

    def handle_data(self, data):
        if self.in_pre:
            self.write(data)
        else:
            self.write(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        raw = "".join(self.parts).replace("\xa0", " ")
        lines = [line.strip() if not self.in_pre else line.rstrip() for line in raw.split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Plain text of an HTML mail body; ``drop_quotes`` leaves out the quoted message of a
    reply (Gmail's, Thunderbird's and Apple Mail's blockquotes, Outlook's reply header)."""
    parser = _TextParser(drop_quotes=drop_quotes)
    parser.feed(html or "")
    parser.close()
    return parser.text()  # entities were decoded once by the parser (convert_charrefs)


# --- Replies

MARKER = re.compile(r"^\s*##-.*-##\s*$")
SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(original message|message d.origine|forwarded message|message transf[ée]r[ée])"
    r"\s*-{2,}|_{20,}|\*{20,})\s*$",
    re.IGNORECASE,
)
HEADER_FROM = re.compile(r"^\s*\*?(from|de|von)\s*:\*?\s", re.IGNORECASE)
HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|envoy[ée]|to|à|cc|subject|objet|gesendet)\s*:", re.IGNORECASE
)
ATTRIBUTION_START = re.compile(r"^\s*(on|le)\s.+", re.IGNORECASE)
ATTRIBUTION_END = re.compile(r"(wrote|a [ée]crit|schrieb)\s*:\s*$", re.IGNORECASE)
RULE = re.compile(r"^\s*[-_*=]{3,}\s*$")  # a horizontal rule left above a cut quote
MOBILE_SIGNATURES = re.compile(
    r"^\s*(sent from my .+|envoy[ée] de mon .+|get outlook for .+|obtenir outlook pour .+)$",
    re.IGNORECASE,
)


def _cut_at(lines: list[str]) -> int:
    """Index of the first line of the quoted history (or len(lines))."""
    for index, line in enumerate(lines):
        if MARKER.match(line) or SEPARATORS.match(line):
            return index
        if HEADER_FROM.match(line) and any(
            HEADER_NEXT.match(after) for after in lines[index + 1 : index + 5]
        ):
            return index
        if ATTRIBUTION_START.match(line):
            joined = " ".join(part.strip() for part in lines[index : index + 3])
            for end in range(index, min(index + 3, len(lines))):
                if ATTRIBUTION_END.search(lines[end]):
                    return index
            if ATTRIBUTION_END.search(joined) and len(joined) < 300:
                return index
        if ATTRIBUTION_END.search(line) and len(line) < 300 and index:
            return index  # "<name> wrote:" without an "On …" start (some clients)
    return len(lines)


def strip_reply(text: str) -> str:
    """What the author of a reply wrote: the text before the quoted history (our marker line,
    "On … wrote:", "Le … a écrit :", an Outlook "From: … Sent: …" block, "-----Original
    Message-----"), without ``>`` quoted lines and without the signature (after ``-- ``) or
    a "Sent from my phone" line."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _cut_at(lines)]
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    for index, line in enumerate(lines):
        if line.rstrip() == "--":
            lines = lines[:index]
            break
    while lines and (
        not lines[-1].strip() or MOBILE_SIGNATURES.match(lines[-1]) or RULE.match(lines[-1])
    ):
        lines.pop()
    return "\n".join(lines).strip()

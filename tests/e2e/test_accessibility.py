"""WCAG AA checks on the shell's pages, measured in the browser: text contrast (1.4.3) and a
visible keyboard focus (2.4.7) with enough contrast against its background (1.4.11)."""

import pytest
from playwright.sync_api import expect

from itsm.testing import make_incident

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}

# Shared colour maths, then the two audits. Backgrounds are composited from the root down;
# a gradient counts as each of its colour stops (the text must read on all of them).
COLOUR_JS = """
const parse = (c) => {
  const m = c && c.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return null;
  const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(parseFloat);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
};
const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3]))
  .concat(1);
const lum = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
};
const ratio = (a, b) => {
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
const backgrounds = (el) => {
  const chain = [];
  for (let e = el; e; e = e.parentElement) chain.unshift(e);
  let layers = [[255, 255, 255, 1]];
  for (const e of chain) {
    const cs = getComputedStyle(e);
    const colour = parse(cs.backgroundColor);
    if (colour && colour[3] > 0) layers = layers.map(l => over(colour, l));
    if (cs.backgroundImage.includes("gradient")) {
      const stops = (cs.backgroundImage.match(/rgba?\\([^)]+\\)/g) || []).map(parse);
      if (stops.length) layers = stops.map(s => over(s, layers[0]));
    }
  }
  return layers;
};
const describe = (el) => (el.innerText || el.value || el.getAttribute("aria-label")
  || (el.id && "#" + el.id) || el.tagName)
  .trim().replace(/\\s+/g, " ").slice(0, 50);
"""

CONTRAST_JS = (
    "() => {"
    + COLOUR_JS
    + """
  const problems = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own && el.tagName !== "SELECT") continue;
    if (el.closest("option, script, style, noscript, :disabled, [aria-disabled=true]")) continue;
    const rect = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (rect.width <= 1 || rect.height <= 1 || cs.visibility === "hidden") continue;
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(cs.fontWeight, 10) >= 700);
    const needed = large ? 3 : 4.5;
    const text = parse(cs.color);
    const worst = Math.min(...backgrounds(el).map(bg => ratio(over(text, bg), bg)));
    if (worst < needed) {
      problems.push(`${describe(el)}: ${worst.toFixed(2)}:1 < ${needed}:1 (${cs.color})`);
    }
  }
  return problems;
}"""
)

FOCUS_JS = (
    "() => {"
    + COLOUR_JS
    + """
  const el = document.activeElement;
  const cs = getComputedStyle(el);
  const width = parseFloat(cs.outlineWidth) || 0;
  const visible = cs.outlineStyle !== "none" && width >= 2;
  const rect = el.getBoundingClientRect();
  const around = backgrounds(el.parentElement || el);
  const colour = parse(cs.outlineColor);
  const contrast = visible ? Math.min(...around.map(bg => ratio(colour, bg))) : 0;
  return {
    tag: el.tagName, name: describe(el), visible, contrast, width: rect.width, height: rect.height,
  };
}"""
)


def contrast_problems(page) -> list[str]:
    page.evaluate("document.fonts.ready")
    return page.evaluate(CONTRAST_JS)


def test_text_on_the_sign_in_page_meets_aa_contrast(page, demo_users, settings):
    settings.DEMO_LOGINS = True  # with the demo accounts table
    page.goto("/accounts/login/")
    expect(page.locator(".demo-card")).to_be_visible()
    assert contrast_problems(page) == []
    page.locator("#id_password").fill("wrong")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert contrast_problems(page) == []


@pytest.mark.parametrize("language", ["en-US", "fr-FR"])
def test_text_in_the_portal_and_its_menus_meets_aa_contrast(new_page, login, demo_users, language):
    make_incident(requester=demo_users["enduser"], title="Printer on floor 3 jams")
    page = new_page(locale=language)
    login(page, "enduser")
    page.goto("/portal/")
    expect(page.locator(".ticket-row")).to_have_count(1)
    assert contrast_problems(page) == []
    page.locator("#user-menu").click()
    expect(page.locator(".user-menu")).to_be_visible()
    assert contrast_problems(page) == []


def test_text_on_the_error_pages_and_the_phone_menu_meets_aa_contrast(new_page, login):
    page = new_page(viewport=PHONE)
    login(page, "manager")
    page.locator(".navbar-toggler").click()
    expect(page.locator("#main-nav.collapse.show")).to_be_visible()
    assert contrast_problems(page) == []
    page.goto("/no-such-page/")
    assert contrast_problems(page) == []
    page = new_page()
    login(page, "enduser")
    page.goto("/desk/")
    expect(page.locator("h1")).to_have_text("Access denied")
    assert contrast_problems(page) == []


def test_the_contrast_audit_catches_pale_text(page, demo_users):
    """The audit above is not vacuous: grey text at 2.5:1 on white is reported."""
    page.goto("/accounts/login/")
    page.evaluate(
        "document.querySelector('.login-card p').style.setProperty('color', '#9ca3af', 'important')"
    )
    problems = contrast_problems(page)
    assert len(problems) == 1
    assert problems[0].startswith("Report issues, order services")


def walk_focus(page, key: str) -> list[dict]:
    """Press ``key`` (Tab or Shift+Tab) until focus leaves the page or comes round again."""
    seen = []
    for _press in range(40):
        page.keyboard.press(key)
        focus = page.evaluate(FOCUS_JS)
        if focus["tag"] == "BODY" or (seen and focus["name"] == seen[0]["name"]):
            break
        seen.append(focus)
    return seen


@pytest.mark.parametrize("where", ["sign-in", "portal"])
def test_every_focusable_element_shows_a_visible_focus(page, login, where):
    if where == "portal":
        login(page, "enduser")
        page.goto("/portal/")
        seen = walk_focus(page, "Tab")
    else:
        page.goto("/accounts/login/")  # the username field has the focus already
        seen = [page.evaluate(FOCUS_JS)] + walk_focus(page, "Tab")
        page.locator("#id_username").focus()
        seen += walk_focus(page, "Shift+Tab")
    names = [f["name"] for f in seen]
    assert "Skip to main content" in names, names
    assert len(seen) >= 5, names
    hidden = [f for f in seen if not f["visible"] or f["width"] <= 1]
    faint = [f for f in seen if f["visible"] and f["contrast"] < 3]
    assert not hidden, f"focus not visible on {[f['name'] for f in hidden]}"
    assert not faint, f"focus ring below 3:1 on {[(f['name'], f['contrast']) for f in faint]}"

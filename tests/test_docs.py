"""The README and docs/ as a reader follows them: every relative link leads to a file, every
``#anchor`` into a Markdown page to one of its headings, and the README stays a five-minute read."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "src").rglob("*.md"))]
LINK = re.compile(r"\]\(([^)\s#]*)(#[^)\s]*)?\)")


def headings(page: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    found = set()
    for line in page.read_text().splitlines():
        m = re.match(r"#{1,6}\s+(.*)", line)
        if m:
            found.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for m in LINK.finditer(page.read_text()):
        url, anchor = m.group(1), m.group(2)
        if url.startswith(("http://", "https://", "mailto:")):
            continue
        target = page.parent / url if url else page
        if not target.exists():
            broken.append(url)
        elif anchor and target.suffix == ".md" and anchor[1:] not in headings(target):
            broken.append(f"{url}{anchor}")
    return broken


def test_links_lead_somewhere():
    broken = {str(p.relative_to(ROOT)): b for p in PAGES if (b := broken_links(p))}
    assert not broken


def test_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "other.md").write_text("# Cost when nothing changed, by profile\n")
    page = tmp_path / "page.md"
    page.write_text("## Our own heading\n[a](other.md#cost-when-nothing-changed-by-profile) [b](#our-own-heading)\n"
                    "[c](missing.md) [d](other.md#no-such-heading) [e](https://example.org/x)\n")
    assert broken_links(page) == ["missing.md", "other.md#no-such-heading"]


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 150

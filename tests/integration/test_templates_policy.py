"""Templates must work under the CSP: no inline script, style or event handler."""
import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
FORBIDDEN = [
    re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),   # inline script block
    re.compile(r"<style\b", re.I),
    re.compile(r"\sstyle\s*=", re.I),
    re.compile(r"\son[a-z]+\s*=", re.I),
    re.compile(r"javascript:", re.I),
]


def test_templates_exist():
    assert len(list(TEMPLATES.rglob("*.html"))) >= 3


def test_no_template_contains_inline_code():
    offences = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in FORBIDDEN:
            for match in pattern.finditer(text):
                offences.append(f"{path.relative_to(TEMPLATES)}: {match.group(0)}")
    assert offences == []


def test_the_check_catches_an_inline_handler():
    sample = '<button onclick="x()">'
    assert any(p.search(sample) for p in FORBIDDEN)

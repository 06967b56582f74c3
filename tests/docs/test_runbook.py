"""docs/production.md keeps up with deploy/prometheus/alerts.yml: a runbook entry per alert, and
each alert's `runbook_url` leads to its entry."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "production.md"
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
PARTS = ("- **First checks:**", "- **Likely causes:**", "- **Actions:**")


def alerts() -> dict[str, dict[str, str]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {
        rule["alert"]: rule["annotations"]
        for group in groups
        for rule in group["rules"]
        if "alert" in rule
    }


def anchor(heading: str) -> str:
    """The anchor GitHub (and most Markdown renderers) give a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections(markdown: str, level: str) -> dict[str, str]:
    """Heading -> its text, for the headings of one level (`##`, `###`)."""
    found: dict[str, str] = {}
    parts = re.split(rf"^{level} (.+)$", markdown, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        found[heading.strip()] = body
    return found


def runbook_entries() -> dict[str, str]:
    runbook = sections(DOC.read_text(), "##")["Runbook"]
    return sections(runbook, "###")


def test_every_alert_has_a_runbook_entry() -> None:
    entries = runbook_entries()
    assert len(entries) >= 30
    assert set(entries) == set(alerts())  # none missing, none for an alert that is gone
    for name, body in entries.items():
        for part in PARTS:
            assert part in body, (name, part)


def test_each_entry_states_its_alerts_severity() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    severities = {
        rule["alert"]: rule["labels"]["severity"]
        for group in groups
        for rule in group["rules"]
        if "alert" in rule
    }
    for name, body in runbook_entries().items():
        assert body.strip().startswith(f"*{severities[name]}.*"), name


def test_runbook_urls_point_at_the_entries() -> None:
    anchors = {anchor(heading) for heading in sections(DOC.read_text(), "###")}
    for name, notes in alerts().items():
        url = notes.get("runbook_url")
        assert url == f"docs/production.md#{anchor(name)}", name
        assert url.split("#", 1)[1] in anchors, name


def test_links_inside_the_page_resolve() -> None:
    text = DOC.read_text()
    anchors = {anchor(h) for level in ("##", "###") for h in sections(text, level)}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    assert len(links) > 10
    for link in links:
        assert link in anchors, link


def test_the_files_it_names_exist() -> None:
    """Paths to this repository's own files (the deployment files of other parts are checked
    where they are built)."""
    text = DOC.read_text()
    for path in (
        "scripts/pg_backup.py",
        "scripts/docker_logs/export_docker_logs_json.py",
        "scripts/verify_prod_hardening.py",
        "tests/scripts/test_pg_backup.py",
        "deploy/prometheus/alerts.yml",
        ".env.example",
    ):
        assert path in text, path
        assert (ROOT / path).exists(), path

"""The dependency rules of docs/architecture.md, checked on the source.

blueprints -> services (reports, attachments, staff, organisation) -> domain
and models -> crypto; web/ is plumbing for blueprints and the CLI. Each rule
is also run on a small module that breaks it, so a checker that finds
nothing cannot pass for one that works.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
SERVICES = ("reports", "attachments", "staff", "organisation", "trust")
WEB_ONLY = ("flask", "werkzeug", "flask_wtf", "wtforms", "portal.web", "portal.blueprints", "portal.cli")
SEALING = "portal.reports.sealing"
SEALED_CALLS = {"encrypt_field", "decrypt_field"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(module: str, source: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, absolute, plus "module.name" for names imported from a module."""
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def sealed_calls_in(source: str) -> set[str]:
    """Uses of envelope.encrypt_field / decrypt_field as attributes."""
    return {node.attr for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Attribute) and node.attr in SEALED_CALLS}


def portal_modules():
    for path in sorted(PORTAL.rglob("*.py")):
        yield module_name(path), path.read_text(encoding="utf-8"), path.name == "__init__.py"


def _starts(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# --- the rules, each a function of (module, source, is_package) -> violations ---------

def services_use_no_web_layer(module, source, is_package):
    if not _starts(module, tuple(f"portal.{s}" for s in SERVICES) + ("portal.domain", "portal.models", "portal.audit")):
        return set()
    return {name for name in imports_of(module, source, is_package=is_package) if _starts(name, WEB_ONLY)}


def domain_is_pure(module, source, is_package):
    if not _starts(module, ("portal.domain",)):
        return set()
    return {name for name in imports_of(module, source, is_package=is_package)
            if _starts(name, ("flask", "flask_babel", "werkzeug", "sqlalchemy"))
            or (_starts(name, ("portal",)) and not _starts(name, ("portal.domain",)))}


def blueprints_do_not_import_each_other(module, source, is_package):
    if not _starts(module, ("portal.blueprints",)) or module == "portal.blueprints":
        return set()
    own = ".".join(module.split(".")[:3])
    return {name for name in imports_of(module, source, is_package=is_package)
            if _starts(name, ("portal.blueprints",)) and name != "portal.blueprints"
            and not _starts(name, (own,))}


def web_does_not_reach_up(module, source, is_package):
    if not _starts(module, ("portal.web",)):
        return set()
    return {name for name in imports_of(module, source, is_package=is_package)
            if _starts(name, ("portal.blueprints", "portal.cli"))}


def only_sealing_encrypts(module, source, is_package):
    if module == SEALING:
        return set()
    names = imports_of(module, source, is_package=is_package)
    found = {name for name in names if _starts(name, ("crypto.stream",))}
    found |= {name for name in names if name in {f"crypto.envelope.{c}" for c in SEALED_CALLS}}
    return found | sealed_calls_in(source)


def views_never_commit(module, source, is_package):
    if not _starts(module, ("portal.blueprints", "portal.web")) or module == "portal.web.db":
        return set()
    return {f"{node.func.attr}()" for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in {"commit", "rollback"}}


RULES = [services_use_no_web_layer, domain_is_pure, blueprints_do_not_import_each_other, web_does_not_reach_up,
         only_sealing_encrypts, views_never_commit]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_every_module_keeps_the_rule(rule):
    broken = {module: sorted(found) for module, source, is_package in portal_modules()
              if (found := rule(module, source, is_package))}
    assert broken == {}


# A module that breaks each rule, to show the rule can see it.
BREAKING = {
    services_use_no_web_layer: ("portal.reports.bad", "from flask import request\nfrom ..web import db\n"),
    domain_is_pure: ("portal.domain.bad", "from sqlalchemy import select\nfrom ..models import Report\n"),
    blueprints_do_not_import_each_other: ("portal.blueprints.handler.bad", "from ..reporter.forms import ReplyForm\n"),
    web_does_not_reach_up: ("portal.web.bad", "from ..blueprints.reporter import bp\n"),
    only_sealing_encrypts: ("portal.attachments.bad",
                            "from crypto import envelope\nx = envelope.encrypt_field\n"
                            "from crypto.stream import StreamEncryptor\n"),
    views_never_commit: ("portal.blueprints.reporter.bad", "from ...web import db\ndb.session().commit()\n"),
}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_the_rule_sees_a_module_that_breaks_it(rule):
    module, source = BREAKING[rule]
    assert rule(module, source, False)


def test_relative_imports_are_resolved():
    found = imports_of("portal.blueprints.handler.case_views", "from ...reports import work\nfrom . import bp\n")
    assert {"portal.reports", "portal.reports.work", "portal.blueprints.handler.bp"} <= found
    assert "portal.web.db.x" in imports_of("portal.web", "from .db import x\n", is_package=True)


def test_every_package_is_checked():
    modules = {module for module, _source, _pkg in portal_modules()}
    for package in (*SERVICES, "domain", "web", "blueprints", "cli", "models"):
        assert any(m.startswith(f"portal.{package}.") for m in modules), package
    assert SEALING in modules

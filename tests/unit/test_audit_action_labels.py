"""Every action the code writes to the audit log has a name on screen
(web/labels.AUDIT_ACTIONS) and a group in the audit page's filter, and
every detail it records a label (web/labels.AUDIT_DETAILS). The
actions are read from the source: each audit.record() call's action, be it
a string, a choice of strings, a parameter of the function around it (its
callers' strings are taken) or a known f-string."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from portal.domain.taxonomy import HANDLER_KINDS, STATUSES
from portal.web import labels

PORTAL = Path(__file__).resolve().parents[2] / "portal"
# The f-string actions, and every value they take.
TEMPLATES = {
    "case.{kind}": {f"case.{kind}" for kind in HANDLER_KINDS},  # reports/work.py
    "case.{target}": {f"case.{status}" for status in STATUSES},  # reports/workflow.py
}


class Unreadable(Exception):
    pass


def _is_record(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "record"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit")


def _template(node: ast.JoinedStr) -> str:
    return "".join(part.value if isinstance(part, ast.Constant) else "{%s}" % ast.unparse(part.value)
                   for part in node.values)


def _argument(call: ast.Call, function: ast.FunctionDef, name: str) -> ast.AST | None:
    """What `call` (a call of `function`) passes as its parameter `name`."""
    names = [a.arg for a in function.args.posonlyargs + function.args.args]
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    index = names.index(name) if name in names else len(call.args)
    return call.args[index] if index < len(call.args) else None


def _enclosing(tree, call) -> ast.FunctionDef | None:
    """The innermost function `call` stands in."""
    found = None
    for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        if any(n is call for n in ast.walk(function)):
            if found is None or any(n is function for n in ast.walk(found)):
                found = function
    return found


def _values(node, tree, function, depth: int = 0) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, tree, function, depth) | _values(node.orelse, tree, function, depth)
    if isinstance(node, ast.JoinedStr) and _template(node) in TEMPLATES:
        return TEMPLATES[_template(node)]
    if isinstance(node, ast.Name) and function is not None and depth < 3:
        # A parameter: what every caller in the module passes (callers of callers too).
        callers = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                   and n.func.id == function.name]
        if callers:
            return set().union(*(_values(_argument(c, function, node.id), tree, _enclosing(tree, c), depth + 1)
                                 for c in callers))
    raise Unreadable(ast.unparse(node) if node is not None else "nothing")


def recorded_actions(sources: dict[str, str]) -> set[str]:
    found = set()
    for name, source in sources.items():
        tree = ast.parse(source)
        around = {id(n): None for n in ast.walk(tree) if _is_record(n)}  # each call's innermost function
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            around.update({id(n): function for n in ast.walk(function) if _is_record(n)})
        for call in (n for n in ast.walk(tree) if _is_record(n)):
            try:
                found |= _values(call.args[1] if len(call.args) > 1 else None, tree, around[id(call)])
            except Unreadable as unreadable:
                raise AssertionError(f"{name}: cannot tell which action {unreadable} is; "
                                     "teach this test (TEMPLATES)") from None
    return found


@pytest.fixture(scope="module")
def actions() -> set[str]:
    sources = {str(path.relative_to(PORTAL)): path.read_text(encoding="utf-8") for path in PORTAL.rglob("*.py")}
    return recorded_actions(sources)


def test_every_recorded_action_has_a_label(actions):
    assert len(actions) > 40  # the search finds them
    assert {"auth.login_failed", "auth.reauth_failed", "unit.retire", "unit.restore", "case.closed",
            "case.feedback", "settings.thresholds"} <= actions  # through parameters, choices, f-strings
    assert actions - set(labels.AUDIT_ACTIONS) == set()


def test_every_detail_the_code_records_has_a_label():
    recorded = set()
    for path in PORTAL.rglob("*.py"):
        for call in (n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if _is_record(n)):
            recorded |= {k.arg for k in call.keywords} - {None, "actor_user_id", "target_type", "target_id"}
    assert {"retention_months", "user_id", "k"} <= recorded  # the search finds them
    assert recorded - set(labels.AUDIT_DETAILS) == set()


def test_every_action_has_a_group_in_the_filter():
    groups = {code.split(".")[0] for code in labels.AUDIT_ACTIONS}
    assert all(code.count(".") == 1 for code in labels.AUDIT_ACTIONS)
    assert groups - set(labels.AUDIT_ACTION_GROUPS) == set()


def test_the_reader_sees_each_way_of_naming_an_action():
    source = '''
def _failed(db, action):
    audit.record(db, action)

def a(db, on):
    audit.record(db, "x.plain")
    audit.record(db, "x.on" if on else "x.off")
    audit.record(db, f"case.{kind}")
    _failed(db, "x.failed")
    _failed(db, action="x.keyword")
'''
    assert recorded_actions({"sample": source}) == {"x.plain", "x.on", "x.off", "x.failed", "x.keyword"} | \
        TEMPLATES["case.{kind}"]
    with pytest.raises(AssertionError, match="cannot tell"):
        recorded_actions({"sample": "def b(db, what):\n    audit.record(db, f'new.{what}')\n"})

"""Checks of the written data against its spec: each rule re-checked with the generator's own tests, and
foreign keys without a parent row (orphans)."""

from __future__ import annotations

import json
from typing import Any

from llmkit.synth.export import plain_value
from llmkit.synth.generate import rule_predicates, value_key
from llmkit.synth.spec import Rule, TableSpec


def rule_checks(spec_table: TableSpec, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each rule re-checked on the written rows with the generator's own tests (`rule_predicates`)."""
    checks = []
    for rule in spec_table.rules:
        bad = _violations(rule, rows)
        checks.append({
            "rule": f"{rule.kind}: {_label(rule).strip()}",
            "violations": len(bad),
            "examples": [{k: plain_value(v) for k, v in r.items()} for r in bad[:3]],
        })  # fmt: skip
    return checks


def _violations(rule: Rule, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, set] = {rule.column: set()} if rule.kind == "unique" else {}
    test = rule_predicates([rule], seen)[0]
    bad: list[dict[str, Any]] = []
    for row in rows:
        try:
            ok = test(row)
        except Exception:  # noqa: BLE001 - a column missing from the file counts as a violation
            ok = False
        if not ok:
            bad.append(row)
        for values in seen.values():
            values.add(value_key(row.get(rule.column)))
    return bad


def _label(rule: Rule) -> str:
    if rule.expression:
        return rule.expression.source
    return f"{rule.column} {json.dumps(rule.params) if rule.params else ''}"


def orphan_keys(
    spec_table: TableSpec, rows: list[dict[str, Any]], typed: dict[str, list[dict[str, Any]]]
) -> list[dict]:
    """Per reference column whose parent table is in the data: keys no parent row has."""
    results = []
    for column in spec_table.columns:
        if column.kind != "reference" or column.params["table"] not in typed:
            continue
        parents = {value_key(r.get(column.params["column"])) for r in typed[column.params["table"]]}
        orphans = [r[column.name] for r in rows if value_key(r.get(column.name)) not in parents]
        results.append({
            "column": column.name,
            "references": f"{column.params['table']}.{column.params['column']}",
            "orphans": len(orphans),
            "examples": [plain_value(v) for v in orphans[:3]],
        })  # fmt: skip
    return results

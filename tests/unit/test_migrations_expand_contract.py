"""Migrations run while the previous release still serves (docs/operations/migrations.md): an
`upgrade()` only expands the schema, unless its docstring says `Contract:` and why that is safe.

Expanding: new tables, nullable columns, NOT NULL columns with a server default, indexes. Contracting:
dropping or renaming a table or column, changing a column's type, making an existing column NOT
NULL, or adding a NOT NULL column without a default (the old code's INSERTs do not fill it in).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
DROPS = {"drop_column", "drop_table", "rename_table"}
CONTRACT = re.compile(r"^\s*Contract:\s*\S.{10,}", re.MULTILINE)  # "Contract:" and a reason
DESTRUCTIVE_SQL = re.compile(
    r"\b(DROP\s+(TABLE|COLUMN)|RENAME\b|TRUNCATE\b|ALTER\s+COLUMN\b.*\b(TYPE|SET\s+NOT\s+NULL)\b)",
    re.IGNORECASE | re.DOTALL,
)


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def contractions(source: str) -> list[str]:
    """What `upgrade()` in a migration's source does that the previous release's code may not survive."""
    tree = ast.parse(source)
    upgrade = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None)
    if upgrade is None:
        return []
    found: list[str] = []
    for call in (n for n in ast.walk(upgrade) if isinstance(n, ast.Call)):
        if not isinstance(call.func, ast.Attribute):
            continue
        name, line = call.func.attr, call.lineno
        if name in DROPS:
            found.append(f"line {line}: {name}")
        elif name == "alter_column":
            for keyword in ("new_column_name", "type_"):
                if _keyword(call, keyword) is not None:
                    found.append(f"line {line}: alter_column({keyword}=...)")
            if _is_false(_keyword(call, "nullable")):
                found.append(f"line {line}: alter_column(nullable=False)")
        elif name == "add_column":
            columns = [a for a in call.args if isinstance(a, ast.Call)]
            for column in columns:
                required = _is_false(_keyword(column, "nullable"))
                filled = _keyword(column, "server_default") is not None or _keyword(column, "primary_key") is not None
                if required and not filled:
                    found.append(f"line {line}: add_column of a NOT NULL column without a server_default")
        elif name == "execute" and any(DESTRUCTIVE_SQL.search(text) for text in _strings(call)):
            found.append(f"line {line}: execute() of destructive SQL")
    return found


def refusals(source: str) -> list[str]:
    """The contractions of a migration that does not say `Contract:` with why it is safe."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    return [] if CONTRACT.search(docstring) else contractions(source)


@pytest.mark.parametrize("path", sorted(VERSIONS.glob("*.py")), ids=lambda p: p.stem)
def test_every_migration_only_expands_unless_it_says_why_contracting_is_safe(path: Path) -> None:
    assert refusals(path.read_text(encoding="utf-8")) == [], (
        f"{path.name} contracts the schema: split it (expand now, contract a release later) or say "
        "'Contract: <why the running release no longer uses it>' in its docstring"
    )


def test_there_are_migrations_to_check() -> None:
    assert len(list(VERSIONS.glob("*.py"))) >= 10


EXPAND = '''"""Expand only."""
def upgrade():
    op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("t", sa.Column("a", sa.Text(), nullable=True))
    op.add_column("t", sa.Column("b", sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table("t") as batch_op:
        batch_op.create_index("ix_t_a", ["a"])
        batch_op.alter_column("a", nullable=True)
    op.execute("CREATE INDEX CONCURRENTLY ix_t_b ON t (b)")
def downgrade():
    op.drop_table("t")
'''


def test_expanding_passes_and_a_downgrade_may_drop() -> None:
    assert contractions(EXPAND) == []


@pytest.mark.parametrize(
    "statement",
    [
        'op.drop_column("t", "a")',
        'batch_op.drop_column("a")',
        'op.drop_table("t")',
        'op.rename_table("t", "u")',
        'batch_op.alter_column("a", new_column_name="b")',
        'op.alter_column("t", "a", type_=sa.Integer())',
        'op.alter_column("t", "a", existing_type=sa.Text(), nullable=False)',
        'op.add_column("t", sa.Column("c", sa.Text(), nullable=False))',
        'op.execute("ALTER TABLE t DROP COLUMN a")',
        'op.execute("ALTER TABLE t RENAME COLUMN a TO b")',
        'op.execute("ALTER TABLE t ALTER COLUMN a SET NOT NULL")',
        'op.execute(sa.text("ALTER TABLE t ALTER COLUMN a TYPE bigint"))',
    ],
)
def test_contracting_is_refused_without_a_reason(statement: str) -> None:
    source = f'"""Tidy up."""\ndef upgrade():\n    {statement}\n'
    assert len(refusals(source)) == 1
    said = '"""Drop t.a.\n\nContract: nothing reads t.a since release 12, which every process now runs."""\n'
    assert refusals(said + source.split("\n", 1)[1]) == []
    bare = '"""Drop t.a.\n\nContract:"""\n'  # a contraction must say why it is safe
    assert len(refusals(bare + source.split("\n", 1)[1])) == 1

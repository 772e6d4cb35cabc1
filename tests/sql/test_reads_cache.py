"""The SQL dependency cache (`warehouse.sql_models.ReadsCache`): what it remembers equals a fresh parse, a
changed text or another sqlglot is parsed again, and a broken or unwritable file only costs the parse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from warehouse.sql_models import (
    LAYERS,
    SQL_ROOT,
    ReadsCache,
    discover,
    discover_audits,
    load_model,
    referenced_tables,
)


def _copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "sql"
    for layer in (*LAYERS, "audits"):
        shutil.copytree(SQL_ROOT / layer, root / layer)
    return root


def test_remembered_reads_equal_a_fresh_parse_and_skip_the_parse(tmp_path: Path) -> None:
    path = tmp_path / "reads.json"
    first = ReadsCache(path)
    models = {p: p.read_text(encoding="utf-8") for layer in LAYERS for p in (SQL_ROOT / layer).glob("*.sql")}
    parsed = {p: first.reads(t) for p, t in models.items()}
    assert first.added == len(models)
    first.save()
    second = ReadsCache(path)
    assert {p: second.reads(t) for p, t in models.items()} == parsed
    assert second.added == 0  # every text came from the file
    assert parsed == {p: referenced_tables(t) for p, t in models.items()}


def test_a_changed_text_or_another_parser_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "reads.json"
    cache = ReadsCache(path)
    assert cache.reads("SELECT * FROM a") == ["a"]
    cache.save()
    again = ReadsCache(path)
    assert again.reads("SELECT * FROM a JOIN b USING (k)") == ["a", "b"]
    assert again.added == 1
    data = json.loads(path.read_text(encoding="utf-8"))
    data["parser"] = "sqlglot 0.0.1"
    path.write_text(json.dumps(data), encoding="utf-8")
    other = ReadsCache(path)
    assert other.known == {}
    assert other.reads("SELECT * FROM a") == ["a"] and other.added == 1


def test_a_stale_entry_is_not_used_for_a_new_text(tmp_path: Path) -> None:
    """The key is the text itself: a model edited to read another table gets its new dependency."""
    root = _copy_project(tmp_path)
    model = next((root / "marts").glob("*.sql"))
    cache = ReadsCache(tmp_path / "reads.json")
    before = load_model(model, "marts", cache).reads
    cache.save()
    model.write_text(model.read_text(encoding="utf-8") + "\nUNION ALL BY NAME SELECT * FROM planted_table\n")
    after = load_model(model, "marts", ReadsCache(tmp_path / "reads.json")).reads
    assert "planted_table" in after and "planted_table" not in before


def test_a_broken_file_is_ignored_and_replaced(tmp_path: Path) -> None:
    path = tmp_path / "reads.json"
    path.write_text('{"parser": "sqlglot', encoding="utf-8")
    cache = ReadsCache(path)
    assert cache.reads("SELECT x FROM t") == ["t"]
    cache.save()
    assert json.loads(path.read_text(encoding="utf-8"))["entries"]


def test_an_unwritable_folder_only_costs_the_parse(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    cache = ReadsCache(blocker / "target" / "reads.json")
    assert cache.reads("SELECT x FROM t") == ["t"]
    cache.save()  # logs, does not raise
    assert blocker.is_file() and not list(tmp_path.glob("**/*.tmp"))


def test_discovery_writes_one_file_for_models_and_audits(tmp_path: Path) -> None:
    root = _copy_project(tmp_path)
    models = discover(root)
    audits = discover_audits(root)
    data = json.loads((root / "target" / "referenced_tables.json").read_text(encoding="utf-8"))
    assert len(data["entries"]) == len({m.sql for m in (*models.values(), *audits.values())})

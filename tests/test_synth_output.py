"""`--out customers.csv` writes that one file (the format from its suffix), not a folder named customers.csv;
resume state lives in a hidden work folder beside it, removed when the run finishes."""

from __future__ import annotations

import sqlite3

import pytest
from test_cli import run as run_cli

from llmkit.synth import parse_spec, run
from llmkit.synth.report import load_tables


def _one_table(rows: int = 120, batch: int = 0):
    return parse_spec({"name": "people", "seed": 4, "tables": [{"name": "people", "rows": rows, "batch_rows": batch,
        "columns": [{"name": "id", "sampler": "sequence"}, {"name": "age", "sampler": "integer", "min": 18, "max": 90},
                    {"name": "joined", "sampler": "date", "start": "2020-01-01", "end": "2024-12-31"},
                    {"name": "score", "sampler": "normal", "mean": 50, "std": 10, "decimals": 2}]}]})  # fmt: skip


def test_cli_out_with_a_csv_suffix_writes_exactly_that_file(tmp_path):
    result = run_cli("synth", "run", "customers", "--rows", "60", "--seed", "7", "-o", str(tmp_path / "c.csv"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "c.csv").is_file() and [p.name for p in tmp_path.iterdir()] == ["c.csv"]  # nothing beside it
    folder = run_cli("synth", "run", "customers", "--rows", "60", "--seed", "7", "-o", str(tmp_path / "folder"))
    assert folder.returncode == 0
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "folder" / "customers.csv").read_bytes()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".sqlite", ".db"])
def test_each_data_suffix_gives_one_file_of_that_format(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    target = tmp_path / f"people{suffix}"
    list(run(_one_table(batch=50), target))  # three batches: Parquet joins its parts into one file
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    list(run(_one_table(batch=50), tmp_path / "folder", {".db": "sqlite"}.get(suffix, suffix[1:])))
    assert load_tables(target) == load_tables(tmp_path / "folder")
    if suffix in (".sqlite", ".db"):
        assert sqlite3.connect(target).execute("select count(*) from people").fetchone()[0] == 120
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        assert pq.ParquetFile(target).metadata.num_row_groups == 3


def test_a_suffix_that_disagrees_with_format_or_a_multi_table_spec_is_a_clear_error(tmp_path):
    result = run_cli("synth", "run", "customers", "--rows", "5", "-o", str(tmp_path / "c.csv"), "--format", "jsonl")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "error: " in result.stderr and ".csv means csv" in result.stderr and "jsonl" in result.stderr
    result = run_cli("synth", "run", "orders", "--rows", "5", "-o", str(tmp_path / "orders.csv"))
    assert result.returncode == 1 and "2 tables (customers, orders)" in result.stderr
    assert "--out must be a folder" in result.stderr
    assert list(tmp_path.iterdir()) == []  # nothing made
    shop = run_cli("synth", "run", "orders", "--rows", "5", "-o", str(tmp_path / "shop.sqlite"))  # one database
    assert shop.returncode == 0, shop.stderr
    assert set(load_tables(tmp_path / "shop.sqlite")) == {"customers", "orders"}
    assert [p.name for p in tmp_path.iterdir()] == ["shop.sqlite"]


def test_an_existing_folder_with_a_data_suffix_stays_a_folder(tmp_path):
    (tmp_path / "old.csv").mkdir()
    assert run_cli("synth", "run", "orders", "--rows", "5", "-o", str(tmp_path / "old.csv")).returncode == 0
    assert (tmp_path / "old.csv" / "orders.csv").is_file()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_killed_single_file_run_resumes_from_its_hidden_work_folder(tmp_path, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    whole, killed = tmp_path / "whole" / f"p.{fmt}", tmp_path / "killed" / f"p.{fmt}"
    list(run(_one_table(rows=500, batch=100), whole))
    events = run(_one_table(rows=500, batch=100), killed)
    for _ in range(2):
        next(events)
    events.close()  # the process "dies" after two batches
    work = killed.parent / f".p.{fmt}.synth"
    assert not killed.exists() and (work / ".synth-state.json").is_file()
    resumed = list(run(_one_table(rows=500, batch=100), killed))
    assert resumed[0].done == 300  # picked up after the two finished batches
    assert killed.read_bytes() == whole.read_bytes() and not work.exists()
    assert [p.name for p in killed.parent.iterdir()] == [killed.name]


def test_report_reads_a_single_file_run(tmp_path):
    result = run_cli("synth", "run", "customers", "--rows", "30", "-o", str(tmp_path / "c.jsonl"),
                     "--report", str(tmp_path / "quality"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "customers: 30 rows, rule violations 0" in result.stderr  # the file's rows checked as the spec's table
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.jsonl", "quality.html", "quality.json"]
    assert (tmp_path / "c.jsonl").is_file()

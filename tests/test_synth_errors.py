"""Bad input to `llmkit synth` gives one `error: ...` line (exit code 1, no traceback) and keeps what was done:
failing or exploding expressions, impossible row counts, runs that cannot fit on the disk, unusable
reference files, unwritable output places and a folder holding another spec's run."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import run as run_cli

from llmkit.errors import LlmkitError
from llmkit.synth import parse_spec, resolve_spec, run
from llmkit.synth.expressions import Expression


def _spec_file(tmp_path: Path, columns: list[str], rules: str = "", rows: int = 30, batch: int = 10) -> Path:
    text = (
        f"name: t\ntables:\n  - name: t\n    rows: {rows}\n    batch_rows: {batch}\n    columns:\n"
        + "".join(f"      - {c}\n" for c in ["{name: id, sampler: sequence}", *columns])
        + (f"    rules:\n      - {rules}\n" if rules else "")
    )
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _failed_cleanly(result: subprocess.CompletedProcess, *words: str) -> str:
    assert result.returncode == 1, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    line = next(line for line in result.stderr.splitlines() if line.startswith("error: "))
    for word in words:
        assert word in line, line
    return line


# ---- expressions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression, error",
    [
        ("a / (id - 25)", "ZeroDivisionError"),  # fails on row 25: two finished batches of 10 stay
        ("int('abc') if id == 25 else id", "ValueError"),
        ("'x' * 10**11 if id == 25 else 'x'", "too big"),  # 100 GB of text, refused before it is built
        ("9**9**9**9 if id == 25 else 1", "too big"),  # a number that would take hours to compute
    ],
)
def test_an_expression_failing_on_a_row_names_column_and_row_and_keeps_finished_batches(tmp_path, expression, error):
    column = f'{{name: b, kind: expression, expression: "{expression}"}}'
    spec = _spec_file(tmp_path, ["{name: a, sampler: integer, min: 1, max: 9}", column])
    result = run_cli("synth", "run", str(spec), "-o", str(tmp_path / "out"), timeout=1200)  # a hang guard only
    _failed_cleanly(result, "t.b, row 25", error, "20 rows of this table were written")
    rows = list(csv.DictReader((tmp_path / "out" / "t.csv").open(encoding="utf-8")))
    assert [int(r["id"]) for r in rows] == list(range(1, 21))  # the two finished batches are on disk


def test_a_check_rule_that_raises_names_the_rule_and_row(tmp_path):
    spec = _spec_file(tmp_path, ["{name: a, sampler: integer, min: 1, max: 9}"], rules='check: "a / (id - 12) > -100"')
    result = run_cli("synth", "run", str(spec), "-o", str(tmp_path / "out"))
    _failed_cleanly(result, "t rule check, row 12", "ZeroDivisionError", "(with a=")


HUGE = ["'x' * 10**11", "10**11 * 'x'", "[0] * 10**9", "9**9**9**9", "2 ** 100000", "(10**3000) * (10**3000)",
        "round(5, -10**9)", "'%01000000000d' % 1", "'%*d' % (10**9, 1)"]  # fmt: skip
EVALUATE = """
import json, sys
from llmkit.synth.expressions import Expression, ExpressionError
for source in sys.argv[1:]:
    try:
        Expression(source)({})
        print(json.dumps([source, "computed"]))
    except ExpressionError as exc:
        print(json.dumps([source, str(exc)]))
"""


def test_expressions_cannot_build_huge_values():
    # In a child process: unbounded, some of these fill the memory or compute for hours (the timeout only
    # keeps a regression from hanging the suite).
    done = subprocess.run([sys.executable, "-c", EVALUATE, *HUGE], capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    outcomes = dict(json.loads(line) for line in done.stdout.splitlines())
    assert outcomes.keys() == set(HUGE)
    for source, outcome in outcomes.items():
        assert "too big" in outcome or "digits" in outcome, (source, outcome)


def test_expressions_of_ordinary_size_still_work():
    row = {"quantity": 3, "unit_price": 2.5, "name": "Ann"}
    assert Expression("round(quantity * unit_price, 2)")(row) == 7.5
    assert Expression("2 ** 64 + 10 ** 300 // 10 ** 299")(row) == 2**64 + 10
    assert Expression("'ab' * 3 + name * 2 + '%05d' % quantity + str(7 % 4)")(row) == "abababAnnAnn000033"
    assert Expression("[1, 2] * 2")(row) == [1, 2, 1, 2] and Expression("2.0 ** 0.5")(row) == 2**0.5
    assert Expression("round(1234.5678, -2) + round(quantity)")(row) == 1203.0


def test_expression_failures_are_llmkit_errors_for_api_callers(tmp_path):
    from llmkit.synth.generate import ExpressionFailed

    columns = [{"name": "id", "sampler": "sequence"}, {"name": "r", "kind": "expression", "expression": "1 / (id - 3)"}]
    spec = parse_spec({"tables": [{"name": "t", "rows": 5, "columns": columns}]})
    with pytest.raises(ExpressionFailed) as error:
        list(run(spec, tmp_path))
    assert isinstance(error.value, LlmkitError) and error.value.row == 3 and error.value.where == "t.r"


# ---- row counts and disk space -----------------------------------------------------------------------


@pytest.mark.parametrize("template", ["orders", "customers"])
@pytest.mark.parametrize("rows", ["0", "-1"])
def test_rows_below_one_are_refused(tmp_path, template, rows):
    result = run_cli("synth", "run", template, "--rows", rows, "-o", str(tmp_path / "out"))
    _failed_cleanly(result, "rows must be at least 1", rows)
    assert not (tmp_path / "out").exists()


def test_a_run_that_cannot_fit_on_the_disk_is_refused_before_generating(tmp_path):
    result = run_cli("synth", "run", "orders", "--rows", str(10**13), "-o", str(tmp_path / "out"), timeout=1200)
    _failed_cleanly(result, f"{tmp_path / 'out'}: not enough disk space", "as csv", "lower --rows")
    assert not (tmp_path / "out").exists()


def test_the_size_estimate_is_close_to_what_a_run_writes(tmp_path):
    from llmkit.synth.output import OutputTarget, estimate_space

    spec = resolve_spec("orders", rows=10_000, seed=3)
    list(run(spec, tmp_path / "out", "csv"))
    written = sum((tmp_path / "out" / f"{t.name}.csv").stat().st_size for t in spec.tables)
    scale = 20  # the estimate only runs for large runs: ask for 20x the rows and compare per row
    larger = {t.name: t.rows * scale for t in spec.tables}
    estimate = estimate_space(spec, OutputTarget(tmp_path / "out", "csv"), larger)
    assert estimate is not None and 0.8 < estimate.bytes / (written * scale) < 1.25
    assert estimate.free > 0 and estimate.rows == 40_000 * scale


def test_a_warning_names_the_estimate_when_a_run_takes_much_of_the_free_space():
    from llmkit.synth.output import SpaceEstimate

    assert SpaceEstimate(10, 1000, Path("/x"), 5, Path("/x/out"), "csv").warning is None
    warning = SpaceEstimate(900_000_000, 1_000_000_000, Path("/data"), 5_000_000, Path("/data/out"), "csv").warning
    assert warning == "5,000,000 rows will take about 900.0 MB; /data has 1.0 GB free"


# ---- quality report inputs ----------------------------------------------------------------------------


def test_report_reference_without_shared_columns_or_not_text_is_a_clear_error(tmp_path):
    list(run(resolve_spec("orders", rows=20, seed=1), tmp_path / "data"))
    unrelated = tmp_path / "weather.csv"
    unrelated.write_text("city,temperature\nOslo,3\nRome,18\n", encoding="utf-8")
    result = run_cli("synth", "report", str(tmp_path / "data"), "--reference", str(unrelated))
    _failed_cleanly(result, "weather.csv", "shares no column", "city, temperature")
    binary = tmp_path / "real.csv"
    binary.write_bytes(bytes(range(256)) * 20)
    result = run_cli("synth", "report", str(tmp_path / "data"), "--reference", str(binary))
    _failed_cleanly(result, "real.csv", "cannot read the reference as a UTF-8 CSV")
    keys_only = tmp_path / "ids.csv"
    keys_only.write_text("order_id\n" + "\n".join(f"id-{i}" for i in range(80)) + "\n", encoding="utf-8")
    result = run_cli("synth", "report", str(tmp_path / "data"), "--reference", str(keys_only))
    _failed_cleanly(result, "ids.csv", "keys or free text")


def test_report_on_an_unreadable_data_file_names_it(tmp_path):
    (tmp_path / "t.csv").write_bytes(b"\xff\xfe\x00\x01 not text" * 50)
    _failed_cleanly(run_cli("synth", "report", str(tmp_path / "t.csv")), "t.csv", "cannot read it as csv")
    (tmp_path / "db.sqlite").write_bytes(b"not a database" * 100)
    _failed_cleanly(run_cli("synth", "report", str(tmp_path / "db.sqlite")), "db.sqlite", "cannot read it as sqlite")


# ---- where the output goes ----------------------------------------------------------------------------


def test_output_under_a_file_names_the_file_in_the_way(tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine", encoding="utf-8")
    result = run_cli("synth", "run", "orders", "--rows", "5", "-o", str(blocker / "out"))
    _failed_cleanly(result, "cannot create the output folder", f"{blocker} is a file")
    result = run_cli("synth", "run", "orders", "--rows", "5", "-o", str(blocker))
    _failed_cleanly(result, str(blocker), "is a file")
    assert blocker.read_text(encoding="utf-8") == "mine"


def test_a_read_only_output_folder_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anywhere a mode allows; sysfs refuses even root
            target, reason = Path("/sys/llmkit-test-output/out"), "Operation not permitted"
        else:
            target, reason = locked / "out", "Permission denied"
        result = run_cli("synth", "run", "orders", "--rows", "5", "-o", str(target))
        _failed_cleanly(result, str(target), reason)
    finally:
        locked.chmod(0o700)


FILE_SIZE_LIMIT = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG, as a full disk would
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from llmkit.cli.main import main
main(sys.argv[2:])
"""


def test_a_disk_that_fills_midway_keeps_finished_batches_and_resumes_to_the_same_bytes(tmp_path):
    spec = _spec_file(tmp_path, ["{name: a, sampler: integer, min: 1000, max: 9999}", "{name: w, sampler: uuid}"],
                      rows=2000, batch=100)  # fmt: skip
    args = ["synth", "run", str(spec), "--seed", "3", "-o"]
    whole = run_cli(*args, str(tmp_path / "whole"))
    assert whole.returncode == 0
    size = (tmp_path / "whole" / "t.csv").stat().st_size
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    full = subprocess.run([sys.executable, "-c", FILE_SIZE_LIMIT, str(size // 3), *args, str(tmp_path / "full")],
                          capture_output=True, text=True, env=env, timeout=1200)  # fmt: skip
    line = _failed_cleanly(full, str(tmp_path / "full" / "t.csv"), "cannot write", "finished batch(es) are kept")
    kept = int(re.search(r"the (\d+) finished batch", line).group(1))
    assert 3 <= kept < 20
    state = json.loads((tmp_path / "full" / ".synth-state.json").read_text())
    assert state["batches"] == {"t": kept} and not state.get("complete")
    resumed = run_cli(*args, str(tmp_path / "full"))
    assert resumed.returncode == 0 and f"after {kept} finished batch(es)" in resumed.stderr
    assert (tmp_path / "full" / "t.csv").read_bytes() == (tmp_path / "whole" / "t.csv").read_bytes()


def test_a_folder_holding_another_specs_run_is_refused_then_replaced_with_fresh(tmp_path):
    out = tmp_path / "out"
    assert run_cli("synth", "run", "orders", "--rows", "10", "-o", str(out)).returncode == 0
    result = run_cli("synth", "run", "employees", "--rows", "10", "-o", str(out))
    _failed_cleanly(result, "another run's files", "spec 'orders'", "customers, orders", "--fresh")
    assert sorted(p.name for p in out.glob("*.csv")) == ["customers.csv", "orders.csv"]  # nothing touched
    other_format = run_cli("synth", "run", "orders", "--rows", "10", "-o", str(out), "--format", "jsonl")
    _failed_cleanly(other_format, "csv files", "--fresh")
    fresh = run_cli("synth", "run", "employees", "--rows", "10", "-o", str(out), "--fresh")
    assert fresh.returncode == 0, fresh.stderr
    assert sorted(p.name for p in out.glob("*.csv")) == ["departments.csv", "employees.csv"]  # no stale tables
    again = run_cli("synth", "run", "employees", "--rows", "12", "--seed", "2", "-o", str(out))  # same spec: redone
    assert again.returncode == 0 and "resuming" not in again.stderr

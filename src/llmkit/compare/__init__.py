"""Model comparison and selection: prompt suites run side by side through the Engine (`compare`), and a
ranking of the catalog for a memory budget, hardware, task, languages and context (`recommend`)."""

from llmkit.compare.advisor import GPUS, Constraints, Hardware, Recommendation, recommend
from llmkit.compare.memory import MemoryNeed, memory_need
from llmkit.compare.report import render_html, summary_rows, text_table, write_report
from llmkit.compare.service import CompareOptions, compare_stream, engine_for, run_comparison, shared_text
from llmkit.compare.suites import (
    Case,
    Check,
    CheckResult,
    Judge,
    Suite,
    builtin_suites,
    check_kinds,
    load_suite,
    parse_suite,
    register_check,
)
from llmkit.compare.types import (
    CaseDone,
    CaseResult,
    CompareEvent,
    CompareProgress,
    ComparisonDone,
    ComparisonReport,
    ModelDone,
    ModelSpec,
    ModelSummary,
)

__all__ = [
    "GPUS",
    "Case",
    "CaseDone",
    "CaseResult",
    "Check",
    "CheckResult",
    "CompareEvent",
    "CompareOptions",
    "CompareProgress",
    "ComparisonDone",
    "ComparisonReport",
    "Constraints",
    "Hardware",
    "Judge",
    "MemoryNeed",
    "ModelDone",
    "ModelSpec",
    "ModelSummary",
    "Recommendation",
    "Suite",
    "builtin_suites",
    "check_kinds",
    "compare_stream",
    "engine_for",
    "load_suite",
    "memory_need",
    "parse_suite",
    "recommend",
    "register_check",
    "render_html",
    "run_comparison",
    "shared_text",
    "summary_rows",
    "text_table",
    "write_report",
]

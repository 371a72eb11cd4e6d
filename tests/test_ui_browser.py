"""The web UI in a real browser: Debian's chromium driven by Playwright, as a person would use it.

One UI server per module (in this process, on a free loopback port) over one engine on the embedded model
(llama.cpp: loads in a second and keeps the suite's wall time small). Every request the pages make is
recorded: all must go to the loopback server (nothing from a CDN or the internet). Each tab's screenshot
is saved for the README (docs/screenshots/, with LLMKIT_UI_SCREENSHOTS=1).
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from llmkit import Engine, load_settings
from tests.conftest import free_port

# The README's screenshots are refreshed only when asked (LLMKIT_UI_SCREENSHOTS=1), so that a test run does
# not leave changed images in the working tree; otherwise they go to a temporary folder.
SCREENSHOTS = (
    Path(__file__).resolve().parents[1] / "docs" / "screenshots"
    if os.environ.get("LLMKIT_UI_SCREENSHOTS") == "1"
    else Path(tempfile.mkdtemp(prefix="llmkit-ui-screenshots-"))
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
HANG_GUARD_MS = 1_200_000  # only against hangs on a busy machine; nothing here asserts a time
BOT = "#chat-bot [data-testid='bot']"


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    from llmkit.ui import build_app, launch

    engine = Engine(settings=load_settings(backend="llamacpp"))
    app = build_app(engine=engine, work_dir=tmp_path_factory.mktemp("ui-work"))
    url = launch(app, port=free_port(), block=False)
    yield url
    app.close()
    engine.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Session:
    """One browser session (its own context: cookies, Gradio session) with every request recorded."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(HANG_GUARD_MS)
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.goto(url)
        self.page.wait_for_selector("#chat-send")

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if not re.match(r"(https?|wss?)://127\.0\.0\.1[:/]|(data|blob):", u)]

    def close(self) -> None:
        assert not self.foreign_requests(), f"the page loaded from outside the machine: {self.foreign_requests()}"
        self.context.close()


@pytest.fixture
def session(ui, browser):
    one = Session(browser, ui)
    yield one
    one.close()


def bot_texts(page) -> list[str]:
    return page.locator(BOT).all_inner_texts()


def set_number(page, elem_id: str, value: int) -> None:
    field = page.locator(f"#{elem_id} input[type=number]")
    field.fill(str(value))
    field.press("Enter")


def send(page, text: str, max_tokens: int) -> None:
    set_number(page, "chat-max-tokens", max_tokens)
    page.fill("#chat-message textarea", text)
    page.click("#chat-send")


def file_names(page, elem_id: str) -> set[str]:
    return {link.get_attribute("download") for link in page.locator(f"#{elem_id} a[download]").all()}


def download(page, elem_id: str, name: str) -> str:
    """Click a file's download link as a person would; the downloaded file's text."""
    with page.expect_download() as started:
        page.click(f"#{elem_id} a[download='{name}']")
    return Path(started.value.path()).read_text(encoding="utf-8")


def stats_rows(page) -> list[list[str]]:
    rows = page.locator("#chat-stats tbody tr").all()
    return [row.locator("td").all_inner_texts() for row in rows]


def test_page_loads_every_tab_from_the_loopback_server_only(session):
    tabs = session.page.locator("[role=tab]").all_inner_texts()
    assert tabs == ["Chat", "Tokenizer lab", "Meeting minutes", "Synthetic data"]
    models = session.page.locator("#chat-model input")
    assert models.input_value() == "smollm2-135m-instruct"


@pytest.mark.timeout(1200)  # a hang guard
def test_chat_streams_tokens_and_stop_cancels_the_engine(session):
    page = session.page
    page.click("#chat-send")  # an empty message: a readable message, no traceback
    page.wait_for_selector("text=Type a message first.")
    assert "Traceback" not in page.content()

    send(page, "Count from 1 to 500, separated by commas.", 2000)
    lengths: list[int] = []
    while len({n for n in lengths if n}) < 3:  # three different non-empty lengths: tokens arrive one by one
        page.wait_for_function(
            f'document.querySelectorAll("{BOT}").length && '
            f'[...document.querySelectorAll("{BOT}")].pop().innerText.length > {max(lengths, default=0)}'
        )
        lengths.append(len(bot_texts(page)[-1]))
    page.click("#chat-stop")
    page.wait_for_selector("#chat-stats td:text-is('cancelled')")
    *_, tokens, finish = stats_rows(page)[-1]
    assert finish == "cancelled"  # the engine's own Finished event says it stopped
    assert 0 < int(tokens) < 2000
    page.wait_for_function('document.querySelector("#chat-status").innerText.includes("Stopped")')
    page.screenshot(path=str(SCREENSHOTS / "chat.png"), full_page=True)

    send(page, "Say hello.", 12)  # the conversation goes on after a Stop
    page.wait_for_function("document.querySelectorAll('#chat-stats tbody tr').length == 2")
    assert stats_rows(page)[-1][-1] in ("stop", "length")
    page.click("#chat-export")
    page.wait_for_selector("#chat-files a[download='chat.md']")
    exported = download(page, "chat-files", "chat.json")
    assert "Count from 1 to 500" in exported and '"finish_reason": "cancelled"' in exported


def test_two_browser_sessions_do_not_share_state(ui, browser):
    first, second = Session(browser, ui), Session(browser, ui)
    try:
        send(first.page, "Name a colour.", 6)
        first.page.wait_for_selector("#chat-stats tbody tr")
        assert second.page.locator(BOT).count() == 0 and not second.page.inner_text("#chat-stats").strip()
        send(second.page, "Name an animal.", 6)
        second.page.wait_for_selector("#chat-stats tbody tr")
        assert len(stats_rows(first.page)) == len(stats_rows(second.page)) == 1
        assert "Name an animal." not in first.page.inner_text("#chat-bot")
        assert "Name a colour." not in second.page.inner_text("#chat-bot")
    finally:
        first.close()
        second.close()


def test_tokenizer_lab_encodes_compares_and_renders_a_template(session):
    from llmkit import tokens

    page = session.page
    page.click("#tab-tokens-button")
    text = "Hello world!\n\tTokenizers cut text."
    page.fill("#tok-text textarea", text)
    page.click("#tok-encode")
    page.wait_for_selector("#tok-spans .token")
    expected = tokens.encode(text, "smollm2")
    assert page.locator("#tok-spans .token").count() == len(expected.tokens)
    assert page.input_value("#tok-ids textarea").split() == [str(i) for i in expected.ids]
    assert "↵" in page.inner_text("#tok-spans") and "·" in page.inner_text("#tok-spans")  # whitespace visible
    page.click("#tok-compare")
    page.wait_for_function("document.querySelector('#tok-comparison').innerText.includes('cl100k')")
    page.click("#tpl-render")
    page.wait_for_selector("#tpl-rendered .special")
    specials = page.locator("#tpl-rendered .special").all_inner_texts()
    assert "<|im_start|>" in specials and "<|im_end|>" in specials
    page.screenshot(path=str(SCREENSHOTS / "tokenizer-lab.png"), full_page=True)


@pytest.mark.timeout(1800)  # a hang guard: transcription and the model share two busy cores
def test_sample_meeting_gives_minutes_to_download(session):
    page = session.page
    page.click("#tab-minutes-button")
    page.check("#min-quick input")
    page.click("#min-sample")
    page.wait_for_selector("#min-status:has-text('Transcribing')")
    page.wait_for_selector("#min-status:has-text('Done')")
    assert page.input_value("#min-transcript textarea").strip()
    assert page.input_value("#min-summary textarea").strip()
    assert "Action items" in page.inner_text("#min-rendered")
    names = file_names(page, "min-files")
    assert {"minutes.md", "minutes.json", "minutes.html", "minutes.docx", "transcript.srt", "transcript.vtt"} <= names
    minutes = download(page, "min-files", "minutes.md")
    assert minutes.startswith("# ") and "## Action items" in minutes
    page.screenshot(path=str(SCREENSHOTS / "meeting-minutes.png"), full_page=True)


def test_synth_invalid_spec_names_the_field(session):
    page = session.page
    page.click("#tab-synth-button")
    page.click("#synth-editor .cm-content")
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(
        "name: bad\ntables:\n  - name: people\n    rows: 5\n    columns:\n      - {name: age, sampler: gausian}\n"
    )
    page.click("#synth-validate")
    page.wait_for_selector("#synth-error-text")
    error = page.inner_text("#synth-error")
    assert "tables[0].columns[0].sampler" in error and "line 6" in error and "gausian" in error


def test_synth_template_runs_with_a_report_and_downloads(session):
    page = session.page
    page.click("#tab-synth-button")
    set_number(page, "synth-rows", 30)
    page.click("#synth-preview")
    page.wait_for_function("document.querySelector('#synth-table').innerText.includes('@example.com')")
    page.click("#synth-run")
    page.wait_for_selector("#synth-status:has-text('Done')")
    scores = page.inner_text("#synth-scores")
    assert "customers" in scores and "5/5" in scores  # rows and every rule of the template passed
    frame = page.frame_locator("#synth-report-frame")
    assert "quality report" in frame.locator("h1").inner_text()
    assert frame.locator("svg").count() > 0  # the report's plots, inline
    assert {"customers.csv", "report.html", "report.json"} <= file_names(page, "synth-files")
    page.screenshot(path=str(SCREENSHOTS / "synthetic-data.png"), full_page=True)

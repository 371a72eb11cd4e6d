"""The web UI, measured in a real browser (Debian's chromium via Playwright), for docs/benchmarks.md.

    nice .venv/bin/python benchmarks/ui.py [--backends llamacpp,transformers] [--runs 5] [--minutes]

For each backend, `llmkit ui --backend B` runs as its own process on a free loopback port. Measured:
- page load: navigation start to the app rendered (the Send button in the page), median of --runs fresh
  browser sessions, the first (cold) one reported apart;
- Send click to the first token visible: the page's own clock (performance.now) at the click and when a
  MutationObserver first sees answer text, against the engine's own time to first token for the same
  answer (the stats row the UI shows, from the engine's Finished event); the first answer (model load)
  is left out;
- memory: the UI process's resident set (VmRSS, and its peak VmHWM) after the chat model is loaded, and
  with --minutes after the quick sample meeting too (Whisper loaded).
Nothing is asserted. Prints Markdown rows.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
BOT = "#chat-bot [data-testid='bot']"
TIMEOUT_MS = 900_000

# Click Send and resolve with the page-clock time from the click to the first answer text on screen.
_CLICK_TO_FIRST_TOKEN = """
() => new Promise(resolve => {
  const before = document.querySelectorAll("%s").length;
  const start = performance.now();
  const seen = () => {
    const bots = document.querySelectorAll("%s");
    return bots.length > before && bots[bots.length - 1].innerText.trim().length > 0;
  };
  const observer = new MutationObserver(() => {
    if (seen()) { observer.disconnect(); resolve(performance.now() - start); }
  });
  observer.observe(document.querySelector("#chat-bot"), {subtree: true, childList: true, characterData: true});
  document.querySelector("#chat-send").click();
})
""" % (BOT, BOT)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_ui(backend: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [sys.executable, "-m", "llmkit", "ui", "--port", str(port), "--backend", backend]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 600
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=5)
            return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit(f"the UI did not start: {process.stderr.read().decode()[-2000:]}")


def memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def page_loads(browser, url: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs + 1):
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("#chat-send")
        times.append(time.perf_counter() - start)
        context.close()
    return times


def last_stats(page) -> list[str]:
    return page.locator("#chat-stats tbody tr").last.locator("td").all_inner_texts()


def first_tokens(browser, url: str, runs: int) -> list[tuple[float, float]]:
    """(ms click -> first token visible, engine TTFT ms) per answer; the first (model load) dropped."""
    page = browser.new_context().new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector("#chat-send")
    field = page.locator("#chat-max-tokens input[type=number]")
    field.fill("24")
    field.press("Enter")
    pairs = []
    for index in range(runs + 1):
        page.click("#chat-clear")  # each answer from the same short prompt (the history would grow the prompt)
        page.wait_for_function("!document.querySelector('#chat-stats tbody')")
        page.fill("#chat-message textarea", f"Name {index + 2} fruits.")
        visible_ms = page.evaluate(_CLICK_TO_FIRST_TOKEN)
        page.wait_for_selector("#chat-stats tbody tr")
        page.wait_for_function("document.querySelector('#chat-status').innerText.includes('Done')")
        ttft_ms = float(last_stats(page)[3].split()[0])
        if index:
            pairs.append((visible_ms, ttft_ms))
    page.context.close()
    return pairs


def quick_minutes(browser, url: str) -> float:
    page = browser.new_context().new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.click("#tab-minutes-button")
    page.check("#min-quick input")
    start = time.perf_counter()
    page.click("#min-sample")
    page.wait_for_selector("#min-status:has-text('Done')")
    page.context.close()
    return time.perf_counter() - start


def measure(browser, backend: str, runs: int, minutes: bool) -> dict:
    process, url = start_ui(backend)
    try:
        loads = page_loads(browser, url, runs)
        pairs = first_tokens(browser, url, runs)
        rss, peak = memory_mb(process.pid)
        result = {"backend": backend, "load_cold_s": loads[0], "load_s": statistics.median(loads[1:]),
                  "visible_ms": statistics.median(p[0] for p in pairs),
                  "ttft_ms": statistics.median(p[1] for p in pairs),
                  "gap_ms": statistics.median(p[0] - p[1] for p in pairs),
                  "rss_chat_mb": rss, "peak_chat_mb": peak}  # fmt: skip
        if minutes:
            result["minutes_s"] = quick_minutes(browser, url)
            result["rss_minutes_mb"], result["peak_minutes_mb"] = memory_mb(process.pid)
        return result
    finally:
        process.terminate()
        process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default="llamacpp,transformers")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--minutes", action="store_true", help="Also run the quick sample meeting (Whisper).")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        results = [measure(browser, b, args.runs, args.minutes) for b in args.backends.split(",")]
        browser.close()
    print(
        "| backend | page load (cold / median) | Send -> first token visible | engine TTFT | gap | UI RSS, chat model loaded (peak) | + quick sample minutes: RSS (peak) |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in results:
        minutes = (f"{r['rss_minutes_mb']:.0f} MB ({r['peak_minutes_mb']:.0f} MB), run {r['minutes_s']:.0f} s"
                   if "minutes_s" in r else "-")  # fmt: skip
        print(f"| {r['backend']} | {r['load_cold_s']:.2f} s / {r['load_s']:.2f} s | {r['visible_ms']:.0f} ms | "
              f"{r['ttft_ms']:.0f} ms | {r['gap_ms']:+.0f} ms | {r['rss_chat_mb']:.0f} MB ({r['peak_chat_mb']:.0f} MB) | {minutes} |")  # fmt: skip


if __name__ == "__main__":
    main()

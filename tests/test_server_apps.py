"""llmkit's apps over real loopback HTTP (httpx against uvicorn on a thread, the embedded SmolLM2 GGUF):
meeting minutes streamed from an uploaded transcript, synthetic data as a job (progress stream, files),
and the refusals (malformed spec naming its field, auth, full job slots)."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from llmkit import Engine, load_settings
from llmkit.server import ServerConfig, create_app
from llmkit.server import apps as server_apps
from tests.conftest import free_port
from tests.test_server import running

KEY = "apps-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
HANG_GUARD_S = 900
MEETINGS = Path(__file__).parents[1] / "benchmarks" / "meetings"


@pytest.fixture(scope="module")
def served():
    os.environ.setdefault("LLMKIT_CONFIG", "/nonexistent/llmkit-test-config.toml")
    engine = Engine(settings=load_settings(backend="llamacpp"))
    engine.backend_for()
    cfg = ServerConfig(backend="llamacpp", api_keys=(KEY,), port=free_port(), max_concurrency=2, max_queue=4)
    app = create_app(cfg, engine)
    with running(app, cfg.port) as base:
        yield base, app.state.llmkit
    engine.close()


@pytest.fixture(scope="module")
def transcript(tmp_path_factory) -> Path:
    """The first ten lines of a scripted meeting as a timed transcript (no ASR: fast)."""
    from llmkit.minutes.evaluation import script_as_transcript

    folder = tmp_path_factory.mktemp("meeting")
    whole = script_as_transcript(MEETINGS / "hiring-sync.lines.json", folder / "whole.txt")
    short = folder / "hiring-sync.txt"
    short.write_text("".join(whole.read_text().splitlines(keepends=True)[:10]))
    return short


def sse_events(response: httpx.Response) -> list[dict]:
    """(event name, JSON data) of each SSE message; the name must equal the payload's type."""
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            payload = json.loads(line.removeprefix("data:").strip())
            assert payload["type"] == name
            events.append(payload)
    return events


def test_minutes_stream_from_an_uploaded_transcript_ends_with_the_minutes(served, transcript):
    base, _ = served
    files = {"file": (transcript.name, transcript.read_bytes(), "text/plain")}
    with httpx.stream("POST", base + "/v1/minutes", files=files, data={"extractor": "hybrid"}, headers=AUTH,
                      timeout=HANG_GUARD_S) as response:  # fmt: skip
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        events = sse_events(response)
    kinds = [event["type"] for event in events]
    assert "minutes.progress" in kinds and kinds[-1] == "minutes.done", kinds
    stages = {event["stage"] for event in events if event["type"] == "minutes.progress"}
    assert {"map", "reduce", "write"} <= stages
    done = events[-1]
    minutes = done["minutes"]
    assert minutes["extractor"] == "hybrid" and minutes["source"].endswith("hiring-sync.txt")
    assert any("Maria" in json.dumps(item) for item in minutes["action_items"] + minutes["decisions"]), minutes
    assert done["markdown"].startswith("#") and minutes["title"] in done["markdown"]
    summary = "".join(event["text"] for event in events if event["type"] == "minutes.delta")
    assert summary.strip(), "the summary streams as minutes.delta pieces"


def test_minutes_refusals_and_a_client_that_goes_away(served, transcript):
    base, state = served
    assert httpx.post(base + "/v1/minutes", files={"file": ("a.txt", b"x")}, timeout=60).status_code == 401
    missing = httpx.post(base + "/v1/minutes", data={"extractor": "hybrid"}, files={"other": ("a.txt", b"x")},
                         headers=AUTH, timeout=60)  # fmt: skip
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"
    wrong = httpx.post(base + "/v1/minutes", files={"file": ("notes.exe", b"x")}, headers=AUTH, timeout=60)
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "file"
    bad = httpx.post(base + "/v1/minutes", files={"file": (transcript.name, transcript.read_bytes())},
                     data={"extractor": "magic"}, headers=AUTH, timeout=60)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "extractor"
    empty = httpx.post(base + "/v1/minutes", files={"file": ("empty.srt", b"\n")}, headers=AUTH, timeout=HANG_GUARD_S)
    assert empty.status_code == 200
    failure = [json.loads(line[5:]) for line in empty.text.splitlines() if line.startswith("data:")][-1]
    assert failure["type"] == "error" and failure["error"]["message"], failure  # an empty transcript, said so

    before = set(Path(tempfile.gettempdir()).glob("llmkit-minutes-*"))
    with httpx.stream("POST", base + "/v1/minutes", files={"file": (transcript.name, transcript.read_bytes())},
                      headers=AUTH, timeout=HANG_GUARD_S) as response:  # fmt: skip
        assert response.status_code == 200
        next(response.iter_lines())  # the run has started; the client leaves
    deadline = time.monotonic() + HANG_GUARD_S
    # The upload's folder is removed once the worker has stopped the pipeline (at its next event).
    while (state.admission.running or set(Path(tempfile.gettempdir()).glob("llmkit-minutes-*")) - before) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert state.admission.running == 0, "the generation slot is given back when the client goes away"
    assert not set(Path(tempfile.gettempdir()).glob("llmkit-minutes-*")) - before, "the work stopped and cleaned up"


def test_synth_job_streams_progress_and_serves_its_files(served):
    base, _ = served
    started = httpx.post(base + "/v1/synth/jobs", json={"template": "customers", "rows": 25, "seed": 3},
                         headers=AUTH, timeout=60)  # fmt: skip
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["object"] == "synth.job" and job["status"] in ("queued", "running", "succeeded")
    with httpx.stream("GET", f"{base}/v1/synth/jobs/{job['id']}/events", headers=AUTH, timeout=HANG_GUARD_S) as r:
        events = sse_events(r)
    assert [e["type"] for e in events][-1] == "synth.done", events
    progress = [e for e in events if e["type"] == "synth.progress"]
    assert progress and progress[-1] == {"type": "synth.progress", "table": "customers", "done": 25, "total": 25}
    status = httpx.get(f"{base}/v1/synth/jobs/{job['id']}", headers=AUTH, timeout=60).json()
    assert status["status"] == "succeeded" and status["progress"]["done"] == 25
    listing = httpx.get(f"{base}/v1/synth/jobs/{job['id']}/files", headers=AUTH, timeout=60).json()
    names = [f["name"] for f in listing["data"]]
    assert "customers.csv" in names and "synth-run.json" in names
    download = httpx.get(f"{base}/v1/synth/jobs/{job['id']}/files/customers.csv", headers=AUTH, timeout=60)
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == 25 and [row["customer_id"] for row in rows] == [str(n) for n in range(1, 26)]
    assert all(row["email"].endswith("@example.com") for row in rows)
    again = httpx.post(base + "/v1/synth/jobs", json={"template": "customers", "rows": 25, "seed": 3},
                       headers=AUTH, timeout=60).json()  # fmt: skip
    with httpx.stream("GET", f"{base}/v1/synth/jobs/{again['id']}/events", headers=AUTH, timeout=HANG_GUARD_S) as r:
        sse_events(r)
    same = httpx.get(f"{base}/v1/synth/jobs/{again['id']}/files/customers.csv", headers=AUTH, timeout=60)
    assert same.text == download.text, "same template, rows and seed: the same file"
    outside = httpx.get(f"{base}/v1/synth/jobs/{job['id']}/files/..%2Fspec.yaml", headers=AUTH, timeout=60)
    assert outside.status_code == 404


def test_synth_job_from_spec_text_and_its_refusals(served, monkeypatch):
    base, _ = served
    spec = {"name": "tiny", "seed": 1, "tables": [{"name": "points", "rows": 4, "columns": [
        {"name": "id", "sampler": "sequence", "start": 10}]}]}  # fmt: skip
    ok = httpx.post(base + "/v1/synth/jobs", json={"spec": json.dumps(spec), "format": "jsonl"}, headers=AUTH,
                    timeout=60)  # fmt: skip
    assert ok.status_code == 202, ok.text
    with httpx.stream("GET", f"{base}/v1/synth/jobs/{ok.json()['id']}/events", headers=AUTH, timeout=HANG_GUARD_S) as r:
        assert sse_events(r)[-1]["type"] == "synth.done"
    lines = httpx.get(f"{base}/v1/synth/jobs/{ok.json()['id']}/files/points.jsonl", headers=AUTH, timeout=60).text
    assert [json.loads(line)["id"] for line in lines.splitlines()] == [10, 11, 12, 13]

    broken = {"tables": [{"name": "points", "rows": 4, "columns": [{"name": "id", "sampler": "no-such-sampler"}]}]}
    refused = httpx.post(base + "/v1/synth/jobs", json={"spec": json.dumps(broken)}, headers=AUTH, timeout=60)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["param"].startswith("tables[0].columns[0]") and error["param"] in error["message"], error
    no_rows = httpx.post(base + "/v1/synth/jobs", json={"spec": "tables: [{name: t, columns: []}]"}, headers=AUTH,
                         timeout=60).json()["error"]  # fmt: skip
    assert no_rows["param"].startswith("tables[0]"), no_rows
    for body, param in [({"spec": "tables: [", "rows": 3}, "spec"), ({}, "spec"), ({"template": "x", "rows": 0}, "rows"),
                        ({"template": "customers", "format": "xlsx"}, "format")]:  # fmt: skip
        answer = httpx.post(base + "/v1/synth/jobs", json=body, headers=AUTH, timeout=60)
        assert answer.status_code == 400 and answer.json()["error"]["param"] == param, (body, answer.text)
    unknown = httpx.post(base + "/v1/synth/jobs", json={"template": "nope"}, headers=AUTH, timeout=60)
    assert unknown.status_code == 400 and "customers" in unknown.json()["error"]["message"]
    assert httpx.get(base + "/v1/synth/jobs/synthjob-missing", headers=AUTH, timeout=60).status_code == 404

    for path in ("/v1/synth/jobs/x", "/v1/synth/jobs/x/events", "/v1/synth/jobs/x/files"):
        assert httpx.get(base + path, timeout=60).status_code == 401
    assert httpx.post(base + "/v1/synth/jobs", json={"template": "customers"}, timeout=60).status_code == 401

    monkeypatch.setattr(server_apps, "MAX_RUNNING_JOBS", 0)
    full = httpx.post(base + "/v1/synth/jobs", json={"template": "customers", "rows": 5}, headers=AUTH, timeout=60)
    assert full.status_code == 503 and full.headers["Retry-After"] == "5"


def test_request_metrics_are_labelled_by_route_not_by_url():
    """Job ids, file names and stray paths must not each open a new Prometheus series."""
    from llmkit.server.app import _endpoint_label

    assert _endpoint_label("/v1/synth/jobs/3f2a/files/customers.csv") == "/v1/synth/jobs/{id}/files/{name}"
    assert _endpoint_label("/v1/synth/jobs/3f2a/events") == "/v1/synth/jobs/{id}/events"
    assert _endpoint_label("/v1/chat/completions") == "/v1/chat/completions"
    assert {_endpoint_label(f"/v1/probe-{n}") for n in range(5)} == {"other"}


def test_chat_on_a_base_model_is_refused_and_completion_is_not():
    """Gemma 3 270M has no chat template: /v1/chat/completions says so (400) instead of inventing a format."""
    from types import SimpleNamespace

    from llmkit.generation import Engine, Prompt, SamplingParams
    from llmkit.server.errors import APIError
    from llmkit.server.openai import _require_chat_template
    from llmkit.server.protocol import GenerationRequest

    state = SimpleNamespace(pool=SimpleNamespace(engine=Engine()))
    served = SimpleNamespace(name="gemma3", model="gemma3", backend="llamacpp")

    def request(chat: bool) -> GenerationRequest:
        prompt = Prompt.of("Hi") if chat else Prompt(raw="Hi")
        return GenerationRequest("gemma3", prompt, SamplingParams(), False, False, chat, False)

    with pytest.raises(APIError) as refused:
        _require_chat_template(state, served, request(chat=True))
    assert refused.value.status == 400 and "no chat template" in str(refused.value)
    _require_chat_template(state, served, request(chat=False))  # plain completion is fine
    _require_chat_template(state, SimpleNamespace(name="s", model="smollm2", backend="llamacpp"), request(chat=True))

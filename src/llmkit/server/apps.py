"""llmkit's apps over HTTP: meeting minutes from an upload as an event stream (`POST /v1/minutes`) and
synthetic data as a job (`/v1/synth/jobs`: start, status, progress stream, files). Each runs its face's
blocking service on a worker thread; every event goes out through `_sse_item`, the one serialiser."""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from pydantic import Field

from llmkit.generation import CancelToken
from llmkit.server.bridge import in_thread
from llmkit.server.errors import APIError, as_api_error, unavailable
from llmkit.server.protocol import _Body, parse_body

router = APIRouter()

MAX_RUNNING_JOBS = 2  # synth jobs generating at once; more: 503 (each is a CPU-bound thread)
MAX_KEPT_JOBS = 32  # finished jobs kept for download; the oldest finished one is dropped (with its files)
POLL_S = 0.2  # how often a job's progress stream looks for new events


def _state(request: Request) -> Any:
    return request.app.state.llmkit


def _sse_item(payload: dict[str, Any]) -> dict[str, str]:
    """One SSE message: `event: <type>` and the JSON payload (the same shape as llmkit.events.to_sse)."""
    return {"event": str(payload.get("type", "message")), "data": json.dumps(payload, ensure_ascii=False)}


def _error_payload(exc: BaseException) -> dict[str, Any]:
    return {"type": "error", **as_api_error(exc).body()}


def _event_stream(items: Any, on_close: Any) -> Any:
    from sse_starlette import EventSourceResponse
    from starlette.background import BackgroundTask

    async def events() -> Any:
        try:
            async for payload in items:
                yield _sse_item(payload)
        finally:
            on_close()

    return EventSourceResponse(events(), ping=15, background=BackgroundTask(on_close))


# ---- minutes -------------------------------------------------------------------------------------------

AUDIO_OR_TRANSCRIPT = {".txt", ".srt", ".vtt", ".json", ".wav", ".mp3", ".m4a", ".flac", ".ogg", ".webm", ".mp4"}


@router.post("/v1/minutes")
async def minutes(request: Request) -> Any:
    """Multipart: `file` (a recording or a .txt/.srt/.vtt/.json transcript), optional `model`,
    `extractor` (auto | hybrid | llm), `language`. Streams `minutes.*` events, ending with `minutes.done`
    (the minutes as JSON plus `markdown`). The run holds a generation slot while it lasts."""
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    state.check_ready()
    form = await request.form()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        raise APIError(400, "Missing required parameter: 'file' (a recording or transcript, multipart).", param="file")
    name = Path(upload.filename or "meeting.txt").name
    if Path(name).suffix.lower() not in AUDIO_OR_TRANSCRIPT:
        raise APIError(400, f"file {name!r}: expected one of {', '.join(sorted(AUDIO_OR_TRANSCRIPT))}", param="file")
    extractor = str(form.get("extractor") or "auto")
    if extractor not in ("auto", "hybrid", "llm"):
        raise APIError(400, "extractor must be one of auto, hybrid, llm", param="extractor")
    served = state.pool.get(str(form["model"])) if form.get("model") else next(iter(state.pool.served.values()))
    options = {"model": served.model, "backend": served.backend, "extractor": extractor,
               "language": form.get("language") or None}  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="llmkit-minutes-"))
    source = folder / name
    source.write_bytes(await upload.read())
    try:
        await state.admission.enter()
    except BaseException:  # refused (503) or the client left while queued: the upload is not kept
        shutil.rmtree(folder, ignore_errors=True)
        raise
    cancel = CancelToken()
    released: list[bool] = []

    def release() -> None:  # once: the stream ended, broke off (client gone), or never started
        cancel.cancel()
        if not released:
            released.append(True)
            state.admission.leave()

    def cleanup(error: BaseException | None) -> None:  # on the worker thread, after the service stopped
        shutil.rmtree(folder, ignore_errors=True)

    make = lambda: _minutes_events(state, options, source, folder / "out", cancel)  # noqa: E731
    return _event_stream(_payloads(in_thread(make, cancel, done=cleanup)), release)


def _minutes_events(state: Any, options: dict[str, Any], source: Path, out: Path, cancel: CancelToken) -> Any:
    """The pipeline's events as payloads. The pipeline has no cancel hook of its own: a cancelled run stops
    at its next event (a progress step or a summary piece), which closes the pipeline's generator."""
    from llmkit.minutes import MinutesDone, MinutesOptions, MinutesPipeline, to_markdown

    pipeline = MinutesPipeline(MinutesOptions(formats=("md", "json"), **options), engine=state.pool.engine)
    for event in pipeline.stream(source, out):
        if cancel.cancelled:
            return
        payload = event.to_dict()
        if isinstance(event, MinutesDone):
            payload["markdown"] = to_markdown(event.minutes)
        yield payload


async def _payloads(items: Any) -> Any:
    """A failure midway becomes an `error` event, and the stream then ends cleanly."""
    try:
        async for payload in items:
            yield payload
    except Exception as exc:  # noqa: BLE001 - reported in the stream
        yield _error_payload(exc)


# ---- synthetic data jobs ---------------------------------------------------------------------------------


class SynthJobRequest(_Body):
    spec: str | None = None  # the spec as YAML or JSON text
    template: str | None = None  # or a built-in template's name
    rows: int | None = Field(default=None, ge=1)
    seed: int | None = None
    format: str = "csv"


@dataclass
class SynthJob:
    id: str
    folder: Path
    status: str = "queued"  # queued | running | succeeded | failed
    events: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def out(self) -> Path:
        return self.folder / "out"

    def describe(self) -> dict[str, Any]:
        last = next((e for e in reversed(self.events) if e.get("type") == "synth.progress"), None)
        return {"id": self.id, "object": "synth.job", "status": self.status, "created": int(self.created),
                "finished": int(self.finished) if self.finished else None, "progress": last,
                "error": self.error["error"] if self.error else None,
                "files": _files(self.out) if self.status == "succeeded" else []}  # fmt: skip


class SynthJobs:
    """The server's jobs: at most MAX_RUNNING_JOBS at once, finished ones kept for download."""

    def __init__(self) -> None:
        self.jobs: dict[str, SynthJob] = {}
        self.lock = threading.Lock()

    def start(self, spec: Any, fmt: str) -> SynthJob:
        with self.lock:
            running = sum(job.status in ("queued", "running") for job in self.jobs.values())
            if running >= MAX_RUNNING_JOBS:
                raise unavailable(f"{running} synth jobs already running (at most {MAX_RUNNING_JOBS}); retry later", 5)
            self._forget_oldest()
            job = SynthJob("synthjob-" + uuid.uuid4().hex[:16], Path(tempfile.mkdtemp(prefix="llmkit-synth-")))
            self.jobs[job.id] = job
        threading.Thread(target=self._run, args=(job, spec, fmt), name="llmkit-synth-job", daemon=True).start()
        return job

    def get(self, job_id: str) -> SynthJob:
        job = self.jobs.get(job_id)
        if job is None:
            raise APIError(404, f"no synth job {job_id!r} on this server", code="not_found", param="id")
        return job

    def _forget_oldest(self) -> None:
        done = sorted((j for j in self.jobs.values() if j.finished), key=lambda j: j.finished or 0)
        while len(self.jobs) >= MAX_KEPT_JOBS and done:
            old = done.pop(0)
            del self.jobs[old.id]
            shutil.rmtree(old.folder, ignore_errors=True)

    def _run(self, job: SynthJob, spec: Any, fmt: str) -> None:
        from llmkit.synth import run

        job.status = "running"
        try:
            for progress in run(spec, job.out, fmt, resume=False):
                job.events.append(progress.to_dict())
            job.status = "succeeded"
            job.events.append({"type": "synth.done", "id": job.id, "files": _files(job.out)})
        except Exception as exc:  # noqa: BLE001 - the job's outcome, read by its status and stream
            job.error = as_api_error(exc).body()
            job.status = "failed"
            job.events.append({"type": "error", **job.error})
        finally:
            job.finished = time.time()


def _files(folder: Path) -> list[dict[str, Any]]:
    if not folder.is_dir():
        return []
    return [{"name": p.name, "bytes": p.stat().st_size} for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")]  # fmt: skip


def _jobs(state: Any) -> SynthJobs:
    with _JOBS_LOCK:
        return state.__dict__.setdefault("synth_jobs", SynthJobs())


_JOBS_LOCK = threading.Lock()


def _resolve(body: SynthJobRequest, folder: Path) -> Any:
    """The spec, validated before the job starts (SpecError names the field: a 400 with it as `param`)."""
    from llmkit.synth import SpecError, resolve_spec, template_path

    if (body.spec is None) == (body.template is None):
        raise APIError(400, "give exactly one of spec (YAML or JSON text) and template", param="spec")
    if body.template is not None:
        template_path(body.template)  # an unknown name: an error listing the known ones
        return resolve_spec(body.template, body.rows, body.seed)
    import yaml

    try:
        data = yaml.safe_load(body.spec)  # YAML is a superset of JSON: one parser reads both
    except yaml.YAMLError as exc:
        raise APIError(400, f"spec is neither valid YAML nor JSON: {exc}", param="spec") from None
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    try:
        return resolve_spec(str(path), body.rows, body.seed)
    except SpecError as exc:
        raise APIError(400, str(exc), param=exc.path, code="invalid_spec") from None


@router.post("/v1/synth/jobs", status_code=202)
async def start_synth_job(request: Request) -> dict[str, Any]:
    """JSON body: `spec` (YAML/JSON text) or `template`, optional `rows`, `seed`, `format` (csv, jsonl,
    parquet, sqlite). 202 with the job; 503 when MAX_RUNNING_JOBS are already running."""
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    body = parse_body(SynthJobRequest, await request.body())
    if body.format not in ("csv", "jsonl", "parquet", "sqlite"):
        raise APIError(400, "format must be one of csv, jsonl, parquet, sqlite", param="format")
    scratch = Path(tempfile.mkdtemp(prefix="llmkit-spec-"))
    try:
        spec = await asyncio.to_thread(_resolve, body, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return _jobs(state).start(spec, body.format).describe()


@router.get("/v1/synth/jobs/{job_id}")
async def synth_job(request: Request, job_id: str) -> dict[str, Any]:
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    return _jobs(state).get(job_id).describe()


@router.get("/v1/synth/jobs/{job_id}/events")
async def synth_job_events(request: Request, job_id: str) -> Any:
    """Every event of the job from its start (`synth.progress` ...), ending with `synth.done` or `error`."""
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    job = _jobs(state).get(job_id)

    async def follow() -> Any:
        seen = 0
        while True:
            finished = job.finished is not None  # read before the events: the last one is then in the list
            for payload in job.events[seen:]:
                yield payload
            seen = len(job.events)
            if finished and seen == len(job.events):
                return
            await asyncio.sleep(POLL_S)

    return _event_stream(follow(), lambda: None)


@router.get("/v1/synth/jobs/{job_id}/files")
async def synth_job_files(request: Request, job_id: str) -> dict[str, Any]:
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    job = _jobs(state).get(job_id)
    return {"object": "list", "data": _files(job.out) if job.status == "succeeded" else []}


@router.get("/v1/synth/jobs/{job_id}/files/{name}")
async def synth_job_file(request: Request, job_id: str, name: str) -> Any:
    state = _state(request)
    state.caller(request.headers.get("authorization"))
    job = _jobs(state).get(job_id)
    if job.status != "succeeded":
        raise APIError(
            409, f"job {job_id} is {job.status}; its files are ready when it has succeeded", code="not_ready"
        )
    if name not in {f["name"] for f in _files(job.out)}:  # only listed names: no path leaves the job's folder
        raise APIError(404, f"job {job_id} has no file {name!r}", code="not_found", param="name")
    return FileResponse(job.out / name, filename=name)

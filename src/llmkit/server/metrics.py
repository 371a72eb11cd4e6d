"""Prometheus metrics (vLLM's names with llmkit's prefix where vLLM has one) and the one structured log
line per request. Labels carry endpoints, models and statuses, never keys."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from llmkit.generation import GenerationStats

log = logging.getLogger("llmkit.server")

_LATENCY = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
_TOKENS = (1, 8, 32, 128, 512, 2048, 8192)


class Metrics:
    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            "llmkit_requests", "HTTP requests by endpoint and status", ["endpoint", "status"], registry=r
        )
        self.ttft = Histogram(
            "llmkit_time_to_first_token_seconds",
            "Request start to first token",
            ["model"],
            buckets=_LATENCY,
            registry=r,
        )
        self.itl = Histogram(
            "llmkit_inter_token_latency_seconds", "Between streamed tokens", ["model"], buckets=_LATENCY, registry=r
        )
        self.e2e = Histogram(
            "llmkit_e2e_request_latency_seconds", "Request start to its end", ["model"], buckets=_LATENCY, registry=r
        )
        self.prompt_tokens = Counter("llmkit_prompt_tokens", "Prompt tokens processed", ["model"], registry=r)
        self.generation_tokens = Counter("llmkit_generation_tokens", "Tokens generated", ["model"], registry=r)
        self.request_prompt = Histogram(
            "llmkit_request_prompt_tokens", "Prompt tokens per request", ["model"], buckets=_TOKENS, registry=r
        )
        self.request_generation = Histogram(
            "llmkit_request_generation_tokens", "Generated tokens per request", ["model"], buckets=_TOKENS, registry=r
        )
        self.running = Gauge("llmkit_num_requests_running", "Requests generating now", registry=r)
        self.waiting = Gauge("llmkit_num_requests_waiting", "Requests queued for a slot", registry=r)
        self.cancelled = Counter(
            "llmkit_requests_cancelled",
            "Requests stopped because the client went away or cancelled",
            ["endpoint"],
            registry=r,
        )
        self.rate_limited = Counter(
            "llmkit_requests_rate_limited", "Requests refused by a per-key limit", ["limit"], registry=r
        )
        self.load_time = Gauge(
            "llmkit_model_load_time_seconds", "Time to load each served model", ["model"], registry=r
        )

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        return generate_latest(self.registry)


@dataclass
class Trace:
    """One generation request's timings and counts, reported once at its end (metrics + log line)."""

    request_id: str
    endpoint: str
    key: str
    model: str
    started: float = field(default_factory=time.perf_counter)
    first_at: float | None = None
    last_at: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    status: int = 200
    outcome: str = "ok"  # ok | cancelled | error

    def token(self, metrics: Metrics) -> None:
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
            metrics.ttft.labels(self.model).observe(now - self.started)
        elif self.last_at is not None:
            metrics.itl.labels(self.model).observe(now - self.last_at)
        self.last_at = now

    def finished(self, stats: GenerationStats) -> None:
        self.prompt_tokens = stats.prompt_tokens or 0
        self.completion_tokens = stats.completion_tokens
        if stats.finish_reason == "cancelled":
            self.outcome = "cancelled"

    def report(self, metrics: Metrics) -> None:
        total = time.perf_counter() - self.started
        model = self.model
        metrics.e2e.labels(model).observe(total)
        metrics.prompt_tokens.labels(model).inc(self.prompt_tokens)
        metrics.generation_tokens.labels(model).inc(self.completion_tokens)
        metrics.request_prompt.labels(model).observe(self.prompt_tokens)
        metrics.request_generation.labels(model).observe(self.completion_tokens)
        if self.outcome == "cancelled":
            metrics.cancelled.labels(self.endpoint).inc()
        ttft = None if self.first_at is None else round(self.first_at - self.started, 4)
        log.info(json.dumps({
            "request_id": self.request_id, "endpoint": self.endpoint, "key_id": self.key, "model": model,
            "status": self.status, "outcome": self.outcome, "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens, "ttft_s": ttft, "total_s": round(total, 4),
        }))  # fmt: skip

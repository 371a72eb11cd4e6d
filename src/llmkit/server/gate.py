"""Who may call and how much: API keys, per-key request and token limits, and admission (bounded
concurrency with a bounded queue). Each refusal is an APIError with the status and headers to send."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import time

from llmkit.server.errors import APIError, unavailable


def key_id(key: str) -> str:
    """What logs and limits call a key: a short hash, never the key."""
    return "key-" + hashlib.sha256(key.encode()).hexdigest()[:10]


class KeyRing:
    def __init__(self, keys: tuple[str, ...]):
        self._keys = [(k.encode(), key_id(k)) for k in keys]

    @property
    def required(self) -> bool:
        return bool(self._keys)

    def identify(self, token: str | None) -> str:
        """The caller's key id; 401 without a valid key (when keys are configured)."""
        if not self._keys:
            return "anonymous"
        given = (token or "").encode()
        found = None
        for key, ident in self._keys:  # every key compared, in constant time each
            if hmac.compare_digest(key, given):
                found = ident
        if found is None:
            message = "Incorrect API key provided." if token else "Missing API key: send 'Authorization: Bearer <key>'."
            raise APIError(401, message, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        return found


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


class Limits:
    """Per-key requests and tokens per window (the `limits` package's moving and fixed windows)."""

    def __init__(self, rate: str | None, tokens: str | None, on_limited: callable):
        from limits import parse
        from limits.storage import MemoryStorage
        from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

        storage = MemoryStorage()
        self._rate = parse(rate) if rate else None
        self._tokens = parse(tokens) if tokens else None
        self._moving = MovingWindowRateLimiter(storage)
        self._fixed = FixedWindowRateLimiter(storage)  # counts past the limit: tokens are spent after the fact
        self._on_limited = on_limited

    def admit_request(self, ident: str) -> None:
        if self._rate is not None and not self._moving.hit(self._rate, ident, "requests"):
            self._refuse("requests", self._moving, self._rate, ident, "requests")
        if self._tokens is not None and not self._fixed.test(self._tokens, ident, "tokens"):
            self._refuse("tokens", self._fixed, self._tokens, ident, "tokens")

    def spend_tokens(self, ident: str, count: int) -> None:
        if self._tokens is not None and count > 0:
            self._fixed.hit(self._tokens, ident, "tokens", cost=count)

    def _refuse(self, what: str, limiter, item, ident: str, scope: str) -> None:
        stats = limiter.get_window_stats(item, ident, scope)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        self._on_limited(what)
        raise APIError(
            429,
            f"Rate limit reached for {what}: {item} per key; retry in {wait} s.",
            type="rate_limit_exceeded" if what == "requests" else "tokens",
            code="rate_limit_exceeded",
            headers={"Retry-After": str(wait)},
        )


class Admission:
    """At most `concurrency` requests generate; at most `queue` wait (each up to `timeout_s`); more: 503."""

    def __init__(self, concurrency: int, queue: int, timeout_s: float):
        self.concurrency, self.queue, self.timeout_s = concurrency, queue, timeout_s
        self.running = 0
        self.waiting = 0
        self.closing = False
        self._slots = asyncio.Semaphore(concurrency)

    async def enter(self) -> None:
        if self.closing:
            raise unavailable("the server is shutting down", 5)
        if self._slots.locked() and self.waiting >= self.queue:
            raise unavailable(f"server at capacity ({self.running} running, {self.waiting} queued); retry later", 2)
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.timeout_s)
        except TimeoutError:
            raise unavailable(f"waited {self.timeout_s:g} s in the queue without a free slot; retry later", 5) from None
        finally:
            self.waiting -= 1
        self.running += 1

    def leave(self) -> None:
        self.running -= 1
        self._slots.release()

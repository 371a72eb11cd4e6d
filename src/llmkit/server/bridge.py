"""Blocking generation in a worker thread, read from asyncio.

Generation is blocking (torch, llama.cpp); each request runs its iterator on its own thread, which posts
events to the event loop. When the reader stops early (the client went away), the request's CancelToken
is raised, and every backend checks it before its next token.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from llmkit.generation import CancelToken

T = TypeVar("T")
_END = object()


async def in_thread(
    make: Callable[[], Iterator[T]],
    cancel: CancelToken,
    observe: Callable[[T], None] | None = None,
    done: Callable[[BaseException | None], None] | None = None,
) -> AsyncIterator[T]:
    """The items of `make()`'s iterator, produced on a worker thread; exceptions re-raised here.

    `observe` sees each item on the worker thread and `done` runs there at the end (with the error, if
    any), whether or not anyone still reads: that is where a request's real token count is known."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue = asyncio.Queue()

    def post(item: object) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, item)
        except RuntimeError:  # the loop closed (server shut down): nobody is reading any more
            cancel.cancel()

    def work() -> None:
        error: BaseException | None = None
        try:
            iterator = make()
            try:
                for item in iterator:
                    if observe is not None:
                        observe(item)
                    post(item)
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
        except BaseException as exc:  # noqa: BLE001 - handed to the reader, which re-raises it
            error = exc
            post(exc)
        if done is not None:
            done(error)
        post(_END)

    threading.Thread(target=work, name="llmkit-request", daemon=True).start()
    try:
        while (item := await items.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        cancel.cancel()  # no-op after a full stream; stops the work after an early exit

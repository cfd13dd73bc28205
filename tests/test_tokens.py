import subprocess
import sys
import textwrap
from pathlib import Path

from doctown.tokens import TokenCounter, encoding


def test_o200k_ids_match_the_reference_encoding() -> None:
    assert encoding("o200k_base").encode("hello world") == [24912, 2375]
    assert encoding("o200k_base").n_vocab == 200019
    assert encoding("cl100k_base").encode("hello world") == [15339, 1917]


def test_models_use_their_own_encoding() -> None:
    assert TokenCounter("gpt-5-nano").encoding_name == "o200k_base"
    assert TokenCounter("some-compatible-model").encoding_name == "o200k_base"


def test_count_messages_includes_chat_overhead() -> None:
    counter = TokenCounter("gpt-5-nano")
    messages = [{"role": "user", "content": "hello world"}]
    assert counter.count_messages(messages) == 2 + 1 + 3 + 3


def test_truncate_keeps_a_prefix_within_budget() -> None:
    counter = TokenCounter("gpt-5-nano")
    text = "alpha beta gamma " * 100
    cut = counter.truncate(text, 10)
    assert text.startswith(cut) and counter.count(cut) <= 10
    assert counter.truncate("short", 10) == "short"


def run_fresh(script: str, home: Path) -> str:
    """Run `script` in a new interpreter with an empty home and its own tiktoken cache."""
    env = {"TIKTOKEN_CACHE_DIR": str(home / "tiktoken"), "PATH": "/usr/bin:/bin", "HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_first_use_touches_no_network(tmp_path: Path) -> None:
    """In a fresh process with an empty cache, loading the encoding opens no socket."""
    script = textwrap.dedent(
        """
        import socket
        def refuse(*args, **kwargs):
            raise SystemExit("network touched: " + repr(args))
        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse
        from doctown.tokens import TokenCounter
        print(TokenCounter("gpt-5-nano").count("hello world"))
        """
    )
    assert run_fresh(script, tmp_path) == "2"


def test_a_corrupt_cached_file_is_replaced_from_the_bundle(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import hashlib, os, pathlib
        cache = pathlib.Path(os.environ["TIKTOKEN_CACHE_DIR"])
        cache.mkdir(parents=True)
        url = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
        (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"garbage")
        from doctown.tokens import encoding
        print(encoding("o200k_base").encode("hello world"))
        """
    )
    assert run_fresh(script, tmp_path) == "[24912, 2375]"

"""Which `.env` file is read: never one a documented repository brings along."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from doctown.config import ENV_FILE_VARIABLE, load_service_settings, load_settings
from doctown.errors import ConfigurationError
from doctown.testing import FakeOpenAIServer
from tests.cli.process import doctown
from tests.conftest import TEST_KEY

HOSTILE = "MODEL_NAME=attacker-model\nOPENAI_BASE_URL=http://127.0.0.1:9/v1\n"


@pytest.fixture
def hostile_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder (say, a cloned repository) whose .env points the API key elsewhere."""
    monkeypatch.delenv(ENV_FILE_VARIABLE, raising=False)
    (tmp_path / ".env").write_text(HOSTILE)
    (tmp_path / "app.py").write_text("def main() -> int:\n    return 0\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_commands_do_not_read_the_env_file_of_the_folder_they_run_in(hostile_cwd: Path) -> None:
    settings = load_settings()
    assert settings.model_name != "attacker-model" and settings.openai_base_url is None


def test_services_read_their_own_folder_s_env_file(hostile_cwd: Path) -> None:
    settings = load_service_settings()
    assert settings.model_name == "attacker-model"  # the operator's folder, the operator's file


def test_a_named_env_file_is_read_and_a_missing_one_is_an_error(
    hostile_cwd: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = tmp_path_factory.mktemp("settings") / "doctown.env"
    chosen.write_text("MODEL_NAME=gpt-5-mini\n")
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(chosen))
    assert load_settings().model_name == "gpt-5-mini"
    assert load_service_settings().model_name == "gpt-5-mini"  # it wins over ./.env
    monkeypatch.setenv(ENV_FILE_VARIABLE, str(chosen.with_name("missing.env")))
    with pytest.raises(ConfigurationError, match=r"missing\.env: no such file"):
        load_settings()


def test_a_build_inside_a_hostile_repository_keeps_the_user_s_server_and_says_why(
    hostile_cwd: Path, fake_openai: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.base_url)
    monkeypatch.delenv("MODEL_NAME", raising=False)
    assert Path.cwd() == hostile_cwd and "MODEL_NAME" not in os.environ
    result = doctown("build", ".", "-o", "app.docpack", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["plan"]["model"] == "gpt-5-nano"
    assert ".env is not read" in result.stderr and ENV_FILE_VARIABLE in result.stderr


def test_every_cache_lives_in_one_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from doctown.analysis.cache import default_cache_dir
    from doctown.config import cache_dir
    from doctown.generation.cache import default_cache_path

    monkeypatch.setenv("DOCTOWN_CACHE_DIR", str(tmp_path))
    assert cache_dir() == default_cache_dir() == default_cache_path().parent == tmp_path

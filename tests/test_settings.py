from __future__ import annotations

import pytest

from sessionhub.settings import Settings, SettingsError


def test_defaults_are_the_embedded_store_on_loopback() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///sessionhub.db"
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8080, 1)


def test_values_come_from_prefixed_variables_and_overrides_win() -> None:
    env = {"SESSIONHUB_PORT": "9000", "SESSIONHUB_ADOBE_IDLE_TIMEOUT_S": "30", "OTHER": "x"}
    settings = Settings.from_env(env, port=9100)
    assert settings.port == 9100
    assert settings.media().idle_timeout_ms == 30_000


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SESSIONHUB_PORT": "eighty"}, "SESSIONHUB_PORT"),
        ({"SESSIONHUB_PORT": "70000"}, "SESSIONHUB_PORT"),
        ({"SESSIONHUB_WORKERS": "0"}, "SESSIONHUB_WORKERS"),
        ({"SESSIONHUB_DATABASE_URL": "mysql://db/x"}, "SESSIONHUB_DATABASE_URL"),
        ({"SESSIONHUB_DATABASE_URL": "sqlite://host/x.db"}, "SESSIONHUB_DATABASE_URL"),
        ({"SESSIONHUB_ADMIN_TOKN": "x"}, "SESSIONHUB_ADMIN_TOKN"),
        ({"SESSIONHUB_LOG_LEVEL": "loud"}, "SESSIONHUB_LOG_LEVEL"),
        ({"SESSIONHUB_ADMIN_TOKEN": "short"}, "SESSIONHUB_ADMIN_TOKEN"),
        ({"SESSIONHUB_ADMIN_TOKEN": " " * 15}, "SESSIONHUB_ADMIN_TOKEN"),
        ({"SESSIONHUB_MAX_HEADER_BYTES": "10"}, "SESSIONHUB_MAX_HEADER_BYTES"),
        ({"SESSIONHUB_REQUEST_TIMEOUT_S": "0"}, "SESSIONHUB_REQUEST_TIMEOUT_S"),
        ({"SESSIONHUB_STREAMING_CONTENT": "hls/{contentID}/"}, "SESSIONHUB_STREAMING_CONTENT"),
        ({"SESSIONHUB_STREAMING_CONTENT": "/hls/"}, "SESSIONHUB_STREAMING_CONTENT"),
        ({"SESSIONHUB_STREAMING_CONTENT": "/a{contentID}/"}, "SESSIONHUB_STREAMING_CONTENT"),
        ({"SESSIONHUB_STREAMING_SESSION_NAME": "a b"}, "SESSIONHUB_STREAMING_SESSION_NAME"),
        ({"SESSIONHUB_STREAMING_KEY": "short"}, "SESSIONHUB_STREAMING_KEY"),
        ({"SESSIONHUB_ICECAST_ADMIN_URLS": "icecast:8000"}, "SESSIONHUB_ICECAST_ADMIN_URLS"),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(names)
    assert "\n" not in str(caught.value)


def test_secrets_never_print() -> None:
    settings = Settings.from_env(
        {
            "SESSIONHUB_ADMIN_TOKEN": "hunter2-hunter2-hunter2",
            "SESSIONHUB_REDIS_URL": "redis://:pw@h:6379/0",
            "SESSIONHUB_STREAMING_KEY": "streaming-key-streaming-key",
            "SESSIONHUB_ICECAST_ADMIN_URLS": "http://admin:icy-secret@127.0.0.1:8000",
        }
    )
    assert "hunter2-hunter2-hunter2" not in repr(settings)
    assert "pw" not in repr(settings)
    assert "streaming-key" not in repr(settings) and "icy-secret" not in repr(settings)


def test_an_empty_secret_means_off_never_the_empty_string() -> None:
    assert Settings.from_env({"SESSIONHUB_ADMIN_TOKEN": ""}).admin_token is None
    assert Settings.from_env({}, admin_token="").admin_token is None

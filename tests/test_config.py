from datetime import UTC, datetime

import pytest

from award_service import create_app
from award_service.config import ConfigError, normalise_database_url
from award_service.timeutil import from_local, to_local, zone


def test_secret_key_is_generated_once_into_instance_config(tmp_path, monkeypatch):
    monkeypatch.setenv("AWARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    key = first.config["SECRET_KEY"]
    assert len(key) >= 32
    assert key in (tmp_path / "config.py").read_text()
    assert (tmp_path / "config.py").stat().st_mode & 0o077 == 0
    second = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert second.config["SECRET_KEY"] == key


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.setenv("AWARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("AWARD_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    assert not (tmp_path / "config.py").exists()
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", "postgresql://award@127.0.0.1/award")  # production refuses SQLite
    assert create_app().config["SECRET_KEY"] == "from-the-environment"


def test_environment_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("AWARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/award")
    monkeypatch.setenv("AWARD_BASE_URL", "https://award.ulytau.kz/")
    monkeypatch.setenv("AWARD_RATELIMIT_ENABLED", "false")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/award"
    assert app.config["AWARD_BASE_URL"] == "https://award.ulytau.kz"
    assert app.config["RATELIMIT_ENABLED"] is False


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.setenv("AWARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'award_service.sqlite3'}"


def test_bad_integer_setting_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("AWARD_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("AWARD_API_MAX_BODY", "lots")
    with pytest.raises(ConfigError, match="AWARD_API_MAX_BODY"):
        create_app({"SECRET_KEY": "x"})


def test_database_url_normalisation():
    assert normalise_database_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("postgresql+psycopg://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:///x") == "sqlite:///x"


def test_kazakhstan_is_utc_plus_5_since_march_2024():
    almaty = zone("Asia/Almaty")
    assert datetime(2025, 5, 9, 14, tzinfo=UTC).astimezone(almaty).hour == 19
    assert datetime(2024, 3, 2, tzinfo=UTC).astimezone(almaty).utcoffset().total_seconds() == 5 * 3600
    assert datetime(2023, 5, 9, tzinfo=UTC).astimezone(almaty).utcoffset().total_seconds() == 6 * 3600
    local = from_local(datetime(2025, 5, 9, 19, 0), "Asia/Almaty")
    assert local == datetime(2025, 5, 9, 14, 0, tzinfo=UTC)
    assert to_local(local, "Asia/Almaty").strftime("%H:%M") == "19:00"

from pathlib import Path

import pytest

from patron.settings import Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_readme(name: str) -> None:
    assert f"`PATRON_{name.upper()}`" in README


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATRON_PORT", "9001")
    monkeypatch.setenv("PATRON_DATABASE_URL", "postgresql://u@h:5432/d")
    settings = Settings()
    assert settings.port == 9001
    assert settings.database_url == "postgresql+psycopg://u@h:5432/d"
    assert not settings.is_sqlite


def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATRON_LOG_LEVEL", "loud")
    with pytest.raises(ValueError, match="log_level"):
        Settings()


@pytest.mark.parametrize(
    "url",
    ["mysql://u@h/d", "nonsense", "postgresql://h:notaport/d", "postgresql+psycopg2://h/d", ""],
)
def test_only_sqlite_and_postgresql_urls_are_taken(url: str) -> None:
    with pytest.raises(ValueError, match="database_url"):
        Settings(database_url=url)


def test_the_sqlite_file_is_read_from_the_url() -> None:
    assert Settings(database_url="sqlite:///data/p.db").sqlite_file == Path("data/p.db")
    assert Settings(database_url="sqlite:////srv/p.db").sqlite_file == Path("/srv/p.db")
    assert Settings(database_url="sqlite://").sqlite_file is None
    assert Settings(database_url="postgres://u@h/d").sqlite_file is None

"""Settings precedence (CLI option > environment > exposure.toml > default) and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from exposure.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    import os

    for key in list(os.environ):
        if key.startswith("EXPOSURE_") or key == "SHODAN_API_KEY":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exposure.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults():
    s = load_settings()
    assert s.database == "sqlite:///exposure.db"
    assert s.resolvers == []
    assert s.allow_private is False
    assert s.port("https") == 443 and s.port("http") == 80 and s.port("smtp") == 25
    assert s.shodan_api_url == "https://api.shodan.io"
    assert s.internetdb_url == "https://internetdb.shodan.io"
    assert s.shodan_key is None
    assert s.language == "nl"


def test_precedence_cli_over_env_over_toml_over_default(tmp_path, monkeypatch):
    _toml(tmp_path, 'database = "sqlite:///toml.db"\nports = "https=1443"\nallow_private = true\n')
    s = load_settings()
    assert s.database == "sqlite:///toml.db"
    assert s.port("https") == 1443
    assert s.allow_private is True

    monkeypatch.setenv("EXPOSURE_DATABASE", "sqlite:///env.db")
    monkeypatch.setenv("EXPOSURE_ALLOW_PRIVATE", "false")
    s = load_settings()
    assert s.database == "sqlite:///env.db"
    assert s.allow_private is False
    assert s.port("https") == 1443  # still from the file

    s = load_settings(database="sqlite:///cli.db", allow_private=True)
    assert s.database == "sqlite:///cli.db"
    assert s.allow_private is True


def test_list_and_mapping_settings_from_env(monkeypatch):
    monkeypatch.setenv("EXPOSURE_RESOLVERS", "127.0.0.1:5353, ::1, [::1]:53")
    monkeypatch.setenv("EXPOSURE_PORTS", "http=8080,https=8443,smtp=8025")
    s = load_settings()
    assert s.resolver_addresses() == [("127.0.0.1", 5353), ("::1", 53), ("::1", 53)]
    assert s.ports == {"http": 8080, "https": 8443, "smtp": 8025}


def test_toml_table_for_ports(tmp_path):
    _toml(tmp_path, "[ports]\nhttps = 8443\n")
    assert load_settings().port("https") == 8443


def test_shodan_key_from_either_variable(monkeypatch):
    monkeypatch.setenv("SHODAN_API_KEY", "plain")
    assert load_settings().shodan_key == "plain"
    monkeypatch.setenv("EXPOSURE_SHODAN_API_KEY", "prefixed")
    assert load_settings().shodan_key == "prefixed"
    assert load_settings(shodan_api_key="cli").shodan_key == "cli"
    assert "plain" not in repr(load_settings())


def test_unknown_toml_key_is_an_error(tmp_path):
    _toml(tmp_path, 'databse = "sqlite:///typo.db"\n')
    with pytest.raises(SettingsError, match=r"exposure.toml: unknown setting 'databse'"):
        load_settings()


def test_invalid_toml_is_an_error(tmp_path):
    _toml(tmp_path, "database = \n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings()


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        (
            "EXPOSURE_PORTS",
            "https=99999",
            "environment variable EXPOSURE_PORTS: ports: 'https=99999': port must be",
        ),
        ("EXPOSURE_PORTS", "gopher=70", "unknown service 'gopher'"),
        ("EXPOSURE_PORTS", "https", "expected service=port"),
        ("EXPOSURE_RESOLVERS", "dns.example", "is not an IP address"),
        ("EXPOSURE_RESOLVERS", "127.0.0.1:0", "port must be a number"),
        ("EXPOSURE_ALLOW_PRIVATE", "perhaps", "allow_private"),
        ("EXPOSURE_DATABASE", "exposure.db", "is not a database URL"),
        ("EXPOSURE_CA_BUNDLE", "/nonexistent/ca.pem", "does not exist"),
        ("EXPOSURE_LANGUAGE", "de", "language"),
    ],
)
def test_malformed_values_name_their_origin(monkeypatch, env, value, message):
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_error_from_file_names_the_file(tmp_path):
    _toml(tmp_path, "concurrency = 0\n")
    with pytest.raises(SettingsError, match=r"exposure.toml: concurrency"):
        load_settings()


def test_error_from_option_names_the_option():
    with pytest.raises(SettingsError, match=r"option --ports: ports"):
        load_settings(ports="https=x")


def test_explicit_config_file_must_exist(tmp_path):
    with pytest.raises(SettingsError, match="configuration file not found"):
        load_settings(tmp_path / "missing.toml")

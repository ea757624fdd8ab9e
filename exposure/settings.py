"""Settings: CLI option > `EXPOSURE_*` environment variable > `exposure.toml` > default.

One `Settings` value is built per command and handed down (in the check context); nothing reads
the environment later. A malformed value or an unknown key in `exposure.toml` is a
`SettingsError` whose message names where the bad value came from.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_CONFIG = Path("exposure.toml")
SERVICES: dict[str, int] = {"http": 80, "https": 443, "smtp": 25}


DiscoverySource = Literal["dns", "ct", "shodan"]
DISCOVERY_SOURCES: tuple[DiscoverySource, ...] = ("dns", "ct", "shodan")


class SettingsError(ValueError):
    """A configuration problem, phrased as one line for a person."""


#: Large public MX hosts that answer on port 25 from anywhere: when none of them does, it is our
#: own outbound port 25 that is blocked (as on most cloud VMs), not the members' mail servers.
DEFAULT_CANARY_MX = (
    "gmail-smtp-in.l.google.com",
    "mta5.am0.yahoodns.net",
    "mx1.mail.icloud.com",
)


def _split(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_resolver(spec: str) -> tuple[str, int]:
    """`ip`, `ip:port` or `[v6]:port` to (ip, port)."""
    spec = spec.strip()
    host, port = spec, 53
    if spec.startswith("["):
        end = spec.find("]")
        if end < 0:
            raise ValueError(f"{spec!r}: missing ']'")
        host, rest = spec[1:end], spec[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{spec!r}: expected ':port' after ']'")
            port = _port(rest[1:], spec)
    elif spec.count(":") == 1:
        host, raw_port = spec.split(":")
        port = _port(raw_port, spec)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"{spec!r} is not an IP address (resolvers are given by address)"
        ) from None
    return str(ip), port


def _port(raw: str, spec: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"{spec!r}: port must be a number from 1 to 65535")
    return int(raw)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXPOSURE_",
        extra="forbid",
        populate_by_name=True,
        validate_default=True,
    )

    # --- the settings of DESIGN.md -------------------------------------------------------------
    database: str = Field(default="sqlite:///exposure.db", description="SQLAlchemy URL")
    resolvers: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="recursive resolvers, ip or ip:port; default the system's"
    )
    ca_bundle: Path | None = Field(default=None, description="PEM trust store for TLS verification")
    shodan_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "EXPOSURE_SHODAN_API_KEY", "SHODAN_API_KEY", "shodan_api_key"
        ),
    )
    shodan_api_url: str = "https://api.shodan.io"
    internetdb_url: str = "https://internetdb.shodan.io"
    allow_private: bool = False
    ports: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    smtp_url: SecretStr | None = None

    # --- engine knobs ----------------------------------------------------------------------------
    concurrency: int = Field(default=256, ge=1, le=10_000, description="checks in flight at once")
    company_concurrency: int = Field(default=64, ge=1, le=10_000)
    per_ip_concurrency: int = Field(default=2, ge=1, le=100)
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        default="auto", description="auto: uvloop when installed (exposure.app.loop)"
    )
    check_timeout: float = Field(default=60.0, gt=0, description="seconds per (target, check)")
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=10.0, gt=0)
    dns_timeout: float = Field(default=2.0, gt=0)
    dns_tries: int = Field(default=3, ge=1, le=10)
    run_deadline: float = Field(default=6 * 3600.0, gt=0, description="seconds for a whole run")
    lease_timeout: float = Field(
        default=60.0,
        gt=0,
        description="seconds without a heartbeat after which a scan's lease is taken over",
    )
    shodan_cache_days: float = Field(default=7.0, ge=0)
    shodan_request_interval: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="seconds between Shodan REST requests (the API allows 1/s; labs may go faster)",
    )
    shodan_batch_size: int = Field(
        default=50,
        ge=1,
        le=100,
        description="addresses per Shodan REST host look-up (/shodan/host/{ip1},{ip2},...); "
        "1 asks address by address",
    )
    kev_url: str = Field(
        default="https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
        description="where `exposure update-kev` fetches CISA's Known Exploited Vulnerabilities",
    )
    kev_file: str = Field(
        default="kev.json",
        description="the KEV catalogue `update-kev` writes and the scan reads; while it does not "
        "exist the snapshot shipped with exposure is used",
    )
    language: Literal["nl", "en"] = "nl"
    meldpunt_name: str = "Meldpunt Cybersecurity"
    meldpunt_phone: str = ""
    meldpunt_url: str = ""
    meldpunt_email: str = ""
    portal_url: str = ""
    # --- the portal (`exposure serve`) ----------------------------------------------------------
    portal_secure_cookies: bool = Field(
        default=True,
        description="mark the portal's cookies Secure (HTTPS only); switch off only for plain "
        "http on 127.0.0.1 (tests, a local look)",
    )
    portal_admin_user: str = Field(default="meldpunt", description="the Meldpunt's log-in name")
    portal_admin_password_hash: SecretStr | None = Field(
        default=None,
        description="argon2 hash of the Meldpunt's password (`exposure portal hash-password`)",
    )
    portal_auth_header: str = Field(
        default="",
        description="trust this request header (e.g. X-Remote-User) as the Meldpunt user, set "
        "by a reverse proxy that authenticates and strips it from client requests",
    )
    portal_link_days: int = Field(default=90, ge=1, le=3650, description="validity of a link")
    portal_session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    portal_token_rate: int = Field(
        default=20, ge=1, description="link openings per client address per minute"
    )
    portal_login_rate: int = Field(
        default=5, ge=1, description="Meldpunt log-in attempts per client address per minute"
    )
    portal_max_body: int = Field(
        default=16_384, ge=1024, description="largest request body the portal reads (bytes)"
    )
    portal_trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="addresses or networks of the reverse proxies whose X-Forwarded-For and "
        "portal_auth_header are believed; empty: 127.0.0.1 and ::1",
    )
    portal_login_account_rate: int = Field(
        default=30,
        ge=1,
        description="failed Meldpunt log-ins per hour from all addresses together; beyond it "
        "only a browser that logged in before may try",
    )
    portal_header_timeout: float = Field(
        default=10.0, gt=0, le=300, description="seconds a client has to send a request's headers"
    )
    portal_keepalive_timeout: float = Field(
        default=5.0, gt=0, le=300, description="seconds an idle kept-alive connection stays open"
    )
    portal_max_connections: int = Field(
        default=200,
        ge=1,
        le=100_000,
        description="open connections at most; beyond it the oldest idle one is closed",
    )
    ehlo_name: str = Field(
        default="",
        description="host name the mail check announces in SMTP EHLO; default this machine's "
        "fully qualified name, else an address literal",
    )

    # --- warnings (`exposure warn`) ----------------------------------------------------------------
    smtp_ca_bundle: Path | None = Field(
        default=None,
        description="PEM trust store for the SMTP server's certificate; default the system store",
    )
    smtp_timeout: float = Field(default=30.0, gt=0, description="seconds per SMTP operation")
    warn_reminder_days: float = Field(
        default=14.0, gt=0, description="days before a still-open high/critical finding is recalled"
    )
    warn_max_reminders: int = Field(default=2, ge=0, le=100, description="reminders per finding")
    warn_securitytxt_contacts: bool = Field(
        default=False,
        description="also send to a security.txt Contact address on the company's own domain",
    )
    warn_reference_prefix: str = Field(
        default="MP", pattern=r"^[A-Z]{1,8}$", description="reference numbers: MP-2026-000123"
    )

    # --- operations: the nightly schedule and its follow-ups (`exposure nightly`, workers) -------
    nightly_cron: str = Field(
        default="30 1 * * *",
        description="when the distributed workers start the nightly run (cron, in UTC: "
        "01:30 UTC is 02:30 or 03:30 in the Netherlands); '' switches the schedule off",
    )
    after_scan: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="exposure commands run after the nightly scan, e.g. 'warn --send' "
        "(environment: separated by ';')",
    )

    # --- discovery (`exposure discovery`, issue #22) -------------------------------------------
    discovery_sources: Annotated[list[DiscoverySource], NoDecode] = Field(
        default_factory=lambda: list(DISCOVERY_SOURCES),
        description="the passive discoverers to ask (shodan also needs shodan_api_key)",
    )
    discovery_schedule: Literal["nightly", "weekly", "off"] = Field(
        default="nightly", description="discovery before the nightly scan: every night, weekly, off"
    )
    discovery_auto_confirm: bool = Field(
        default=False,
        description="confirm without the Meldpunt a name under the member's domain that "
        "resolves only to addresses no one else shares",
    )
    discovery_ct_url: str = Field(
        default="https://crt.sh/", description="a crt.sh-compatible certificate search (JSON)"
    )
    discovery_ct_timeout: float = Field(default=60.0, gt=0, description="seconds per CT search")
    discovery_ct_interval: float = Field(
        default=5.0,
        ge=0,
        le=600,
        description="seconds between two CT searches (crt.sh is a volunteer service)",
    )
    discovery_shodan_timeout: float = Field(
        default=30.0, gt=0, description="seconds per Shodan search"
    )
    discovery_shodan_credits: int = Field(
        default=20,
        ge=0,
        description="Shodan query credits one discovery run may spend (0: no Shodan search); "
        "what it does not reach is searched first next run",
    )
    discovery_shodan_reserve: int = Field(
        default=10,
        ge=0,
        description="Shodan query credits discovery never spends, as the key's /api-info counts "
        "them (kept for people and other tools)",
    )
    discovery_dns_timeout: float = Field(
        default=30.0, gt=0, description="seconds for all DNS look-ups of one domain"
    )
    discovery_cache_days: float = Field(
        default=7.0, ge=0, description="days a source's answer is reused"
    )
    discovery_shared_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="networks (CIDR) of shared hosting, CDN or cloud front ends, besides the known ones",
    )

    @field_validator("discovery_sources", "discovery_shared_networks", mode="before")
    @classmethod
    def _discovery_lists(cls, value: Any) -> Any:
        return _split(value)

    @field_validator("discovery_shared_networks")
    @classmethod
    def _shared_networks(cls, value: list[str]) -> list[str]:
        for net in value:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"{net!r} is not a network (CIDR)") from None
        return value

    smtp_probes: bool = Field(
        default=True,
        description="connect to the members' mail servers on port 25 (STARTTLS, reachability); "
        "false on a machine whose provider blocks outbound port 25: those checks are then "
        "'could not test', said as such, the other mail checks run, and the run is not "
        "degraded for it",
    )
    canary_mx: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_CANARY_MX),
        description="mail hosts (name or ip, on the smtp port) that prove our outbound port 25 "
        "works: one of them answering is enough (exposure/net/egress.py)",
    )

    @field_validator("canary_mx", mode="before")
    @classmethod
    def _canary_mx(cls, value: Any) -> Any:
        value = _split(value)
        if not value:
            raise ValueError("expected at least one mail host, e.g. gmail-smtp-in.l.google.com")
        return value

    @field_validator("resolvers", mode="before")
    @classmethod
    def _resolvers(cls, value: Any) -> Any:
        value = _split(value)
        for spec in value or []:
            parse_resolver(spec)
        return value

    @field_validator("nightly_cron")
    @classmethod
    def _nightly_cron(cls, value: str) -> str:
        value = value.strip()
        if value:
            from croniter import croniter

            if not croniter.is_valid(value):
                raise ValueError(f"{value!r} is not a cron expression (e.g. '30 1 * * *')")
        return value

    @field_validator("after_scan", mode="before")
    @classmethod
    def _after_scan(cls, value: Any) -> Any:
        import shlex

        if isinstance(value, str):
            value = [part.strip() for part in value.split(";") if part.strip()]
        for command in value or []:
            if not isinstance(command, str) or not shlex.split(command):
                raise ValueError(f"{command!r}: expected an exposure command, e.g. 'warn --send'")
        return value

    @field_validator("portal_trusted_proxies", mode="before")
    @classmethod
    def _trusted_proxies(cls, value: Any) -> Any:
        value = _split(value)
        for spec in value or []:
            try:
                network = ipaddress.ip_network(str(spec).strip(), strict=False)
            except ValueError:
                raise ValueError(f"{spec!r} is not an IP address or network") from None
            if network.prefixlen == 0:
                raise ValueError(f"{spec!r} would trust every address")
        return value

    @field_validator("ports", mode="before")
    @classmethod
    def _ports(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs: dict[str, Any] = {}
            for part in _split(value):
                name, sep, raw = part.partition("=")
                if not sep:
                    raise ValueError(f"{part!r}: expected service=port, e.g. https=8443")
                pairs[name.strip().lower()] = raw.strip()
            value = pairs
        if not isinstance(value, dict):
            raise ValueError("expected service=port pairs, e.g. http=8080,https=8443,smtp=8025")
        result: dict[str, int] = {}
        for name, raw in value.items():
            if name not in SERVICES:
                known = ", ".join(SERVICES)
                raise ValueError(f"unknown service {name!r} (known: {known})")
            result[name] = _port(str(raw), f"{name}={raw}")
        return result

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError(f"{value!r} is not a database URL (e.g. sqlite:///exposure.db)")
        return value

    @field_validator("ca_bundle", "smtp_ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} does not exist or is not a file")
        return value

    def port(self, service: str) -> int:
        return self.ports.get(service, SERVICES[service])

    def resolver_addresses(self) -> list[tuple[str, int]]:
        return [parse_resolver(spec) for spec in self.resolvers]

    @property
    def shodan_key(self) -> str | None:
        return self.shodan_api_key.get_secret_value() if self.shodan_api_key else None


class _TomlData(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def read_config(path: Path) -> dict[str, Any]:
    """Read `exposure.toml`, refusing keys that are not settings (a typo must not be ignored)."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read: {exc.strerror}") from None
    known = set(Settings.model_fields)
    for key in data:
        if key not in known:
            raise SettingsError(f"{path}: unknown setting {key!r}")
    return data


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings of one command. `overrides` are the CLI options that were given."""
    path = config if config is not None else Path(os.environ.get("EXPOSURE_CONFIG", DEFAULT_CONFIG))
    explicit = config is not None or "EXPOSURE_CONFIG" in os.environ
    data: dict[str, Any] = {}
    if path.exists():
        data = read_config(path)
    elif explicit:
        raise SettingsError(f"{path}: configuration file not found")
    overrides = {k: v for k, v in overrides.items() if v is not None}

    class _Bound(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _TomlData(settings_cls, data))

    try:
        bound = _Bound(**overrides)
    except ValidationError as exc:
        raise SettingsError(_explain(exc, overrides, data, path)) from None
    return Settings.model_construct(
        **{name: getattr(bound, name) for name in Settings.model_fields}
    )


def _explain(
    exc: ValidationError, overrides: dict[str, Any], data: dict[str, Any], path: Path
) -> str:
    err = exc.errors()[0]
    loc = str(err["loc"][0]) if err["loc"] else "?"
    name = loc.removeprefix("EXPOSURE_").lower() if loc.isupper() else loc
    if name in overrides:
        origin = f"option --{name.replace('_', '-')}"
    elif f"EXPOSURE_{name.upper()}" in os.environ or (
        name == "shodan_api_key" and "SHODAN_API_KEY" in os.environ
    ):
        origin = f"environment variable EXPOSURE_{name.upper()}"
    elif name in data:
        origin = f"{path}"
    else:
        origin = "setting"
    message = str(err["msg"]).removeprefix("Value error, ")
    return f"{origin}: {name}: {message}"

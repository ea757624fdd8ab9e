"""The device catalogue of the Shodan look-alike: what Shodan reports for each kind of device.

DATA, not code: one `Profile` per device kind, each a tuple of `Service` templates (the first is
the primary service, whose port a device may move; the rest are the vendor's side ports such as
Dahua's 37777 or Xiongmai's 34567). Server headers, titles, products, CPEs, favicon hashes
(the vendors' well-known `http.favicon.hash` values) and banner texts follow what Shodan
reports for those devices. Where Shodan's module-specific sections (`ftp`, `smb`, `mongodb`,
`vnc` …) are only approximated, the banner `data` text carries the same signal in the words real
banners use ("authentication disabled", "requires authentication", "230 Anonymous"), so a check
has a realistic thing to match on.

Every profile also states the finding the scanner should raise (`finding`, `severity`), so
scenarios and tests derive their expectations from the same table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

JSON = Any

CRITICAL, HIGH, INFO = "critical", "high", "info"

# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vuln:
    """One CVE as Shodan attaches it to a banner (`vulns` map) and to the host (`vulns` list).

    `verified=False` is Shodan's "the version matches, but we did not prove it" — most entries.
    """

    cve: str
    cvss: float
    summary: str = ""
    verified: bool = False
    references: tuple[str, ...] = ()
    kev: bool = False  # in CISA's Known Exploited Vulnerabilities catalogue (the shipped snapshot)

    def as_shodan(self) -> dict[str, JSON]:
        return {
            "cvss": self.cvss,
            "verified": self.verified,
            "summary": self.summary,
            "references": list(self.references) or [f"https://nvd.nist.gov/vuln/detail/{self.cve}"],
        }


#: Well-known CVEs with the scores the scanner's severity rules hinge on (9.8 and 5.3).
KNOWN_VULNS: Mapping[str, Vuln] = {
    v.cve: v
    for v in (
        Vuln(
            "CVE-2021-42013",
            9.8,
            "Path traversal and remote code execution in Apache HTTP Server 2.4.49 and 2.4.50 "
            "(incomplete fix of CVE-2021-41773).",
            kev=True,
        ),
        Vuln(
            "CVE-2021-41773",
            7.5,
            "Path traversal in Apache HTTP Server 2.4.49 allows mapping URLs to files outside "
            "the document root.",
            kev=True,
        ),
        Vuln(
            "CVE-2023-25690",
            9.8,
            "Apache HTTP Server 2.4.0 to 2.4.55: HTTP request smuggling through mod_proxy with "
            "RewriteRule or ProxyPassMatch.",
        ),
        Vuln(
            "CVE-2022-37436",
            5.3,
            "Apache HTTP Server before 2.4.55: a malicious backend can truncate response headers "
            "in mod_proxy.",
        ),
        Vuln(
            "CVE-2021-36260",
            9.8,
            "Command injection in the web server of some Hikvision products through crafted "
            "messages.",
            kev=True,
        ),
        Vuln(
            "CVE-2019-0708",
            9.8,
            "BlueKeep: remote code execution in Remote Desktop Services without authentication.",
            kev=True,
        ),
        Vuln(
            "CVE-2024-21762",
            9.8,
            "Out-of-bounds write in FortiOS SSL-VPN allows remote code execution without "
            "authentication.",
            kev=True,
        ),
        Vuln(
            "CVE-2017-0144",
            8.8,
            "EternalBlue: remote code execution in Microsoft SMBv1.",
            kev=True,
        ),
    )
}


def vuln(cve: str, *, verified: bool = False) -> Vuln:
    """A catalogued CVE, marked verified or not."""
    return replace(KNOWN_VULNS[cve], verified=verified)


@dataclass(frozen=True, slots=True)
class HttpFacts:
    """The `http` section of a banner and the response head in its `data`."""

    title: str = ""
    server: str = ""
    status: int = 200
    html: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # besides Server and Content-Type
    favicon_hash: int | None = None  # the vendor's well-known Shodan favicon hash
    components: tuple[tuple[str, str], ...] = ()  # (name, category)


@dataclass(frozen=True, slots=True)
class Service:
    """One banner template: what Shodan shows for one port of a device."""

    port: int
    module: str  # `_shodan.module`: "http", "https", "rtsp-tcp", "vnc", "modbus", …
    data: str = ""  # the banner text (for HTTP: built from `http`)
    transport: str = "tcp"
    product: str | None = None
    version: str | None = None
    cpe23: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    devicetype: str | None = None
    info: str | None = None
    os: str | None = None
    http: HttpFacts | None = None
    tls: bool = False  # adds an `ssl` section
    extra: Mapping[str, JSON] = field(default_factory=dict)  # module sections: "ftp", "smb", …


@dataclass(frozen=True, slots=True)
class Profile:
    """A device kind of the catalogue and the finding the scanner should raise for it."""

    kind: str
    services: tuple[Service, ...]
    finding: str  # catalogue id, e.g. "exposure.camera"; "exposure.service" when nothing is wrong
    severity: str


# ---------------------------------------------------------------------------------------------
# The catalogue (data, not code)
# ---------------------------------------------------------------------------------------------


def _web(
    port: int,
    server: str,
    title: str,
    *,
    product: str | None = None,
    version: str | None = None,
    cpe23: tuple[str, ...] = (),
    status: int = 200,
    html: str = "",
    headers: tuple[tuple[str, str], ...] = (),
    favicon: int | None = None,
    devicetype: str | None = None,
    tls: bool = False,
    tags: tuple[str, ...] = (),
    components: tuple[tuple[str, str], ...] = (),
) -> Service:
    body = html or (
        f"<html><head><title>{title}</title></head><body></body></html>" if title else ""
    )
    return Service(
        port=port,
        module="https" if tls else "http",
        product=product,
        version=version,
        cpe23=cpe23,
        devicetype=devicetype,
        tls=tls,
        tags=tags,
        http=HttpFacts(
            title=title,
            server=server,
            status=status,
            html=body,
            headers=headers,
            favicon_hash=favicon,
            components=components,
        ),
    )


def _rtsp(port: int = 554, *, server: str = "", open_stream: bool = True) -> Service:
    if open_stream:
        head = "RTSP/1.0 200 OK\r\nCSeq: 1\r\n"
        tail = "Public: OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE, GET_PARAMETER, SET_PARAMETER\r\n"
    else:
        head = "RTSP/1.0 401 Unauthorized\r\nCSeq: 1\r\n"
        tail = 'WWW-Authenticate: Digest realm="IP Camera", nonce="5b3d0e9f1c2a4b6d"\r\n'
    server_line = f"Server: {server}\r\n" if server else ""
    return Service(port=port, module="rtsp-tcp", data=head + server_line + tail + "\r\n")


def _side(port: int, module: str, data: str, product: str, **kwargs: Any) -> Service:
    return Service(port=port, module=module, data=data, product=product, **kwargs)


_LOGIN_JS = (
    '<script>window.location.href = "/doc/page/login.asp?_" + (new Date()).getTime();</script>'
)
_HIK_HTML = f"<!DOCTYPE html><html><head></head><body>{_LOGIN_JS}</body></html>"
_MONGO_INFO = (
    'MongoDB Server Information\n{\n    "version": "4.0.3",\n'
    '    "gitVersion": "7ea530946fa7880364d88c8d8b6026bbc9ffa48c",\n    "ok": 1.0\n}\n'
)

# The table is kept one entry per line or two, as a table; the formatter would scatter it.
# fmt: off

#: camera vendor -> services (primary web interface first). Fingerprints as Shodan reports them.
_CAMERAS: Mapping[str, tuple[Service, ...]] = {
    "hikvision": (
        _web(80, "App-webs/", "", product="Hikvision IP Camera", cpe23=("cpe:2.3:h:hikvision:ip_camera",),
             html=_HIK_HTML, favicon=999357577, devicetype="webcam"),
        _rtsp(554, open_stream=False),
        _side(8000, "hikvision", "\\x00\\x00\\x00\\x10\\x00\\x00\\x00\\x00", "Hikvision IP Camera", devicetype="webcam"),
    ),
    "hikvision_nvr": (
        _web(80, "DNVRS-Webs", "", product="Hikvision NVR", cpe23=("cpe:2.3:h:hikvision:nvr",),
             html=_HIK_HTML, favicon=999357577, devicetype="NVR"),
        _rtsp(554, open_stream=False),
    ),
    "hikvision_dvr": (
        _web(80, "DVRDVS-Webs", "", product="Hikvision DVR", cpe23=("cpe:2.3:h:hikvision:dvr",),
             html=_HIK_HTML, favicon=999357577, devicetype="DVR"),
    ),
    "hikvision_webs": (
        _web(80, "Hikvision-Webs", "", product="Hikvision IP Camera", cpe23=("cpe:2.3:h:hikvision:ip_camera",),
             html=_HIK_HTML, favicon=999357577, devicetype="webcam"),
    ),
    "dahua": (
        _web(80, "", "WEB SERVICE", product="Dahua DVR Web", cpe23=("cpe:2.3:h:dahua:dvr",), favicon=2019488876,
             devicetype="DVR", html='<html><head><title>WEB SERVICE</title></head><body><div id="login"></div>'
                                    '<script src="/jsBase/lib/jquery.js"></script></body></html>'),
        _side(37777, "dahua-dvr", "Dahua DVR\nSerial: 4K05C3BPAZ12345\nDevice type: DH-XVR5104HS", "Dahua DVR",
              devicetype="DVR"),
        _rtsp(554, open_stream=False),
    ),
    "axis": (
        _web(80, "Apache", "AXIS", product="Axis Network Camera", cpe23=("cpe:2.3:h:axis:network_camera",),
             status=302, headers=(("Location", "/index.html"),), favicon=-1616143106, devicetype="webcam",
             html='<html><head><title>AXIS</title><meta http-equiv="refresh" '
                  'content="0; URL=/view/viewer_index.shtml?id=1"></head></html>'),
        _rtsp(554, open_stream=False),
    ),
    "vivotek": (
        _web(80, "Boa/0.94.14rc21", "", product="Vivotek Network Camera", cpe23=("cpe:2.3:h:vivotek:network_camera",),
             status=401, headers=(("WWW-Authenticate", 'Basic realm="streaming_server"'),), favicon=-1654229048,
             devicetype="webcam"),
        _rtsp(554, open_stream=False),
    ),
    "foscam": (
        _web(80, "Netwave IP Camera", "", product="Netwave IP camera http config", cpe23=("cpe:2.3:h:foscam:ip_camera",),
             status=401, headers=(("WWW-Authenticate", 'Basic realm="index.html"'),), devicetype="webcam"),
    ),
    "mobotix": (
        _web(80, "thttpd/2.19-MX", "M15 MOBOTIX Camera", product="MOBOTIX Camera", cpe23=("cpe:2.3:h:mobotix:camera",),
             favicon=661332347, devicetype="webcam"),
    ),
    "geovision": (
        _web(80, "GeoHttpServer", "GeoVision Inc. - IP Camera", product="GeoVision GeoHttpServer",
             cpe23=("cpe:2.3:h:geovision:ip_camera",), devicetype="webcam"),
    ),
    "avtech": (
        _web(80, "Linux/2.x UPnP/1.0 Avtech/1.0", "--- VIDEO WEB SERVER ---", product="Avtech AVN801 network camera",
             cpe23=("cpe:2.3:h:avtech:network_camera",), favicon=-194439630, devicetype="webcam"),
    ),
    "xiongmai": (
        _web(80, "uc-httpd 1.0.0", "NETSurveillance WEB", product="Xiongmai NETSurveillance",
             cpe23=("cpe:2.3:h:xiongmaitech:netsurveillance",), devicetype="DVR"),
        _side(34567, "dvrip", '{ "Name" : "OPMonitor", "Ret" : 100, "SessionID" : "0x00000000" }',
              "Xiongmai XMEye DVRIP", devicetype="DVR"),
    ),
    "hipcam": (
        _web(80, "Hipcam", "IPCAM", product="Hipcam IP camera", cpe23=("cpe:2.3:h:hipcam:ip_camera",),
             devicetype="webcam"),
        _rtsp(554, server="Hipcam RealServer/V1.0", open_stream=False),
    ),
    "dlink": (
        _web(80, "dcs-lig-httpd", "", product="D-Link DCS-930L", cpe23=("cpe:2.3:h:dlink:dcs-930l",), status=401,
             headers=(("WWW-Authenticate", 'Basic realm="DCS-930L"'),), favicon=-355305208, devicetype="webcam"),
    ),
    "trendnet": (
        _web(80, "Boa/0.94.14rc21", "", product="TRENDnet TV-IP310PI", cpe23=("cpe:2.3:h:trendnet:tv-ip310pi",),
             status=401, headers=(("WWW-Authenticate", 'Basic realm="netcam"'),), favicon=512590457,
             devicetype="webcam"),
    ),
    "tbk": (
        _web(80, "GNU rsp/1.0", "DVR Login", product="TBK DVR4104", cpe23=("cpe:2.3:h:tbkvision:tbk-dvr4104",),
             devicetype="DVR",
             html='<html><head><title>DVR Login</title></head><body><form action="/login.rsp"></form></body></html>'),
    ),
    "webcamxp": (
        _web(8080, "webcamXP 5", "webcamXP 5", product="webcamXP httpd", version="5",
             cpe23=("cpe:2.3:a:darkwet:webcamxp:5",), devicetype="webcam"),
    ),
    "webcam7": (
        _web(8080, "webcam 7", "webcam 7", product="webcam 7 httpd", version="7",
             cpe23=("cpe:2.3:a:moonware:webcam_7",), devicetype="webcam"),
    ),
    "reolink": (
        _web(80, "", "Reolink", product="Reolink IP camera", cpe23=("cpe:2.3:h:reolink:ip_camera",), devicetype="webcam",
             html='<html><head><title>Reolink</title></head><body><div id="reolink-app"></div></body></html>'),
        _side(9000, "reolink", "\\xf0\\xde\\xbc\\x0a", "Reolink Baichuan", devicetype="webcam"),
        _rtsp(554, open_stream=False),
    ),
    "unifi_video": (
        _web(7443, "", "UniFi Video", product="UniFi Video", cpe23=("cpe:2.3:a:ui:unifi_video",), tls=True,
             devicetype="NVR"),
    ),
}

_NGINX_CPE = ("cpe:2.3:a:f5:nginx:1.18.0", "cpe:2.3:o:canonical:ubuntu_linux")
_APACHE_CPE = ("cpe:2.3:a:apache:http_server:2.4.57",)

_PROFILES: tuple[Profile, ...] = (
    *(Profile(f"camera.{vendor}", services, "exposure.camera", HIGH) for vendor, services in _CAMERAS.items()),
    Profile("camera.rtsp", (_rtsp(554, server="RTSP Server/1.0"),), "exposure.camera", CRITICAL),
    Profile("camera.rtsp_auth", (_rtsp(554, server="RTSP Server/1.0", open_stream=False),), "exposure.camera", HIGH),
    # --- remote access ----------------------------------------------------------------------
    Profile("remote.rdp", (Service(
        3389, "rdp", product="Remote Desktop Protocol", os="Windows Server 2019", cpe23=("cpe:2.3:o:microsoft:windows",),
        data="Remote Desktop Protocol\n\\x03\\x00\\x00\\x13\\x0e\\xd0\\x00\\x00\\x124\\x00\\x02\\x1f\\x08\\x00\\x02\\x00\\x00\\x00\n"
             "Remote Desktop Protocol NTLM Info:\n  OS: Windows 10/Windows Server\n  OS Build: 10.0.17763\n"
             "  Target Name: KANTOOR\n  NetBIOS Domain Name: KANTOOR\n  NetBIOS Computer Name: SRV01\n"),),
        "exposure.remote_access", HIGH),
    Profile("remote.vnc", (Service(
        5900, "vnc", product="VNC", data="RFB 003.008\n",
        extra={"vnc": {"protocol_version": "3.8", "security_types": {"2": "VNC Authentication"}}}),),
        "exposure.remote_access", HIGH),
    Profile("remote.vnc_noauth", (Service(
        5900, "vnc", product="VNC", data="RFB 003.008\nauthentication disabled\n",
        extra={"vnc": {"protocol_version": "3.8", "security_types": {"1": "None"}}}),),
        "exposure.remote_access", CRITICAL),
    Profile("remote.telnet", (Service(
        23, "telnet", product="BusyBox telnetd", cpe23=("cpe:2.3:a:busybox:busybox",),
        data="\\xff\\xfd\\x18\\xff\\xfd \\xff\\xfd#\\xff\\xfd'\r\nBusyBox v1.19.4 built-in shell\r\nlogin: "),),
        "exposure.remote_access", HIGH),
    # --- file sharing -----------------------------------------------------------------------
    Profile("files.smb", (Service(
        445, "smb", product="Samba", version="4.9.5", cpe23=("cpe:2.3:a:samba:samba:4.9.5",),
        data="SMB Status:\n  Authentication: enabled\n  SMB Version: 2\n  OS: Unix\n  Software: Samba 4.9.5\n",
        extra={"smb": {"anonymous": False, "smb_version": 2, "os": "Unix", "software": "Samba 4.9.5", "shares": []}}),),
        "exposure.file_share", HIGH),
    Profile("files.ftp", (Service(
        21, "ftp", product="vsftpd", version="3.0.3", cpe23=("cpe:2.3:a:vsftpd_project:vsftpd:3.0.3",),
        data="220 (vsFTPd 3.0.3)\r\n530 Login incorrect.\r\n",
        extra={"ftp": {"anonymous": False, "features_hash": 0, "features": {}}}),),
        "exposure.file_share", HIGH),
    Profile("files.ftp_anonymous", (Service(
        21, "ftp", product="Pure-FTPd", cpe23=("cpe:2.3:a:pureftpd:pure-ftpd",),
        data="220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n230 Anonymous user logged in\r\n"
             "214-The following SITE commands are recognized\r\n",
        extra={"ftp": {"anonymous": True, "features_hash": 0, "features": {}}}),),
        "exposure.file_share", HIGH),
    Profile("files.nfs", (Service(
        2049, "nfs", product="NFS",
        data="NFS:\n  Version 3\n  Exports:\n    /volume1/backup *\n    /volume1/scans 10.0.0.0/8\n"),),
        "exposure.file_share", HIGH),
    Profile("nas.synology", (
        _web(5000, "nginx", "Synology DiskStation", product="Synology DiskStation Manager",
             cpe23=("cpe:2.3:o:synology:diskstation_manager",), devicetype="NAS"),
        _web(5001, "nginx", "Synology DiskStation", product="Synology DiskStation Manager",
             cpe23=("cpe:2.3:o:synology:diskstation_manager",), devicetype="NAS", tls=True),
    ), "exposure.file_share", HIGH),
    Profile("nas.qnap", (
        _web(8080, "http server 1.0", "QNAP Turbo NAS", product="QNAP NAS", cpe23=("cpe:2.3:o:qnap:qts",),
             devicetype="NAS"),
    ), "exposure.file_share", HIGH),
    # --- databases --------------------------------------------------------------------------
    Profile("db.mongodb", (Service(
        27017, "mongodb", product="MongoDB", version="4.0.3", cpe23=("cpe:2.3:a:mongodb:mongodb:4.0.3",),
        tags=("database",),
        data=_MONGO_INFO + '{\n    "ok": 0.0,\n    "errmsg": "command listDatabases requires authentication",\n'
                           '    "code": 13,\n    "codeName": "Unauthorized"\n}\n',
        extra={"mongodb": {"authentication": True}}),),
        "exposure.database", HIGH),
    Profile("db.mongodb_noauth", (Service(
        27017, "mongodb", product="MongoDB", version="4.0.3", cpe23=("cpe:2.3:a:mongodb:mongodb:4.0.3",),
        tags=("database",),
        data=_MONGO_INFO + '{\n    "databases": [\n        {"name": "admin", "sizeOnDisk": 32768.0, "empty": false},\n'
                           '        {"name": "klanten", "sizeOnDisk": 8388608.0, "empty": false}\n    ],\n'
                           '    "totalSize": 8421376.0,\n    "ok": 1.0\n}\n',
        extra={"mongodb": {"authentication": False, "listDatabases": {
            "databases": [{"name": "admin"}, {"name": "klanten"}], "totalSize": 8421376.0}}}),),
        "exposure.database", CRITICAL),
    Profile("db.elasticsearch", (Service(
        9200, "elastic", product="Elastic", version="7.17.9", cpe23=("cpe:2.3:a:elastic:elasticsearch:7.17.9",),
        tags=("database",),
        data='HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="security" charset="UTF-8"\r\n'
             "content-type: application/json\r\n\r\n"),),
        "exposure.database", HIGH),
    Profile("db.elasticsearch_noauth", (Service(
        9200, "elastic", product="Elastic", version="7.17.9", cpe23=("cpe:2.3:a:elastic:elasticsearch:7.17.9",),
        tags=("database",),
        data="HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n"
             '{\n  "name" : "es01",\n  "cluster_name" : "docker-cluster",\n  "version" : {"number" : "7.17.9"},\n'
             '  "tagline" : "You Know, for Search"\n}\n',
        extra={"elastic": {"cluster": {"cluster_name": "docker-cluster", "status": "yellow"},
                           "indices": {"klanten": {"docs": 18421}}}}),),
        "exposure.database", CRITICAL),
    Profile("db.redis", (Service(
        6379, "redis", product="Redis key-value store", cpe23=("cpe:2.3:a:redis:redis",), tags=("database",),
        data="-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n"),),
        "exposure.database", HIGH),
    Profile("db.redis_noauth", (Service(
        6379, "redis", product="Redis key-value store", version="6.0.16", cpe23=("cpe:2.3:a:redis:redis:6.0.16",),
        tags=("database",),
        data="# Server\r\nredis_version:6.0.16\r\nredis_mode:standalone\r\nos:Linux 5.15.0 x86_64\r\n"
             "# Keyspace\r\ndb0:keys=1234,expires=0,avg_ttl=0\r\n",
        extra={"redis": {"server": {"redis_version": "6.0.16"}, "keyspace": {"db0": "keys=1234"}}}),),
        "exposure.database", CRITICAL),
    Profile("db.mysql", (Service(
        3306, "mysql", product="MySQL", version="5.7.33", cpe23=("cpe:2.3:a:oracle:mysql:5.7.33",), tags=("database",),
        data="J\\x00\\x00\\x00\\n5.7.33-0ubuntu0.16.04.1\\x00mysql_native_password\\x00",
        extra={"mysql": {"protocol_version": 10, "server_version": "5.7.33-0ubuntu0.16.04.1"}}),),
        "exposure.database", HIGH),
    Profile("db.postgresql", (Service(
        5432, "postgresql", product="PostgreSQL", version="9.6.0", cpe23=("cpe:2.3:a:postgresql:postgresql:9.6",),
        tags=("database",), data="\\x00\\x00\\x00\\x08\\x04\\xd2\\x16/\nSSL not supported\nAuthentication: password\n"),),
        "exposure.database", HIGH),
    Profile("db.postgresql_noauth", (Service(
        5432, "postgresql", product="PostgreSQL", version="9.6.0", cpe23=("cpe:2.3:a:postgresql:postgresql:9.6",),
        tags=("database",), data="\\x00\\x00\\x00\\x08\\x04\\xd2\\x16/\nAuthentication disabled (trust)\n"),),
        "exposure.database", CRITICAL),
    Profile("db.mssql", (Service(
        1433, "mssql", product="MS-SQL Server", version="14.0.1000",
        cpe23=("cpe:2.3:a:microsoft:sql_server:14.0.1000",), tags=("database",),
        data="\\x04\\x01\\x00%\\x00\\x00\\x01\\x00\\x00\\x00\\x15\\x00\\x06\\x01\\x00\\x1b\\x00\\x01\\x02\n"
             "Version: 14.0.1000\nEncryption: Required\n"),),
        "exposure.database", HIGH),
    # --- industrial control -----------------------------------------------------------------
    Profile("ics.modbus", (Service(
        502, "modbus", product="Modbus", tags=("ics",),
        data="Unit ID: 0\n  -- Slave ID Data: \\x00\\xff\n  -- Device Identification: Schneider Electric BMX P34 2020 v2.5\n"),),
        "exposure.ics", CRITICAL),
    Profile("ics.s7", (Service(
        102, "s7", product="Siemens S7 PLC", tags=("ics",), cpe23=("cpe:2.3:h:siemens:simatic_s7-300",),
        data="Copyright: Original Siemens Equipment\nPLC name: S7_Koeling\nModule type: CPU 315-2 PN/DP\n"
             "Module: 6ES7 315-2EH14-0AB0 \nBasic Firmware: v.3.2.6\n"),),
        "exposure.ics", CRITICAL),
    Profile("ics.bacnet", (Service(
        47808, "bacnet", transport="udp", product="BACnet", tags=("ics",),
        data="Instance ID: 1001\nObject Name: GBS-Kantoor\nVendor Name: Johnson Controls, Inc.\n"
             "Model Name: NAE5510\nFirmware Revision: 9.0.0.1455\n"),),
        "exposure.ics", CRITICAL),
    Profile("ics.ethernetip", (Service(
        44818, "ethernetip", product="EtherNet/IP", tags=("ics",),
        data="Product name: 1769-L24ER-QB1B/A LOGIX5324ER\nVendor ID: Rockwell Automation/Allen-Bradley\n"
             "Serial number: 0x60a1b2c3\nDevice type: Programmable Logic Controller\n"),),
        "exposure.ics", CRITICAL),
    Profile("ics.dnp3", (Service(
        20000, "dnp3", product="DNP3", tags=("ics",),
        data="Source address: 3\nDestination address: 1\nControl code: 68\n"),),
        "exposure.ics", CRITICAL),
    # --- compromised hosts ------------------------------------------------------------------
    Profile("compromised.mongodb_ransom", (Service(
        27017, "mongodb", product="MongoDB", version="3.6.8", cpe23=("cpe:2.3:a:mongodb:mongodb:3.6.8",),
        tags=("compromised", "database"),
        data=_MONGO_INFO + '{\n    "databases": [\n        {"name": "READ__ME_TO_RECOVER_YOUR_DATA", "empty": false}\n'
                           '    ],\n    "ok": 1.0\n}\n',
        extra={"mongodb": {"authentication": False}}),),
        "exposure.compromised", CRITICAL),
    Profile("compromised.doublepulsar", (Service(
        445, "smb", product="Windows SMB", os="Windows 7 Professional 7601 Service Pack 1",
        tags=("doublepulsar", "malware"), cpe23=("cpe:2.3:o:microsoft:windows_7",),
        data="SMB Status:\n  Authentication: enabled\n  SMB Version: 1\n"
             "  OS: Windows 7 Professional 7601 Service Pack 1\n  DoublePulsar backdoor: detected\n",
        extra={"smb": {"anonymous": False, "smb_version": 1}}),),
        "exposure.compromised", CRITICAL),
    Profile("compromised.web", (
        _web(80, "Apache/2.4.29 (Ubuntu)", "Hacked", product="Apache httpd", version="2.4.29",
             cpe23=("cpe:2.3:a:apache:http_server:2.4.29",), tags=("compromised",)),
    ), "exposure.compromised", CRITICAL),
    # --- ordinary services: inventory, not a problem ----------------------------------------
    Profile("web.nginx", (
        _web(80, "nginx/1.18.0 (Ubuntu)", "301 Moved Permanently", product="nginx", version="1.18.0", cpe23=_NGINX_CPE,
             status=301, headers=(("Location", "https://www.example.nl/"),)),
        _web(443, "nginx/1.18.0 (Ubuntu)", "Welkom", product="nginx", version="1.18.0", cpe23=_NGINX_CPE, tls=True,
             components=(("jQuery", "JavaScript libraries"),)),
    ), "exposure.service", INFO),
    Profile("web.apache", (
        _web(80, "Apache/2.4.57 (Debian)", "Apache2 Debian Default Page: It works", product="Apache httpd",
             version="2.4.57", cpe23=_APACHE_CPE),
        _web(443, "Apache/2.4.57 (Debian)", "Welkom", product="Apache httpd", version="2.4.57", cpe23=_APACHE_CPE,
             tls=True),
    ), "exposure.service", INFO),
    # --- edge devices (issue 21): what Shodan shows of a FortiGate SSL-VPN and of Exchange/OWA
    Profile("edge.fortigate", (
        _web(443, "xxxxxxxx-xxxxx", "", product="Fortinet FortiGate", version=None,
             cpe23=("cpe:2.3:o:fortinet:fortios:7.0.12",), tls=True,
             html='<html><script type="text/javascript">if (window!=top) top.location=window.location;'
                  'top.location="/remote/login?lang=en";</script></html>'),
    ), "exposure.service", INFO),
    Profile("edge.owa", (
        _web(443, "Microsoft-IIS/10.0", "Outlook", product="Microsoft IIS httpd", version="10.0",
             cpe23=("cpe:2.3:a:microsoft:internet_information_services:10.0",), tls=True,
             headers=(("X-OWA-Version", "15.1.2507.6"), ("X-FEServer", "EXCH01")),
             html='<form action="/owa/auth.owa" method="POST" name="logonForm">'
                  '<link rel="stylesheet" href="/owa/auth/15.1.2507/themes/resources/logon.css">'),
    ), "exposure.service", INFO),
    Profile("other.ssh", (Service(
        22, "ssh", product="OpenSSH", version="8.9p1 Ubuntu-3ubuntu0.6", cpe23=("cpe:2.3:a:openbsd:openssh:8.9p1",),
        data="SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\nKey type: ssh-rsa\n"),),
        "exposure.service", INFO),
)

# fmt: on

#: kind -> profile. The device catalogue.
CATALOGUE: Mapping[str, Profile] = {p.kind: p for p in _PROFILES}

CAMERA_VENDORS: tuple[str, ...] = tuple(_CAMERAS)

CAMERA_ALIASES: Mapping[str, str] = {
    "netwave": "foscam",
    "xmeye": "xiongmai",
    "dcs": "dlink",
    "unifi": "unifi_video",
    "unifivideo": "unifi_video",
    "webcam_7": "webcam7",
    "tbk_dvr": "tbk",
}

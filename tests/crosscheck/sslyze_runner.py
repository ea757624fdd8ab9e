"""Run sslyze against testbed servers; executed by the Python of sslyze's own virtualenv.

Not a test and not part of the scanner: sslyze pins a `cryptography` that conflicts with ours, so
`test_sslyze_crosscheck.py` runs this file with sslyze's interpreter. Reads a JSON list of
`{"host", "ip", "port", "ca_file"}` on stdin, prints one JSON object per host on stdout:
which versions sslyze saw accepted, the chain the server sent (DER, hex), and sslyze's
certificate verdict against the custom CA file (it validates with cryptography's
`PolicyBuilder` including the host name, so it folds all certificate defects into one verdict).
"""

import json
import sys
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from sslyze import (
    ScanCommand,
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from sslyze.plugins.certificate_info.implementation import CertificateInfoExtraArgument
from sslyze.scanner.models import ScanCommandsExtraArguments

VERSIONS = {
    "1.0": ScanCommand.TLS_1_0_CIPHER_SUITES,
    "1.1": ScanCommand.TLS_1_1_CIPHER_SUITES,
    "1.2": ScanCommand.TLS_1_2_CIPHER_SUITES,
    "1.3": ScanCommand.TLS_1_3_CIPHER_SUITES,
}
ATTRIBUTES = {
    "1.0": "tls_1_0_cipher_suites",
    "1.1": "tls_1_1_cipher_suites",
    "1.2": "tls_1_2_cipher_suites",
    "1.3": "tls_1_3_cipher_suites",
}


def main() -> None:
    targets = json.load(sys.stdin)
    requests = [
        ServerScanRequest(
            server_location=ServerNetworkLocation(t["host"], t["port"], t["ip"]),
            scan_commands={ScanCommand.CERTIFICATE_INFO, *VERSIONS.values()},
            scan_commands_extra_arguments=ScanCommandsExtraArguments(
                certificate_info=CertificateInfoExtraArgument(custom_ca_file=Path(t["ca_file"]))
            ),
        )
        for t in targets
    ]
    scanner = Scanner()
    scanner.queue_scans(requests)
    for result in scanner.get_results():
        host = result.server_location.hostname
        out = {"host": host, "status": str(result.scan_status)}
        if result.scan_status != ServerScanStatusEnum.COMPLETED:
            out["error"] = str(result.connectivity_error_trace)[-300:]
            print(json.dumps(out), flush=True)
            continue
        scan = result.scan_result
        accepted = {}
        for version, attribute in ATTRIBUTES.items():
            attempt = getattr(scan, attribute)
            accepted[version] = bool(attempt.result and attempt.result.accepted_cipher_suites)
        out["accepted"] = accepted
        info = scan.certificate_info.result
        if info is not None and info.certificate_deployments:
            deployment = info.certificate_deployments[0]
            out["chain"] = [
                c.public_bytes(Encoding.DER).hex() for c in deployment.received_certificate_chain
            ]
            custom = [
                p
                for p in deployment.path_validation_results
                if p.trust_store.name == "Supplied CA file"
            ]
            verdict = custom[0] if custom else None
            out["valid"] = bool(verdict and verdict.was_validation_successful)
            out["validation_error"] = verdict.validation_error if verdict else "no custom store"
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()

"""POSTing to a pinned address over TLS: the host name still goes in SNI and is verified."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.adapters import webhook_http
from shared.adapters.webhook_destination import Destination
from shared.domain import webhooks

HOST = "partner.example"


@dataclass
class TlsListener:
    port: int
    server_names: list[str | None] = field(default_factory=list)
    handshake_errors: list[str] = field(default_factory=list)
    requests: list[bytes] = field(default_factory=list)
    served: threading.Event = field(default_factory=threading.Event)  # the connection is done


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[TlsListener]:
    """A TLS server on 127.0.0.1 with a certificate no public CA signed; it records SNI."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path))
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(5)
    found = TlsListener(port=server.getsockname()[1])

    def record(_socket: ssl.SSLObject | ssl.SSLSocket, name: str | None, _: object) -> None:
        found.server_names.append(name)

    context.sni_callback = record

    def serve() -> None:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            try:
                with context.wrap_socket(connection, server_side=True) as tls:
                    found.requests.append(tls.recv(1024))
            except ssl.SSLError as error:
                found.handshake_errors.append(error.reason or "")
            finally:
                found.served.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield found
    server.close()
    thread.join(timeout=5)


def test_the_pinned_connection_names_the_host_and_refuses_a_certificate_no_ca_signed(
    listener: TlsListener,
) -> None:
    # Given a destination vetted to 127.0.0.1 for https://partner.example
    url = webhooks.parse_url(f"https://{HOST}:{listener.port}/hooks")
    destination = Destination(url=url, address=ipaddress.ip_address("127.0.0.1"))

    # When a webhook is posted there
    outcome = webhook_http.post(destination, b"{}", {"Content-Type": "application/json"})

    # Then the connection went to the pinned address, asked for the host by name (SNI),
    assert listener.served.wait(timeout=30)  # the server has seen the client's alert
    assert listener.server_names == [HOST]
    # and the self-signed certificate was refused: no request was sent
    assert listener.requests == []
    assert listener.handshake_errors == ["TLSV1_ALERT_UNKNOWN_CA"]
    assert outcome.status_code is None
    assert outcome.error is not None
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error

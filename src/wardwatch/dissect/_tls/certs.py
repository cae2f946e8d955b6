"""Identity facts of an X.509 certificate seen in clear (TLS ≤ 1.2 Certificate message), via
the ``cryptography`` package (RFC 5280 parsing; names rendered as RFC 4514 strings).

``cryptography`` is imported with the first certificate, not with the dissector: most captures carry
none (TLS 1.3 encrypts them), and its import costs every sensor process about 20 ms of start-up.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from wardwatch.dissect._wire.text import clean
from wardwatch.domain.timefmt import utc_text

if TYPE_CHECKING:
    from cryptography import x509

#: Most SAN DNS names reported per certificate (a CDN certificate can hold hundreds).
MAX_SAN = 20


def _self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer and, where the algorithm is supported, the signature verifies."""
    from cryptography.exceptions import InvalidSignature

    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except InvalidSignature:
        return False
    except (ValueError, TypeError):
        return True  # unsupported algorithm or key type: the names alone say self-issued
    return True


def certificate_facts(der: bytes) -> list[tuple[str, str]]:
    """(kind, value) pairs of one DER certificate; empty when it does not parse.

    Hostile DER can fail in many places inside the parser, so every failure means "no facts".
    """
    from cryptography import x509

    try:
        cert = x509.load_der_x509_certificate(der)
        facts = [
            ("tls.cert_subject", cert.subject.rfc4514_string()),
            ("tls.cert_issuer", cert.issuer.rfc4514_string()),
            ("tls.cert_not_before", utc_text(cert.not_valid_before_utc)),
            ("tls.cert_not_after", utc_text(cert.not_valid_after_utc)),
            ("tls.cert_sha256", hashlib.sha256(der).hexdigest()),
            ("tls.cert_self_signed", "true" if _self_signed(cert) else "false"),
        ]
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = san.get_values_for_type(x509.DNSName)
        except x509.ExtensionNotFound:
            names = []
        facts += [("tls.cert_san", name) for name in names[:MAX_SAN]]
    except Exception:  # the Rust parser raises several undocumented types on bad DER
        return []
    # Names in a certificate are whatever its issuer wrote: a DNS name may hold a NUL ("bank.example\0.evil",
    # the null-prefix trick) or other controls. Facts keep them without control characters.
    return [(kind, clean(value)) for kind, value in facts]

"""Private parts of the TLS dissector: record/handshake parsing, fingerprints, certificates."""

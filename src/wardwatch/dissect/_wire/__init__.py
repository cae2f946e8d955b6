"""Private wire-format helpers shared by the datagram dissectors (bounded readers, BER, DNS names)."""

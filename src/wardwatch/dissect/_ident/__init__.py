"""Private helpers shared by the identity dissectors (lldp, cdp, http, tls, smb, banner).

Not a public API: other dissectors should not import from here (keep plugins self-contained).
"""

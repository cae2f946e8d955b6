"""The demo advisory set, as data: fictional advisories written by the wardwatch project for the demo.

THESE ARE DEMO DATA. The advisory ids (``WW-DEMO-…``), texts and scores are ours and describe no real
vulnerability; the product names and version ranges follow the demo catalogue
(``demo/catalogue``) so that some demo devices are affected and others run a fixed version. Each entry
names the public CISA ICS medical advisory (ICSMA) whose product and versions it mirrors, so the set
agrees with the generator's ground truth (``tests/demo/test_advisories.py`` checks it).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemoProduct:
    """A product of one advisory: ``affected`` and ``fixed`` are exact versions or ``<= x`` / ``< x`` ranges."""

    vendor: str
    family: str
    name: str
    affected: tuple[str, ...]
    fixed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DemoAdvisory:
    """One fictional advisory with one vulnerability."""

    id: str
    title: str
    products: tuple[DemoProduct, ...]
    cvss: str
    cwe: tuple[str, str]
    summary: str
    remediation: str
    mitigation: str
    mirrors: tuple[str, ...] = ()
    fix_category: str = "vendor_fix"


P = DemoProduct
SEGMENT = ("Place the device on an isolated clinical VLAN, allow only the flows it needs (its server, NTP, "
           "DNS) and block access from guest and office networks.")

ADVISORIES: tuple[DemoAdvisory, ...] = (
    DemoAdvisory(
        "WW-DEMO-2024-001", "BD Alaris PC Unit and Systems Manager: session authentication bypass (demo)",
        (P("BD", "Alaris", "Alaris PC Unit 8015", ("<= 9.33.1",), ("12.3",)),
         P("BD", "Alaris", "Alaris Systems Manager", ("<= 4.33",), ("12.1.2",))),
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:L/A:H", ("CWE-287", "Improper Authentication"),
        "A device on the same network can complete the PC Unit's authentication with the Systems Manager and "
        "interrupt wireless infusion-parameter updates.",
        "Update the PC Unit to 12.3 and the Systems Manager to 12.1.2.", SEGMENT, ("ICSMA-20-317-01",)),
    DemoAdvisory(
        "WW-DEMO-2024-002", "Baxter Sigma Spectrum: telnet service with a fixed credential (demo)",
        (P("Baxter", "Sigma Spectrum", "Sigma Spectrum 35700BAX2", ("<= 8.00.01",), ("9.02",)),),
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CWE-798", "Use of Hard-coded Credentials"),
        "The wireless battery module answers telnet with a credential shared by all units.",
        "Install the 9.02 battery-module firmware, which removes the telnet service.", SEGMENT,
        ("ICSMA-20-170-04",)),
    DemoAdvisory(
        "WW-DEMO-2024-003", "B. Braun Infusomat Space / SpaceCom: unauthenticated configuration change (demo)",
        (P("B. Braun", "Space", "Infusomat Space (SpaceCom)", ("L81",), ("L82",)),),
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CWE-306", "Missing Authentication for Critical Function"),
        "The SpaceCom module accepts configuration files over the network without authenticating the sender.",
        "Update SpaceCom to L82.", SEGMENT, ("ICSMA-21-294-01",)),
    DemoAdvisory(
        "WW-DEMO-2024-004", "Philips IntelliVue monitors and PIC iX: unauthenticated data export (demo)",
        (P("Philips", "IntelliVue", "IntelliVue MX40", ("B.06.12",), ("B.06.18",)),
         P("Philips", "IntelliVue", "IntelliVue MX450", ("M.00.03", "L.01.18")),
         P("Philips", "IntelliVue", "Patient Information Center iX", ("C.02",), ("D.01",))),
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N", ("CWE-319", "Cleartext Transmission of Sensitive Information"),
        "Monitors and the information center exchange waveform and alarm data without encryption or "
        "authentication on the monitoring network.",
        "Update MX40 to B.06.18 and PIC iX to D.01; MX450 software later than M.00.03 is planned.", SEGMENT,
        ("ICSMA-17-255-01", "ICSMA-20-254-01")),
    DemoAdvisory(
        "WW-DEMO-2024-005", "GE HealthCare CARESCAPE monitors and Central Station: remote code execution (demo)",
        (P("GE Healthcare", "CARESCAPE", "CARESCAPE B650", ("1.0.12",), ("3.2",)),
         P("GE Healthcare", "CARESCAPE", "CARESCAPE Central Station", ("<= 2.0",))),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CWE-287", "Improper Authentication"),
        "The monitoring network services accept unauthenticated remote commands.",
        "Update B650 to 3.2; the Central Station 2.0 is end of life: replace it.", SEGMENT, ("ICSMA-20-023-01",)),
    DemoAdvisory(
        "WW-DEMO-2024-006", "Welch Allyn Connex Vital Signs Monitor: buffer overflow in the network stack (demo)",
        (P("Welch Allyn", "Connex", "Connex Vital Signs Monitor", ("< 2.43.02",), ("2.43.02",)),),
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", ("CWE-120", "Classic Buffer Overflow"),
        "A crafted packet restarts the monitor.", "Update to 2.43.02.", SEGMENT, ("ICSMA-21-152-01",)),
    DemoAdvisory(
        "WW-DEMO-2024-007", "Hamilton Medical HAMILTON-T1: unauthenticated service port (demo)",
        (P("Hamilton Medical", "HAMILTON", "HAMILTON-T1", ("2.2.3",), ("3.0.1",)),),
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:H", ("CWE-306", "Missing Authentication for Critical Function"),
        "The service port answers without authentication.", "Update to 3.0.1.", SEGMENT, ("ICSMA-21-047-01",)),
    DemoAdvisory(
        "WW-DEMO-2024-008", "GE HealthCare imaging: default service credentials (demo)",
        (P("GE Healthcare", "Optima", "Optima CT540", ("16MW18.5",)),
         P("GE Healthcare", "Discovery", "Discovery XR656", ("DM_Platform_Release_2.1",)),
         P("GE Healthcare", "Signa", "Signa HDxt 3.0T", ("HD23",))),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CWE-1392", "Use of Default Credentials"),
        "Remote service accounts (telnet, FTP) use default passwords.",
        "Ask GE HealthCare service to change the service credentials.", SEGMENT,
        ("ICSMA-18-037-02", "ICSMA-20-343-01"), "mitigation"),
    DemoAdvisory(
        "WW-DEMO-2024-009", "Philips EPIQ 7 and IntelliSpace Portal: outdated Windows components (demo)",
        (P("Philips", "EPIQ", "EPIQ 7", ("VM4.0",), ("VM6.0",)),
         P("Philips", "IntelliSpace", "IntelliSpace Portal", ("<= 8.0.2",), ("12.1",))),
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CWE-1104", "Use of Unmaintained Third Party Components"),
        "The products ship Windows components without current security updates.",
        "Update EPIQ 7 to VM6.0 and IntelliSpace Portal to 12.1.", SEGMENT, ("ICSMA-20-177-01", "ICSMA-18-058-02")),
    DemoAdvisory(
        "WW-DEMO-2024-010", "FUJIFILM FCR Capsula X: SMBv1 and telnet exposure, end of life (demo)",
        (P("FUJIFILM", "FCR", "FCR Capsula X (CR-IR 357)", ("CR-IR 357",)),),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CWE-287", "Improper Authentication"),
        "The CR reader runs Windows XP Embedded with SMBv1 and telnet; no update is planned.",
        "Replace the reader; until then isolate it.", SEGMENT, ("ICSMA-19-113-01",), "no_fix_planned"),
    DemoAdvisory(
        "WW-DEMO-2024-011", "Smiths Medical Medfusion 4000: hard-coded FTP credentials (demo)",
        (P("Smiths Medical", "Medfusion", "Medfusion 4000", ("<= 1.6",), ("1.6.1",)),),
        "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", ("CWE-798", "Use of Hard-coded Credentials"),
        "The wireless module keeps an FTP service with a fixed password.", "Update to 1.6.1.", SEGMENT,
        ("ICSMA-17-250-02A",)),
    DemoAdvisory(
        "WW-DEMO-2024-012", "Roche Accu-Chek Inform II: weak instrument authentication (demo)",
        (P("Roche", "Accu-Chek", "Accu-Chek Inform II", ("<= 03.05.00",), ("03.06.00",)),),
        "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:U/C:L/I:H/A:L", ("CWE-287", "Improper Authentication"),
        "The meter's base unit accepts connections from any host on the POC network.",
        "Update the meter software to 03.06.00.", SEGMENT, ("ICSMA-18-310-01",)),
    DemoAdvisory(
        "WW-DEMO-2024-013", "Cisco IP Phone 8800 series: SIP stack denial of service (demo)",
        (P("Cisco", "IP Phone", "IP Phone CP-8841", ("sip88xx.14-2-1-0101-20",), ("sip88xx.14-2-1-0301-3",)),),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", ("CWE-400", "Uncontrolled Resource Consumption"),
        "A crafted SIP message makes the phone restart.", "Update the phone firmware to 14.2(1)SR3.",
        "Restrict SIP to the call manager.", ()),
    DemoAdvisory(
        "WW-DEMO-2024-014", "Poly VVX 450: web interface cross-site request forgery (demo)",
        (P("Poly", "VVX", "VVX 450", ("< 6.4.6",), ("6.4.6",)),),
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:H/A:N", ("CWE-352", "Cross-Site Request Forgery"),
        "The phone's web interface accepts configuration changes without a CSRF token.",
        "Update UC Software to 6.4.6 or later.", "Turn off the phone web interface.", ()),
    DemoAdvisory(
        "WW-DEMO-2024-015", "Siemens Healthineers DCA Vantage: LIS interface information disclosure (demo)",
        (P("Siemens Healthineers", "DCA", "DCA Vantage", ("< 4.5.0",), ("4.5.1",)),),
        "CVSS:3.1/AV:A/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N", ("CWE-200", "Exposure of Sensitive Information"),
        "Older analyzer software answers status requests with configuration details.",
        "Update to 4.5.1 (the demo hospital's analyzers already run it).", SEGMENT, ()),
)

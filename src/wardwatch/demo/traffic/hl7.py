"""HL7 v2 messages in ER7 encoding over MLLP (HL7 v2 Chapter 2; MLLP per HL7 Transport Spec R2).

Device identity travels the way IHE PCD profiles put it: OBX-18 (Equipment Instance Identifier, EUI-64)
for monitors and ventilators, a PRT segment (v2.8 §7.4.4) with PRT-10 device and PRT-16 UDI for pumps.
Patients are fictitious (see ``patients``).
"""

from __future__ import annotations

from wardwatch.demo.traffic.patients import Patient

SB, EB, CR = b"\x0b", b"\x1c", b"\x0d"


def mllp(message: str) -> bytes:
    """Frame an ER7 message: <SB> message <EB><CR>."""
    return SB + message.encode("utf-8") + EB + CR


def eui64(mac: bytes) -> str:
    """The EUI-64 formed from a MAC by inserting FFFE (IEEE EUI-64 guidelines), upper-case hex."""
    return (mac[:3] + b"\xff\xfe" + mac[3:]).hex().upper()


def _msh(app: str, facility: str, rx_app: str, rx_facility: str, ts: str, msg_type: str, control: str,
         version: str, profile: str = "") -> str:
    return (f"MSH|^~\\&|{app}|{facility}|{rx_app}|{rx_facility}|{ts}||{msg_type}|{control}|P|{version}"
            f"|||AL|NE||UNICODE UTF-8|||{profile}")


def _pid(p: Patient) -> str:
    return f"PID|||{p.mrn}^^^DEMO^MR||{p.family}^{p.given}^^^^^L||{p.birth_date}|{p.sex}"


def oru_monitor(app: str, eui: str, facility: str, ts: str, control: str, p: Patient, location: str,
                model: str, vendor: str, values: tuple[int, int, int], device_eui: str | None = None) -> str:
    """ORU^R01 (IHE PCD-01 DEC) from a device or, when ``device_eui`` differs from the sender's ``eui``, from
    the gateway reporting for it: MSH-3 names the sending application, OBX-18 the device."""
    source = device_eui or eui
    device = f"{source}^{vendor} {model}^{source}^EUI-64"
    hr, spo2, rr = values
    segs = [
        _msh(f"{app}^{eui}^EUI-64", facility, "CLOVERLEAF", "HOSP", ts, "ORU^R01^ORU_R01", control, "2.6",
             "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"),
        _pid(p),
        f"PV1||I|{location}",
        f"OBR|1|{control}^{app}^{eui}^EUI-64|{control}^{app}^{eui}^EUI-64|182777000^monitoring of patient^SCT"
        f"|||{ts}",
        f"OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.1|{hr}|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R|||{ts}"
        f"|||||{device}",
        f"OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.2|{spo2}|262688^MDC_DIM_PERCENT^MDC|||||R|||{ts}"
        f"|||||{device}",
        f"OBX|3|NM|151562^MDC_RESP_RATE^MDC|1.1.1.3|{rr}|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R|||{ts}"
        f"|||||{device}",
    ]
    return "\r".join(segs) + "\r"


def oru_pump(app: str, eui: str, facility: str, ts: str, control: str, p: Patient, location: str,
             udi: str, serial: str, firmware: str, rate_ml_h: float) -> str:
    """ORU^R01 from an infusion pump (IHE PCD-01 for infusion) with a PRT device participation."""
    segs = [
        _msh(f"{app}^{eui}^EUI-64", facility, "PUMPSERVER", "HOSP", ts, "ORU^R01^ORU_R01", control, "2.8",
             "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"),
        _pid(p),
        f"PV1||I|{location}",
        f"OBR|1|{control}^{app}^{eui}^EUI-64||69986^MDC_DEV_PUMP_INFUS_VMD^MDC|||{ts}",
        f"PRT|1|UC||EQUIP^Equipment^HL70912||||||{eui}^{app}^{eui}^EUI-64||||||{udi}^GS1|||||{serial}",
        f"OBX|1|ST|68221^MDC_ATTR_SYS_SW_VERS^MDC|1.0.0.1|{firmware}||||||R|||{ts}",
        f"OBX|2|NM|157784^MDC_FLOW_FLUID_PUMP^MDC|1.1.1.1|{rate_ml_h:.1f}|265266^MDC_DIM_MILLI_L_PER_HR^MDC"
        f"|||||R|||{ts}",
    ]
    return "\r".join(segs) + "\r"


def oru_lab(app: str, facility: str, ts: str, control: str, p: Patient, analyzer: str, value: float) -> str:
    """ORU^R01 lab result from an analyzer (glucose, LOINC 2345-7)."""
    segs = [
        _msh(app, facility, "LIS", "HOSP", ts, "ORU^R01^ORU_R01", control, "2.5.1"),
        _pid(p),
        f"OBR|1||{control}|2345-7^Glucose^LN|||{ts}",
        f"OBX|1|NM|2345-7^Glucose [Mass/volume] in Serum or Plasma^LN||{value:.0f}|mg/dL|70-99|N|||F|||{ts}"
        f"|||||{analyzer}",
    ]
    return "\r".join(segs) + "\r"


def adt_a01(app: str, facility: str, ts: str, control: str, p: Patient, location: str) -> str:
    """ADT^A01 (admit/visit notification, v2.5.1 §3.3.1)."""
    segs = [
        _msh(app, facility, "CLOVERLEAF", "HOSP", ts, "ADT^A01^ADT_A01", control, "2.5.1"),
        f"EVN|A01|{ts}",
        _pid(p),
        f"PV1||I|{location}",
    ]
    return "\r".join(segs) + "\r"


def ack(app: str, facility: str, rx_app: str, ts: str, control: str, acked: str, version: str,
        trigger: str = "R01") -> str:
    """The application acknowledgement (MSA-1 AA) for ``acked``."""
    return (_msh(app, facility, rx_app, "HOSP", ts, f"ACK^{trigger}^ACK", control, version)
            + f"\rMSA|AA|{acked}\r")

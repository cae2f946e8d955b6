"""POCT1-A2 (CLSI) device messaging: HEL.R01 hello, DST.R01 status and the data manager's ACK.R01.

Element and attribute layout follows real analyzer output (a Siemens DCA Vantage conversation).
"""

from __future__ import annotations

_XML = '<?xml version="1.0" encoding="utf-8"?>'


def _hdr(msg_type: str, control: int, dttm: str) -> str:
    return (f'<HDR><HDR.message_type V="{msg_type}" /><HDR.control_id V="{control}" />'
            f'<HDR.version_id V="POCT1" /><HDR.creation_dttm V="{dttm}" /></HDR>')


def hello(control: int, dttm: str, vendor_id: str, model: str, serial: str, manufacturer: str,
          sw_version: str) -> bytes:
    """HEL.R01: device identification and capabilities (POCT1-A2 §7.2 Hello)."""
    body = (f'<DEV><DEV.device_id V="{vendor_id}^{model}^{serial}" /><DEV.vendor_id V="{vendor_id}" />'
            f'<DEV.model_id V="{model}" /><DEV.serial_id V="{serial}" />'
            f'<DEV.manufacturer_name V="{manufacturer}" /><DEV.hw_version V="1" />'
            f'<DEV.sw_version V="{sw_version}" /><DCP><DCP.application_timeout V="60" /></DCP>'
            '<DSC><DSC.connection_profile_cd V="SA" /><DSC.topics_supported_cd V="DTV" />'
            '<DSC.topics_supported_cd V="OP_LST" /><DSC.max_message_sz V="16000" /></DSC></DEV>')
    return (_XML + "<HEL.R01>" + _hdr("HEL.R01", control, dttm) + body + "</HEL.R01>").encode()


def status(control: int, dttm: str, new_observations: int) -> bytes:
    """DST.R01: device status with the number of new observations."""
    body = (f'<DST><DST.status_dttm V="{dttm}" /><DST.new_observations_qty V="{new_observations}" />'
            '<DST.condition_cd V="R" /></DST>')
    return (_XML + "<DST.R01>" + _hdr("DST.R01", control, dttm) + body + "</DST.R01>").encode()


def ack(control: int, dttm: str, acked: int) -> bytes:
    """ACK.R01 from the data manager."""
    body = f'<ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="{acked}" /></ACK>'
    return (_XML + "<ACK.R01>" + _hdr("ACK.R01", control, dttm) + body + "</ACK.R01>").encode()


def end_of_topic(control: int, dttm: str) -> bytes:
    """EOT.R01 closing the conversation topic."""
    body = '<EOT><EOT.topic_cd V="OBS" /></EOT>'
    return (_XML + "<EOT.R01>" + _hdr("EOT.R01", control, dttm) + body + "</EOT.R01>").encode()

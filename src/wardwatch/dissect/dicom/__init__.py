"""DICOM upper layer and DIMSE commands (PS3.8 §9.3, PS3.7), sans-I/O; DICOM-TLS on port 2762.

Shape STREAM, detected by content on any port (an A-ASSOCIATE-RQ opens the client direction), with
104/11112 as the port fallback. Data sets are never read (they are PHI): only the association PDUs and
the group 0000 command sets.

Kinds (about the client unless marked *server*):

* ``dicom.calling_ae``; ``dicom.called_ae`` (*server*): AE titles of the A-ASSOCIATE-RQ.
* ``dicom.implementation_uid``, ``dicom.implementation_version``, ``dicom.max_pdu``: of the RQ (client)
  and of the AC (*server*).
* ``dicom.proposed_sop``: abstract syntax UIDs the requestor proposed (excerpt: the SOP class name);
  ``dicom.accepted_sop`` (*server*): those it accepted (AC result 0).
* ``dicom.command``: DIMSE commands each side sent (``C-STORE-RQ``, ``C-FIND-RSP`` ...).
* ``dicom.reject`` (*server*): A-ASSOCIATE-RJ result, source and reason; ``dicom.abort``: A-ABORT by
  either side.
* ``dicom.role``: ``modality``, ``storage_scu``, ``workstation``, ``worklist_client``, ``mpps_client``,
  ``print_scu``, ``storage_commitment_scu`` for the client; ``pacs_archive``, ``worklist_server``,
  ``mpps_server``, ``print_server`` for the server.
* ``dicom.modality``: the client's modality (CT, MR, US, CR, DX, MG, NM, PT, XA, RF, ECG, OT ...) from the
  storage SOP classes it sends.
* ``dicom.tls`` = ``true`` (both ends): from the ``dicom-tls`` dissector, a TLS flow to port 2762.
"""

from wardwatch.dissect.dicom.dissector import DicomDissector, DicomTlsDissector

#: The entry point ``wardwatch.dissect.dicom:DISSECTOR``.
DISSECTOR = DicomDissector()
#: The entry point ``wardwatch.dissect.dicom:TLS_DISSECTOR`` (app label ``dicom-tls``).
TLS_DISSECTOR = DicomTlsDissector()

__all__ = ["DISSECTOR", "TLS_DISSECTOR", "DicomDissector", "DicomTlsDissector"]

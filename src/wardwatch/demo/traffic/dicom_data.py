"""Small fictitious DICOM data sets: images for C-STORE, worklist and study queries (PS3.4 Annex K, C)."""

from __future__ import annotations

import uuid

from pydicom.dataset import Dataset

from wardwatch.demo.traffic.dicom import STORAGE_SOP, encode_dataset, pixel_block
from wardwatch.demo.traffic.patients import Patient


def uid_for(*parts: object) -> str:
    """A deterministic UID under the UUID-derived root 2.25 (PS3.5 §B.2)."""
    return "2.25." + str(uuid.uuid5(uuid.NAMESPACE_OID, ":".join(map(str, parts))).int)


def image(modality: str, patient: Patient, study_uid: str, series_uid: str, instance_uid: str,
          manufacturer: str, model: str, station: str, software: str, rows: int = 8, cols: int = 8) -> bytes:
    """An encoded image data set (implicit VR LE) with a tiny monochrome pixel block."""
    ds = Dataset()
    ds.SOPClassUID = STORAGE_SOP.get(modality, STORAGE_SOP["CT"])
    ds.SOPInstanceUID = instance_uid
    ds.StudyDate = "20240312"
    ds.Modality = modality
    ds.Manufacturer = manufacturer
    ds.StationName = station[:16]
    ds.ManufacturerModelName = model[:64]
    ds.SoftwareVersions = software[:64]
    ds.PatientName = patient.dicom_name
    ds.PatientID = patient.mrn
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = cols
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = pixel_block(rows, cols)
    return encode_dataset(ds)


def worklist_query(modality: str, station_ae: str) -> bytes:
    """A Modality Worklist C-FIND identifier for today's procedures at this station (PS3.4 K.6)."""
    ds = Dataset()
    ds.PatientName = ""
    ds.PatientID = ""
    ds.AccessionNumber = ""
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = station_ae
    step.ScheduledProcedureStepStartDate = "20240312"
    step.ScheduledProcedureStepDescription = ""
    ds.ScheduledProcedureStepSequence = [step]
    return encode_dataset(ds)


def worklist_item(modality: str, station_ae: str, patient: Patient, accession: str) -> bytes:
    """One worklist match (fictitious patient)."""
    ds = Dataset()
    ds.PatientName = patient.dicom_name
    ds.PatientID = patient.mrn
    ds.AccessionNumber = accession
    step = Dataset()
    step.Modality = modality
    step.ScheduledStationAETitle = station_ae
    step.ScheduledProcedureStepStartDate = "20240312"
    step.ScheduledProcedureStepDescription = f"{modality} ROUTINE"
    ds.ScheduledProcedureStepSequence = [step]
    return encode_dataset(ds)


def study_query(patient_id: str) -> bytes:
    """A Study Root C-FIND identifier at STUDY level (PS3.4 C.6.2)."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientID = patient_id
    ds.StudyInstanceUID = ""
    ds.StudyDate = ""
    ds.ModalitiesInStudy = ""
    return encode_dataset(ds)


def study_match(patient_id: str, study_uid: str, modality: str) -> bytes:
    """One study-level match."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "STUDY"
    ds.PatientID = patient_id
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = "20240312"
    ds.ModalitiesInStudy = modality
    return encode_dataset(ds)

"""The device catalogue: the models a demo hospital is furnished with and how each one behaves."""

from wardwatch.demo.catalogue.clinical import CLINICAL_MODELS
from wardwatch.demo.catalogue.it import IT_MODELS
from wardwatch.demo.catalogue.models import DeviceModel, Firmware

CATALOGUE: dict[str, DeviceModel] = {m.key: m for m in (*CLINICAL_MODELS, *IT_MODELS)}

__all__ = ["CATALOGUE", "DeviceModel", "Firmware"]

"""Datasets, transforms and the LightningDataModule."""

from alexnet.data.datamodule import AlexNetDataModule
from alexnet.data.imagefolder import DataError
from alexnet.data.synthetic import SyntheticImageNet, create_synthetic_dataset

__all__ = ["AlexNetDataModule", "DataError", "SyntheticImageNet", "create_synthetic_dataset"]

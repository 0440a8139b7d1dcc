"""Datasets, transforms and the LightningDataModule."""

from alexnet.data.datamodule import AlexNetDataModule
from alexnet.data.synthetic import SyntheticImageNet, create_synthetic_dataset
from alexnet.errors import DataError

__all__ = ["AlexNetDataModule", "DataError", "SyntheticImageNet", "create_synthetic_dataset"]

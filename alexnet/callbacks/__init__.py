"""TensorBoard callbacks: filters, feature maps, activation statistics, confusion matrix,
hyperparameters."""

from alexnet.callbacks.activation_stats import ActivationStatistics
from alexnet.callbacks.confusion import ConfusionMatrixImage
from alexnet.callbacks.feature_maps import FeatureMapImages
from alexnet.callbacks.filters import FilterImages
from alexnet.callbacks.history import MetricHistory
from alexnet.callbacks.hparams import HParamsPanel

__all__ = ["ActivationStatistics", "ConfusionMatrixImage", "FeatureMapImages", "FilterImages",
           "HParamsPanel", "MetricHistory"]

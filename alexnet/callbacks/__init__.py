"""TensorBoard callbacks: filters, feature maps, activation statistics, confusion matrix,
hyperparameters; Grad-CAM, nearest neighbours and the embedding projector."""

from alexnet.callbacks.activation_stats import ActivationStatistics
from alexnet.callbacks.best_checkpoint import BestCheckpoint
from alexnet.callbacks.confusion import ConfusionMatrixImage
from alexnet.callbacks.feature_maps import FeatureMapImages
from alexnet.callbacks.filters import FilterImages
from alexnet.callbacks.grad_cam import GradCamImages
from alexnet.callbacks.history import MetricHistory
from alexnet.callbacks.hparams import HParamsPanel
from alexnet.callbacks.neighbours import NearestNeighbourImages
from alexnet.callbacks.projector import EmbeddingProjector
from alexnet.callbacks.step_checkpoint import StepCheckpoint

__all__ = [
    "BestCheckpoint",
    "ActivationStatistics",
    "ConfusionMatrixImage",
    "EmbeddingProjector",
    "FeatureMapImages",
    "FilterImages",
    "GradCamImages",
    "HParamsPanel",
    "MetricHistory",
    "NearestNeighbourImages",
    "StepCheckpoint",
]

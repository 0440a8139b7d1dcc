"""The optional callbacks: TensorBoard's pictures (filters, feature maps, activation statistics,
confusion matrix; Grad-CAM, nearest neighbours and the embedding projector), the probes, and
the checkpoint writers. The callbacks every run adds live in alexnet.run."""

from alexnet.callbacks.activation_stats import ActivationStatistics
from alexnet.callbacks.best_checkpoint import BestCheckpoint
from alexnet.callbacks.confusion import ConfusionMatrixImage
from alexnet.callbacks.feature_maps import FeatureMapImages
from alexnet.callbacks.filters import FilterImages
from alexnet.callbacks.grad_cam import GradCamImages
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
    "NearestNeighbourImages",
    "StepCheckpoint",
]

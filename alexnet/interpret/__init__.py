"""What did AlexNet learn? Attributions (Grad-CAM, occlusion, guided backpropagation) built on
captum, favourite patches of single units and nearest neighbours in the last hidden layer.

captum is optional (``pip install -e ".[interpret]"``): it is imported when an attribution is
computed, so importing this package never needs it.
"""

from alexnet.interpret.attribution import grad_cam, guided_backprop, occlusion
from alexnet.interpret.common import CAPTUM_MISSING, require_captum
from alexnet.interpret.units import (
    Patch,
    ReceptiveField,
    embed,
    embedding_layer,
    nearest_neighbours,
    patch_crops,
    receptive_field,
    top_patches,
)

__all__ = [
    "CAPTUM_MISSING",
    "Patch",
    "ReceptiveField",
    "embed",
    "embedding_layer",
    "grad_cam",
    "guided_backprop",
    "nearest_neighbours",
    "occlusion",
    "patch_crops",
    "receptive_field",
    "require_captum",
    "top_patches",
]

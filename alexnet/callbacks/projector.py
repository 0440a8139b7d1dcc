"""Last-hidden-layer embeddings of validation images in TensorBoard's PROJECTOR tab."""

from __future__ import annotations

import lightning as L
from torch.utils.tensorboard import SummaryWriter

from alexnet.callbacks.drawing import EpochDrawingCallback, display_images
from alexnet.data.samples import fixed_samples
from alexnet.errors import check_int
from alexnet.interpret import embed, embedding_layer
from alexnet.interpret.grids import thumbnails


class EmbeddingProjector(EpochDrawingCallback):
    """Adds the last hidden layer's outputs (fc7 after its activation in AlexNet) of the first
    `num_images` validation images as an embedding tagged by that layer, with each image's class
    name as its label and a `thumbnail`-pixel sprite. Each call writes every vector as text
    (4,096 numbers per image for AlexNet), so it runs less often than the pictures."""

    def __init__(
        self, every_n_epochs: int = 10, num_images: int = 256, thumbnail: int = 32
    ) -> None:
        super().__init__(every_n_epochs)
        check_int("num_images", num_images, minimum=1)
        check_int("thumbnail", thumbnail, minimum=1)
        self.num_images, self.thumbnail = num_images, thumbnail

    def draw(
        self, trainer: L.Trainer, pl_module: L.LightningModule, writer: SummaryWriter, step: int
    ) -> None:
        images, labels = fixed_samples(trainer.datamodule, "val", self.num_images)
        layer = embedding_layer(pl_module.model)
        features = embed(pl_module.model, images, layer).cpu()
        classes = getattr(trainer.datamodule, "classes", None)
        names = [classes[i] if classes else str(i) for i in labels.tolist()]
        sprites = thumbnails(display_images(trainer, images), self.thumbnail)
        writer.add_embedding(
            features, metadata=names, label_img=sprites, global_step=step, tag=layer
        )

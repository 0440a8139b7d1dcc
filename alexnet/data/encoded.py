"""ImageFolder JPEGs kept encoded in the loader's workers and decoded in a batch on the device
(``data.decode=device``): how an encoded batch crosses from the workers as one buffer, and how
it is decoded (nvJPEG on a GPU, the CPU's decoder otherwise).

Decoder: torchvision's ``decode_jpeg``, deprecated in torchvision 0.29 in favour of TorchCodec's,
kept on a measurement (experiments/image_decoders.py; experiments/results/image_decoders/, commit
45c7bac502, 2-core AMD EPYC, torch 2.14.1, torchcodec 0.17.0): on the CPU TorchCodec decoded
1.02x as fast one image at a time and 0.985x in batches of 64, the same pixels; it needs torch
>= 2.11 where the lab supports >= 2.4. nvJPEG through either has no figures yet (needs a GPU).

EXIF orientation: nvJPEG does not apply it, so a JPEG whose orientation is not upright is
decoded (and turned) by the worker; the CPU's decoder applies it (apply_exif_orientation).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torchvision.io import ImageReadMode, decode_jpeg, read_file
from torchvision.transforms.v2.functional import pil_to_tensor

from alexnet.data.imagefolder import PILLOW_MAX_PIXELS, load_rgb, open_checked, orientation
from alexnet.errors import DataError

log = logging.getLogger(__name__)
# torchvision >= 0.19: the CPU's decoder turns an image upright by its EXIF orientation
_UPRIGHT = (
    {"apply_exif_orientation": True}
    if "apply_exif_orientation" in inspect.signature(decode_jpeg).parameters
    else {}
)


def load_encoded(
    path: str, max_pixels: int = PILLOW_MAX_PIXELS, resize_side: int | None = None
) -> torch.Tensor:
    """A JPEG's bytes (1-D uint8) to decode later on the device; other images, and JPEGs with
    an EXIF orientation to apply, decoded (3-D, upright). Either way an image over
    `max_pixels` pixels (as stored or resized to `resize_side`) raises ImageTooLarge,
    undecoded."""
    with open_checked(path, max_pixels, resize_side) as image:  # reads the header only
        device_decodable = (
            image.format == "JPEG" and image.mode in ("RGB", "L") and orientation(image) == 1
        )
    if device_decodable:
        return read_file(path)
    return pil_to_tensor(load_rgb(path, max_pixels, resize_side))


@dataclass
class EncodedBatch:
    """A batch of encoded images (their sizes differ) packed into one buffer: from a loader
    worker it crosses as three tensors, not one shared-memory file descriptor per image (which
    ran out of descriptors and hung the loader)."""

    data: torch.Tensor  # uint8: every item's bytes, end to end
    offsets: torch.Tensor  # int64 (n + 1,): item i is data[offsets[i]:offsets[i + 1]]
    shapes: torch.Tensor  # int64 (n, 3): (0, 0, 0) for JPEG bytes, else the image's (C, H, W)

    def items(self) -> list[torch.Tensor]:
        """The items: 1-D JPEG bytes, or 3-D images a worker decoded already."""
        bounds, shapes = self.offsets.tolist(), self.shapes.tolist()
        return [
            self.data[bounds[i] : bounds[i + 1]]
            if shape[0] == 0
            else self.data[bounds[i] : bounds[i + 1]].view(*shape)
            for i, shape in enumerate(shapes)
        ]

    def __len__(self) -> int:
        return len(self.shapes)


def pack_encoded(images: Sequence[torch.Tensor]) -> EncodedBatch:
    """JPEG bytes (1-D) and decoded images (3-D uint8) packed into one EncodedBatch."""
    sizes = [image.numel() for image in images]
    offsets = torch.zeros(len(images) + 1, dtype=torch.int64)
    offsets[1:] = torch.tensor(sizes, dtype=torch.int64).cumsum(0)
    shapes = torch.tensor(
        [(0, 0, 0) if image.dim() == 1 else tuple(image.shape) for image in images],
        dtype=torch.int64,
    ).reshape(-1, 3)
    data = (
        torch.cat([image.reshape(-1) for image in images])
        if images
        else torch.empty(0, dtype=torch.uint8)
    )
    return EncodedBatch(data, offsets, shapes)


def collate_encoded(items: list[tuple[torch.Tensor, int]]) -> tuple[EncodedBatch, torch.Tensor]:
    """A batch of encoded images packed into one buffer; the labels are stacked."""
    return pack_encoded([item[0] for item in items]), torch.tensor([item[1] for item in items])


def decode_batch(
    encoded: EncodedBatch | list[torch.Tensor], device: torch.device, policy: str = "skip"
) -> list[torch.Tensor]:
    """RGB uint8 images (3, H, W) on `device`: JPEG bytes decoded there, the rest moved there.

    An undecodable JPEG (e.g. truncated) follows `policy`: ``skip`` takes a good image of the
    batch in its place (with a warning), ``fail`` raises DataError.
    """
    if isinstance(encoded, EncodedBatch):
        encoded = encoded.items()
    jpegs = [i for i, item in enumerate(encoded) if item.dim() == 1]
    decoded: dict[int, torch.Tensor] = {}
    if jpegs and device.type == "cuda":
        drain_stream(device)
    upright = _UPRIGHT if device.type == "cpu" else {}
    try:
        batch = decode_jpeg(
            [encoded[i] for i in jpegs], mode=ImageReadMode.RGB, device=device, **upright
        )
        decoded.update(zip(jpegs, batch))
    except RuntimeError:  # one bad file fails the batch: decode one by one to find it
        for i in jpegs:
            try:
                decoded[i] = decode_jpeg(
                    encoded[i], mode=ImageReadMode.RGB, device=device, **upright
                )
            except RuntimeError as err:
                if policy == "fail":
                    raise DataError(f"undecodable JPEG in the batch (item {i}): {err}") from err
                log.warning("Skipped an undecodable JPEG (batch item %d): %s", i, err)
    for i, item in enumerate(encoded):
        if item.dim() == 3:  # decoded by the worker already
            decoded[i] = item.to(device, non_blocking=True)
    if not decoded:
        raise DataError("no decodable image in the batch")
    good = list(decoded.values())
    return [decoded.get(i, good[0]) for i in range(len(encoded))]


def drain_stream(device: torch.device) -> None:
    """Wait for the work queued on `device`'s current stream: nvJPEG may decode into memory the
    caching allocator freed while queued kernels still read it (pytorch/vision#9606,
    meta-pytorch/torchcodec#1634: draining the caller's stream first was the fix that held on
    every path). One host barrier per decoded batch, the price of correct pixels."""
    torch.cuda.current_stream(device).synchronize()

"""DataLoader settings: pinned memory follows the device unless set."""

import lightning as L
import pytest

from alexnet import AlexNetDataModule


def loader(pin_memory, trainer=None):
    dm = AlexNetDataModule(num_classes=2, image_size=32, train_per_class=2, val_per_class=1,
                           test_per_class=1, batch_size=2, num_workers=0, pin_memory=pin_memory)
    dm.trainer = trainer
    dm.setup("fit")
    return dm.train_dataloader()


def test_pin_memory_auto_pins_only_for_a_cuda_device():
    assert loader("auto").pin_memory is False  # no trainer yet
    assert loader("auto", L.Trainer(accelerator="cpu", logger=False)).pin_memory is False
    assert loader(True).pin_memory is True
    assert loader(False).pin_memory is False


def test_bad_pin_memory_names_the_choices():
    with pytest.raises(ValueError, match="data.pin_memory='yes' is not valid; choose one of: "
                                         "auto, true, false"):
        loader("yes")

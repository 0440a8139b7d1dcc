"""The colour augmentation's basis: the principal components of the training set in use."""

import json

import torch
from PIL import Image

from alexnet.data import AlexNetDataModule
from alexnet.data.colour_pca import CACHE_NAME, rgb_basis
from alexnet.data.transforms import PCA_EIGVAL, FancyPCA


def test_the_basis_is_the_pixels_principal_components():
    # Pixels that vary along grey (1, 1, 1) only, with variance 3 * 0.04: one component.
    torch.manual_seed(0)
    grey = 0.5 + 0.2 * torch.randn(1, 16, 16)
    basis = rgb_basis([grey.expand(3, -1, -1).clone() for _ in range(2)])
    eigval = torch.tensor(basis.eigval, dtype=torch.float64)
    eigvec = torch.tensor(basis.eigvec, dtype=torch.float64)
    expected = 3 * grey.double().var(unbiased=False).item()  # float64 on both sides
    assert abs(eigval[0].item() - expected) < 1e-12 and eigval[1:].abs().max() < 1e-12
    torch.testing.assert_close(
        eigvec[:, 0].abs(), torch.full((3,), 3**-0.5, dtype=torch.float64), atol=1e-9, rtol=0
    )
    assert basis.shift_rms(0.1) == 0.1 * basis.eigval[0]  # one component: sigma * lambda


def fancy_of(module: AlexNetDataModule) -> FancyPCA:
    return next(s for s in module._transforms[0].transforms if isinstance(s, FancyPCA))


def test_the_paper_augmentation_uses_the_training_sets_own_colours():
    module = AlexNetDataModule(
        num_classes=4,
        image_size=32,
        train_per_class=8,
        val_per_class=1,
        test_per_class=1,
        num_workers=0,
        augment="paper",
    )
    module.setup()
    basis = module.colour_basis
    # ImageNet's basis is replaced by this training set's own, measured on its images.
    assert basis is not None and basis.images == 32
    raw = module.unaugmented_train_split()
    mean, std = (torch.tensor(s).view(3, 1, 1) for s in module.stats)
    images = [(raw[i][0] * std + mean).clamp(0, 1) for i in range(len(raw))]
    torch.testing.assert_close(
        torch.tensor(basis.eigval), torch.tensor(rgb_basis(images).eigval), atol=1e-9, rtol=0
    )
    fancy = fancy_of(module)
    torch.testing.assert_close(fancy.eigval, torch.tensor(basis.eigval, dtype=torch.float32))
    assert not torch.allclose(fancy.eigval, torch.tensor(PCA_EIGVAL), atol=1e-3)
    assert tuple(module.run_record()["colour_basis"]["eigval"]) == basis.eigval
    # Without colour noise, no basis is measured or recorded.
    plain = AlexNetDataModule(
        num_classes=4,
        image_size=32,
        train_per_class=8,
        val_per_class=1,
        test_per_class=1,
        num_workers=0,
        augment="paper",
        pca_sigma=0.0,
    )
    plain.setup()
    assert plain.colour_basis is None and "colour_basis" not in plain.run_record()


def test_an_image_folders_basis_is_cached_beside_its_files(tmp_path):
    root = tmp_path / "images"
    for split in ("train", "val"):
        for c, colour in enumerate(((200, 30, 30), (30, 30, 200))):
            for i in range(3):
                image = Image.new("RGB", (40, 40), tuple(v + 8 * i for v in colour))
                (root / split / f"class{c}").mkdir(parents=True, exist_ok=True)
                image.save(root / split / f"class{c}" / f"{i}.png")
    module = AlexNetDataModule(
        source="imagefolder", root=str(root), image_size=32, num_workers=0, augment="paper"
    )
    module.setup()
    stored = json.loads((root / CACHE_NAME).read_text())
    assert stored["eigval"] == list(module.colour_basis.eigval)
    # Red against blue: the first component separates them; its variance dominates.
    assert module.colour_basis.eigval[0] > 10 * module.colour_basis.eigval[1]
    stored["eigval"] = [0.5, 0.25, 0.125]  # the cache is what a second setup reads
    (root / CACHE_NAME).write_text(json.dumps(stored))
    again = AlexNetDataModule(
        source="imagefolder", root=str(root), image_size=32, num_workers=0, augment="paper"
    )
    again.setup()
    assert again.colour_basis.eigval == (0.5, 0.25, 0.125)


def test_an_unreadable_cache_is_computed_again(tmp_path):
    # A half-written cache (another DDP rank mid-write) must not crash the setup.
    root = tmp_path / "images"
    for split in ("train", "val"):
        for c in range(2):
            (root / split / f"class{c}").mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (40, 40), (200 * c, 60, 90)).save(root / split / f"class{c}/0.png")
    (root / CACHE_NAME).write_text('{"key": {"ima')
    module = AlexNetDataModule(
        source="imagefolder", root=str(root), image_size=32, num_workers=0, augment="paper"
    )
    module.setup()
    assert json.loads((root / CACHE_NAME).read_text())["eigval"] == list(module.colour_basis.eigval)
    assert not list(root.glob("*.tmp"))  # written by replace, nothing left beside it

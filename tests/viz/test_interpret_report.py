"""The interpret command and the first layer's colour measure (the paper's Figure 3)."""

import json
import re
import subprocess
import sys

import pytest
import torch

from alexnet.cli.main import interpret_command
from alexnet.interpret.colour import (
    chroma_share,
    random_halves_gap,
    relative_change,
    tower_colour,
    towers_gap,
)
from alexnet.models import create_model
from alexnet.run.api import train
from alexnet.run.checkpoints import resolve_checkpoint
from alexnet.training.module import AlexNetModule
from tests.conftest import ROOT, TINY, compose_train

pytest.importorskip("captum", reason="the interpret extra (captum) is not installed")


def test_chroma_share_of_grey_colour_and_random_kernels():
    kernels = torch.zeros(3, 3, 5, 5)
    kernels[0] = torch.randn(1, 5, 5)  # the same on R, G and B: grey
    kernels[1, 0], kernels[1, 1] = 1.0, -1.0  # red against green: all chroma
    kernels[2, 2] = torch.randn(5, 5)  # blue only: 2/3 of its energy is chroma
    assert chroma_share(kernels).tolist() == pytest.approx([0.0, 1.0, 2 / 3], abs=1e-6)
    assert float(chroma_share(torch.randn(4000, 3, 11, 11)).mean()) == pytest.approx(
        2 / 3, abs=0.01
    )


def test_tower_colour_reads_the_paper_layouts_two_towers():
    model = create_model("paper2012", num_classes=4)
    with torch.no_grad():
        conv1 = model.features[0].weight  # 96 kernels: 48 feed each tower of conv2
        conv1[:48] = torch.randn(48, 1, 11, 11).expand(-1, 3, -1, -1)  # tower 1: grey
        conv1[48:, 0] = torch.randn(48, 11, 11)  # tower 2: red minus green
        conv1[48:, 1] = -conv1[48:, 0]
        conv1[48:, 2] = 0.0
        conv1[60] = 1.0  # one flat grey kernel in tower 2
    first, second = tower_colour(model)
    # Exact: grey kernels have no chroma (the opponent rows cancel equal channels exactly in
    # float64), and tower_colour rounds its shares to 4 places.
    assert first == {
        "tower": 1,
        "kernels": 48,
        "mean chroma share": 0.0,
        "median chroma share": 0.0,
        "grey kernels": 1.0,
    }
    assert second["mean chroma share"] == pytest.approx(47 / 48, abs=1e-4)
    assert second["grey kernels"] == pytest.approx(1 / 48, abs=1e-4)
    assert len(tower_colour(create_model("alexnet", num_classes=4))) == 1  # no towers


def test_the_towers_gap_against_random_halves_of_the_same_kernels():
    split = torch.cat([torch.zeros(48), torch.ones(48)])  # tower 1 grey, tower 2 pure colour
    assert towers_gap(split) == 1.0
    # Random halves of those kernels: a hypergeometric mix (sd 2.46 of 48 ones per half),
    # E|difference| = 2 * 0.798 * 2.46 / 48 = 0.082, not 1.
    assert random_halves_gap(split, draws=4000) == pytest.approx(0.082, abs=0.01)
    # Kernels with no towers (exchangeable shares): on average the towers' gap is the random
    # halves' gap; a null that differs (other sizes, other kernels) would be biased.
    torch.manual_seed(0)
    sets = torch.rand(400, 96) ** 2
    towers = sum(towers_gap(s) for s in sets) / len(sets)
    halves = sum(random_halves_gap(s, draws=100, seed=i) for i, s in enumerate(sets)) / len(sets)
    assert towers == pytest.approx(halves, rel=0.1) and towers > 0.02  # both above 0 by noise


def test_relative_change_per_tower():
    init = torch.randn(96, 3, 11, 11)
    moved = init.clone()
    moved[48:] *= 3  # only tower 2 moved: |3 W0 - W0| / |W0| = 2
    assert relative_change(init, init) == [0.0, 0.0]
    assert relative_change(moved, init) == pytest.approx([0.0, 2.0], abs=1e-6)  # float32


def interpret(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "experiments.interpret", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("trained")
    train(
        compose_train(
            *TINY,
            "trainer.max_epochs=1",
            "test=false",
            "logger=none",
            "callbacks=none",
            output_dir=out,
        )
    )
    return out


@pytest.mark.slow
def test_report_of_a_run_dir_writes_every_figure_and_an_index(trained_run, tmp_path):
    out = tmp_path / "report"
    done = interpret(
        f"ckpt_path={trained_run}",
        f"hydra.run.dir={out}",
        "report.probes=3",
        "report.gallery=8",
        "report.k=2",
        "report.patch_images=6",
        "report.top_k=3",
        "report.units=2",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    page = (out / "index.html").read_text()
    figures = re.findall(r'<img src="([^"]+)"', page)
    assert figures == [
        "filters.png",
        "grad_cam.png",
        "occlusion.png",
        "guided_backprop.png",
        "top_patches_conv1.png",
        "top_patches_conv2.png",
        "top_patches_conv3.png",
        "nearest_neighbours.png",
    ]  # mini: three convs
    for name in figures:
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert f"]({name})" in (out / "index.md").read_text()
    module = AlexNetModule.load_from_checkpoint(
        resolve_checkpoint(trained_run), map_location="cpu", weights_only=True
    )
    # Equal: the same weights (loaded bit for bit), shares computed in float64 and rounded to 4
    # places, in the command's process and in this one, with the same environment.
    assert json.loads((out / "tower_colour.json").read_text()) == tower_colour(module.model)
    assert "Grad-CAM at conv3" in page and str(resolve_checkpoint(trained_run)) in page


@pytest.mark.slow
def test_report_of_weights_in_a_file(trained_run, tmp_path):
    module = AlexNetModule.load_from_checkpoint(
        resolve_checkpoint(trained_run), map_location="cpu", weights_only=True
    )
    torch.save(module.model.state_dict(), tmp_path / "mini.pt")
    out = tmp_path / "report"
    done = interpret(
        "model.preset=mini",
        f"model.weights={tmp_path / 'mini.pt'}",
        "data.num_classes=3",
        "data.image_size=64",
        f"hydra.run.dir={out}",
        "report.probes=2",
        "report.gallery=4",
        "report.k=2",
        "report.patch_images=4",
        "report.top_k=2",
        "report.units=1",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # equal: the same weights, float64 shares rounded to 4 places (see the test above)
    assert json.loads((out / "tower_colour.json").read_text()) == tower_colour(module.model)
    assert "mini.pt" in (out / "index.md").read_text()


def test_neither_checkpoint_nor_weights_is_one_line_and_leaves_no_run_dir(tmp_path):
    out = tmp_path / "report"
    done = interpret(f"hydra.run.dir={out}", timeout=120)
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("error: ckpt_path=None is not valid")
    assert "Traceback" not in done.stderr and not out.exists()


def test_a_bad_report_setting_names_the_key(tmp_path, monkeypatch):
    # In this process (the command's exit code and stderr: the test above)
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "interpret.py",
            "model.weights=x.pt",
            "report.split=holdout",
            f"hydra.run.dir={tmp_path}/r",
        ],
    )
    with pytest.raises(SystemExit) as stopped:
        interpret_command()
    message = stopped.value.code
    assert isinstance(message, str) and "report.split='holdout' is not valid" in message
    assert "train, val, test" in message

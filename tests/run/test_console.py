"""What the default run shows: no third-party noise a user can do nothing about, each of
Lightning's lines once, and the model's real FLOPs in its summary."""

import re

from alexnet import create_model, summarize
from tests.conftest import TINY

UNITS = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def summary_flops(shown: str) -> float:
    """The total FLOPs of Lightning's model summary, as earlier 2.6 releases ("Total FLOPs: 44.0 M")
    or 2.6.6 ("44.0 M    Total Flops") print it; a zero is a total of none."""
    total = re.search(r"Total FLOPs: ([\d.]+) ?([KMBT]?)", shown) or re.search(
        r"([\d.]+) ?([KMBT]?)\s+Total Flops", shown
    )
    assert total, "no FLOPs total in the model summary"
    return float(total.group(1)) * UNITS[total.group(2)]


def test_the_console_holds_no_known_noise_and_the_real_flops(run_script, tmp_path):
    result = run_script("train.py", *TINY, "trainer.max_epochs=1", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    shown = result.stdout + result.stderr
    for noise in ("LeafSpec", "set_vital", "💡 Tip"):
        assert noise not in shown, noise
    assert shown.count("GPU available:") == 1  # once, through Hydra's handler only
    flops = summarize(create_model("mini", num_classes=3), 64).flops  # one 64-px image
    assert abs(summary_flops(shown) - flops) / flops < 0.01, shown[-3000:]
    assert "GPU available:" in (tmp_path / "train.log").read_text()  # the log file has it too

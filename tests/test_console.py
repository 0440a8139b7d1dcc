"""What the default run shows: no third-party noise a user can do nothing about, each of
Lightning's lines once, and the model's real FLOPs in its summary."""

import re

from alexnet import create_model, summarize
from tests.conftest import TINY


def test_the_console_holds_no_known_noise_and_the_real_flops(run_script, tmp_path):
    result = run_script("train.py", *TINY, "trainer.max_epochs=1", f"hydra.run.dir={tmp_path}")
    assert result.returncode == 0, result.stderr[-3000:]
    shown = result.stdout + result.stderr
    for noise in ("LeafSpec", "set_vital", "💡 Tip", "Total FLOPs: 0"):
        assert noise not in shown, noise
    assert shown.count("GPU available:") == 1  # once, through Hydra's handler only
    flops = summarize(create_model("mini", num_classes=3), 64).flops  # one 64-px image
    total = re.search(r"Total FLOPs: ([\d.]+) M", shown)
    assert total and abs(float(total.group(1)) * 1e6 - flops) / flops < 0.01, total
    assert "GPU available:" in (tmp_path / "train.log").read_text()  # the log file has it too

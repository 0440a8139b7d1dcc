"""Every ablation claim from one shared sweep (experiments/ablation_all.py): each arm once per
seed, parts that add up across calls, each claim's folder re-made from every part."""

import json
import shutil

import pytest

from tests.experiments.conftest import load
from tests.experiments.test_committed_results import without_remade


def test_the_claims_share_their_arms_and_parts_add_up(tmp_path):
    module = load("ablation_all")
    out = tmp_path / "ablation"
    module.main(["--seeds", "0", "0", "--size", "tiny", "--out", str(out)])
    remove(out / "sweeps")  # as in a fresh clone: a part's sweep is never committed
    module.main(["--seeds", "1", "1", "--size", "tiny", "--out", str(out)])
    runs = json.loads((out / "runs.json").read_text())
    arms = {(r["record"]["choices"]["ablation"], r["config"]["seed"]) for r in runs}
    assert len(runs) == len(arms) == 16  # 8 arms x 2 seeds, each once
    assert {r["job"].split("/")[0] for r in runs} == {"0000-0000", "0001-0001"}
    parts = json.loads((out / "parts.json").read_text())
    assert [p["seeds"] for p in parts] == [[0], [1]]
    for claim_id in module.ablation.CLAIM_IDS:
        folder = out / claim_id
        effect = json.loads((folder / "effect.json").read_text())
        assert effect["claim"] == claim_id and effect["seeds"] == [0, 1] and effect["version"] == 2
        provenance = json.loads((folder / "provenance.json").read_text())
        assert provenance["seeds"] == [0, 1] and len(provenance["parts"]) == 2
        mine = json.loads((folder / "runs.json").read_text())
        assert len({r["record"]["choices"]["ablation"] for r in mine}) == 2 and len(mine) == 4
    # The shared full arm's runs are the very same in the claims that name it.
    dropout = json.loads((out / "dropout_overfitting" / "runs.json").read_text())
    placebo = json.loads((out / "placebo" / "runs.json").read_text())
    full = [r for r in dropout if r["record"]["choices"]["ablation"] == "full"]
    assert full == [r for r in placebo if r["record"]["choices"]["ablation"] == "full"]
    # Localization measures the shared full arm's runs (declarations/localization_v2.yaml):
    # seed 1's from its job dir, seed 0's (its sweep removed above, as in a fresh clone) trained
    # again with its own recorded overrides: the same config as the sweep's.
    local = load("localization").main(
        ["--size", "tiny", "--sweep", str(out), "--out", str(tmp_path / "localization")]
    )
    record = json.loads((local / "provenance.json").read_text())
    assert record["retrained"] == [0] and record["seeds"] == [0, 1] and record["removed"] == {}
    assert json.loads((local / "effect.json").read_text())["seeds"] == [0, 1]
    measured = json.loads((local / "runs.json").read_text())
    assert {r["config"]["seed"]: settings(r["config"]) for r in measured} == {
        seed: settings(config) for seed, config in full_configs(runs).items()
    }
    # Re-made from the committed files alone (no sweeps), every claim's page is the same.
    before = {c: (out / c / "ablation.md").read_text() for c in module.ablation.CLAIM_IDS}
    remove(out / "sweeps")
    module.main(["--report", str(out)])
    for claim_id, text in before.items():
        assert without_remade(out / claim_id / "ablation.md") == [
            line for line in text.splitlines() if not line.startswith("Report re-made")
        ], claim_id


def settings(config: dict) -> dict:
    """A run's config less where it wrote (its dirs, its TensorBoard version's name)."""
    trainer = {k: v for k, v in config["trainer"].items() if k != "default_root_dir"}
    return {**{k: v for k, v in config.items() if k != "logger"}, "trainer": trainer}


def full_configs(runs: list[dict]) -> dict[int, dict]:
    return {
        r["config"]["seed"]: r["config"]
        for r in runs
        if r["record"]["choices"]["ablation"] == "full"
    }


def test_localization_refuses_a_sweep_without_the_full_arm_or_on_another_task(tmp_path):
    module = load("localization")
    with pytest.raises(SystemExit, match="no runs.json there"):
        module.main(["--size", "tiny", "--sweep", str(tmp_path), "--out", str(tmp_path / "o")])
    (tmp_path / "runs.json").write_text("[]")
    with pytest.raises(SystemExit, match="has no `full` arm runs"):
        module.main(["--size", "tiny", "--sweep", str(tmp_path), "--out", str(tmp_path / "o")])
    job = {
        "config": {"seed": 0},
        "record": {"choices": {"ablation": "full"}, "task": "hard-v1", "status": "completed"},
    }
    (tmp_path / "runs.json").write_text(json.dumps([job]))
    with pytest.raises(
        SystemExit, match="trained on hard-v1; the declared protocol measures hard-v2"
    ):
        module.main(["--size", "cpu", "--sweep", str(tmp_path), "--out", str(tmp_path / "o")])


def remove(folder):
    shutil.rmtree(folder)


def test_the_shared_sweep_takes_its_claims_common_overrides():
    from dataclasses import replace

    from experiments.lab.claims import claim

    module = load("ablation_all")
    claims = [claim(c) for c in module.ablation.CLAIM_IDS]
    # claims.yaml's six claims declare one shrink (their power pilot's): the sweep takes it.
    assert module.shared_overrides(claims, "cpu") == ["trainer.check_val_every_n_epoch=60"]
    assert module.shared_overrides(claims, "tiny") == []
    other = {"cpu": ["trainer.max_epochs=30"]}
    with pytest.raises(SystemExit, match="declare different overrides at --size cpu"):
        module.shared_overrides([replace(claims[0], overrides=other), claims[1]], "cpu")

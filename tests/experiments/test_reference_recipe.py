"""The reference recipe's selection applies the declared rule: the gate on every layer and seed,
failed runs counted as failing, the best mean accuracy among those passing, ties to the earlier
candidate; and it runs end to end at the tiny size, its page re-made from its runs."""

import json

from tests.experiments.conftest import load

SPEC = {"selection_seeds": [1, 2], "candidates": {"A": [], "B": [], "C": []}}


def seed(acc: float, dead: float, status: str = "completed") -> dict:
    return {"status": status, "val_acc1": acc, "worst_dead": dead, "dead": {"act1": dead}}


def test_the_rule_gates_on_the_worst_layer_and_seed_then_takes_the_best_accuracy():
    choose = load("reference_recipe").choose
    picked = choose(
        {
            "A": [seed(0.9, 0.05), seed(0.9, 0.11)],  # one seed above the gate: fails
            "B": [seed(0.5, 0.0), seed(0.5, 0.1)],  # at the gate: passes
            "C": [seed(0.6, 0.0), seed(0.6, 0.0)],
        },
        SPEC,
    )
    assert [picked["candidates"][n]["passes"] for n in "ABC"] == [False, True, True]
    assert picked["chosen"] == "C"


def test_a_failed_run_fails_its_candidate_and_ties_go_to_the_earlier_one():
    choose = load("reference_recipe").choose
    picked = choose(
        {
            "A": [seed(0.600, 0.0), seed(0.600, 0.0)],
            "B": [seed(0.604, 0.0), seed(0.604, 0.0)],  # within 0.005 of the best: a tie
            "C": [seed(0.9, 0.0), seed(0.9, 0.0, status="failed")],
        },
        SPEC,
    )
    assert not picked["candidates"]["C"]["passes"] and picked["chosen"] == "A"
    assert choose({"A": [seed(0.15, 0.0), seed(0.15, 0.0)]}, SPEC)["chosen"] is None  # chance


def test_the_selection_runs_at_the_tiny_size_and_its_page_is_remade(tmp_path):
    module = load("reference_recipe")
    out = module.main(["--size", "tiny", "--out", str(tmp_path / "out"), "--only", "R0", "R1"])
    selection = json.loads((out / "selection.json").read_text())
    assert set(selection["measures"]) == {"R0", "R1"}
    assert [m["seed"] for m in selection["measures"]["R1"]] == [1000, 1001, 1002]
    assert all(m["dead"] for m in selection["measures"]["R0"])  # the probe ran in every run
    page = (out / "selection.md").read_text()
    assert "nothing is chosen from it" in page
    again = module.main(["--report", str(out), "--out", str(tmp_path / "again"), "--size", "tiny"])
    assert (
        json.loads((again / "selection.json").read_text())["candidates"] == selection["candidates"]
    )

"""The committed results under experiments/results/ are what their commands make: each training
report re-made from its committed runs.json equals the committed tables, the static experiments
re-run give the same tables, and the index page is up to date."""

import json
import math

import pytest

from experiments.lab.provenance import REMADE, git_state
from tests.conftest import ROOT
from tests.experiments.conftest import load

RESULTS = ROOT / "experiments" / "results"
ABLATIONS = load("ablation").CLAIM_IDS  # every ablation claim, as the script knows them
# The claims' results (experiments/claims.yaml's version), each once it is committed.
CLAIM_REPORTS = {
    "relu_vs_tanh": ["relu_vs_tanh.md", "relu_vs_tanh.csv", "lr_sweep.csv", "effect.json"],
    **{f"ablation/{claim}": ["ablation.md", "ablation.csv", "effect.json"] for claim in ABLATIONS},
    "tower_colour": ["tower_colour.md", "tower_colour.csv", "effect.json"],
    "localization": ["localization.md", "localization.csv", "effect.json"],
}
REPORTS = {
    **{name: files for name, files in CLAIM_REPORTS.items() if (RESULTS / name).is_dir()},
    "calibrate_hard": ["calibration.md", "calibration.csv"],
    **(
        {"calibrate_hard_v2": ["calibration.md", "calibration.csv"]}
        if (RESULTS / "calibrate_hard_v2").is_dir()
        else {}
    ),
    "dropout": ["dropout.md", "dropout.csv"],
    "reference_recipe": ["selection.md", "selection.json"],
}
SCRIPTS = {"calibrate_hard_v2": "calibrate_hard"}
STATIC = {
    "architecture": ["presets.md", "presets.csv", "architecture_mini.md"],
    "activations": ["activations.md", "activations.csv"],
    "lr_schedules": ["lr_schedules.md", "lr_schedules.csv"],
    "legacy": ["legacy.md", "legacy.csv"],
}


def invoked(command: str, script: str, then: str = "") -> bool:
    """The command ran the experiment: as a module (python -m experiments.NAME), or as the
    script path that results made before experiments became a package record."""
    forms = (f"python -m experiments.{script}", f"python experiments/{script}.py")
    return any(command.startswith(f"{form} {then}".rstrip()) for form in forms)


def check_provenance(folder):
    record = json.loads((folder / "provenance.json").read_text())
    if folder.parent.name == "ablation":  # a claim of the shared sweep, in its default folder
        assert invoked(record["command"], "ablation_all", "--seeds")
        assert "--out" not in record["command"] and record["claim"] == folder.name
        assert all(part["dirty"] is False for part in record["parts"])
    else:
        script = SCRIPTS.get(folder.name, folder.name)
        assert invoked(record["command"], script)
        assert f"--out experiments/results/{folder.name}" in record["command"]
    assert len(record["commit"]) == 40 and record["dirty"] is False
    assert {"torch", "torchvision", "lightning"} <= set(record["versions"])
    assert record["machine"]["cpu"] and record["wall_time_s"] >= 0


@pytest.mark.parametrize("name", list(REPORTS))
def test_a_committed_report_is_remade_from_its_runs(name, tmp_path):
    committed = RESULTS / name
    check_provenance(committed)
    runs = json.loads((committed / "runs.json").read_text())
    # Every run completed, or diverged: an outcome its report counts (ReLU at a high rate), not
    # a crash.
    assert all(
        r["record"]["status"] == "completed"
        or r["record"].get("error", "").startswith("DivergenceError")
        for r in runs
    )
    seeds = {r["config"]["seed"] for r in runs}
    # The cpu size's default: at least 3 seeds per arm (the calibration declares 2 per size).
    assert len(seeds) >= (2 if name == "calibrate_hard" else 3)
    script = "ablation" if name.startswith("ablation/") else SCRIPTS.get(name, name)
    out = load(script).main(["--report", str(committed), "--out", str(tmp_path / name)])
    for file in REPORTS[name]:
        if file.endswith(".json"):  # the same numbers, up to the last bit of a float
            assert same_numbers(
                json.loads((out / file).read_text()), json.loads((committed / file).read_text())
            ), file
        else:
            assert without_remade(out / file) == without_remade(committed / file), file
    # The re-made report names the commit that re-made it, beside the training's.
    remade = json.loads((out / "provenance.json").read_text())
    assert remade["report"]["commit"] == git_state()["commit"]
    assert remade["commit"] == json.loads((committed / "provenance.json").read_text())["commit"]
    text = (out / REPORTS[name][0]).read_text()
    assert f"{REMADE} `" in text and f"at commit `{remade['report']['commit'][:10]}`" in text


def same_numbers(made, committed) -> bool:
    """Equal structures whose floats agree to 12 digits (SciPy's t intervals and the code they
    replaced differ in the last bit)."""
    if isinstance(made, dict) and isinstance(committed, dict):
        return made.keys() == committed.keys() and all(
            same_numbers(made[k], committed[k]) for k in made
        )
    if isinstance(made, list) and isinstance(committed, list):
        return len(made) == len(committed) and all(map(same_numbers, made, committed))
    if isinstance(made, float) or isinstance(committed, float):
        return math.isclose(made, committed, rel_tol=1e-12, abs_tol=1e-15)
    return made == committed


def without_remade(path):
    """The file's lines but the one naming the commit that re-made the report (this one)."""
    return [line for line in path.read_text().splitlines() if not line.startswith(REMADE)]


@pytest.mark.parametrize("name", list(STATIC))
def test_a_static_result_is_what_its_command_makes(name, tmp_path):
    committed = RESULTS / name
    check_provenance(committed)
    out = load(name).main(["--out", str(tmp_path / name)])
    for file in STATIC[name]:
        assert (out / file).read_text() == (committed / file).read_text(), file


def test_the_results_index_is_up_to_date():
    index = load("results_index").index(RESULTS)
    assert (RESULTS / "README.md").read_text() == index
    for name in (*REPORTS, *STATIC, "data_path", "image_decoders"):
        assert f"]({name}/)" in index


def test_the_claims_page_is_what_its_command_makes(tmp_path):
    made = load("claims").main(["--results", str(RESULTS), "--out", str(tmp_path / "claims.md")])
    assert made.read_text() == (RESULTS / "claims.md").read_text()


def test_every_committed_run_is_remade_by_a_test():
    # A folder of runs outside REPORTS would escape the re-make check above (the archive of an
    # older claims version is re-made by its own commit's code, see its README).
    folders = {str(p.parent.relative_to(RESULTS)) for p in RESULTS.glob("*/runs.json")}
    folders |= {str(p.parent.relative_to(RESULTS)) for p in RESULTS.glob("ablation/*/runs.json")}
    # The shared sweep's own runs.json is re-made through its claims' folders (each a subset).
    assert folders - {"ablation"} <= set(REPORTS), sorted(folders - set(REPORTS))

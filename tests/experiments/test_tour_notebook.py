"""The tour notebook runs top to bottom in a real Jupyter kernel, and every figure cell shows."""

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "experiments" / "alexnet_tour.ipynb"
PARTS = 7


def test_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    headings = [
        cell.source.splitlines()[0]
        for cell in notebook.cells
        if cell.cell_type == "markdown" and cell.source.startswith("## Part")
    ]
    assert len(headings) == PARTS


@pytest.mark.slow
def test_notebook_runs_and_every_figure_cell_shows_an_image(tmp_path, monkeypatch):
    monkeypatch.setenv("ALEXNET_TOUR_SIZE", "tiny")
    monkeypatch.setenv("ALEXNET_TOUR_OUT", str(tmp_path))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    ).execute()
    figures = [cell for cell in notebook.cells if "figure" in cell.metadata.get("tags", [])]
    assert len(figures) >= PARTS  # every part draws at least one figure
    for cell in figures:
        images = [output for output in cell.outputs if "image/png" in output.get("data", {})]
        assert images, f"no image from the figure cell:\n{cell.source[:300]}"
    # Part 5 draws conv1..conv3 on the test image inside a loop: all three show.
    loop = next(cell for cell in figures if "on the test image" in cell.source)
    assert sum("image/png" in o.get("data", {}) for o in loop.outputs) == 4  # image + 3 maps
    assert (tmp_path / "ablation" / "ablation.md").is_file()
    # Every cell that trains shows a progress bar (tqdm's, or Lightning's), as it goes.
    training = [cell for cell in notebook.cells if "trains" in cell.metadata.get("tags", [])]
    assert len(training) == 3
    for cell in training:
        streamed = "".join(o.get("text", "") for o in cell.outputs if o["output_type"] == "stream")
        assert re.search(r"\d+%\|", streamed), f"no progress bar from:\n{cell.source[:300]}"
    # It ends by classifying image files with the run's checkpoint, as predict.py does.
    rows = (tmp_path / "predictions.csv").read_text().splitlines()
    assert rows[0].startswith("path,class_1,prob_1") and len(rows) == 5

"""Figures in a real Jupyter kernel: each shows where it is drawn, once, inside loops too."""

import nbformat
import pytest
from nbclient import NotebookClient

CELLS = [
    "import torch\nfrom alexnet import AlexNetVisualizer, create_model\n"
    "viz = AlexNetVisualizer(create_model('mini', num_classes=10))",
    # The seed notebook's Part 4: feature maps drawn in a loop inside a function.
    "def draw():\n    for layer in ['features.0', 'features.3', 'features.6']:\n"
    "        viz.plot_feature_maps(torch.rand(3, 64, 64), layer, num_maps=4)\ndraw()",
    "viz.plot_conv_filters('conv1')",  # the cell's value: shown once, not twice
    "figure = viz.plot_conv_filters('conv1', show=False)",
    "figure",  # displayed on purpose in a later cell
]


@pytest.mark.slow
def test_figures_show_where_they_are_drawn():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    images = [
        sum("image/png" in output.get("data", {}) for output in cell.outputs)
        for cell in notebook.cells
    ]
    assert images == [0, 3, 1, 0, 1]

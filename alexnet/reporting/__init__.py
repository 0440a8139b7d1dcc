"""What only the experiments use: their harness (sizes, options, output dirs), run summaries,
statistics, tables, the paper's claims, provenance, and the JPEG folder writer."""

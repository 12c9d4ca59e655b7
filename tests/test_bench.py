"""The benchmark runs (quick mode), so it cannot rot. No timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys


def test_pipeline_benchmark_quick_mode_reports_every_scenario(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "bench",
            "pipeline",
            "--quick",
            "--json",
            "--folder",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    scenarios = [row["scenario"] for row in report["results"]]
    assert scenarios == [
        "passthrough",
        "passthrough",
        "real work (float32 background)",
        "saving (NDTiff)",
        "full (processor + saving)",
    ]
    for row in report["results"]:
        assert row["lost"] == 0
        assert row["MB/s"] > 0 and row["ref MB/s"] > 0 and row["peak MB"] > 0
    assert list(tmp_path.iterdir()) == []  # the benchmark cleans up after itself

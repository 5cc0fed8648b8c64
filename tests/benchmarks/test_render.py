"""BENCHMARKS.md: where each part's figures come from."""
import re

import benchmarks
from benchmarks import render


def test_sections_stamp_each_part_with_the_commit_and_keep_the_others():
    stamped = benchmarks.sections({"sections": {"old": "2026-11-22 10:00 UTC"}}, ["new"], "full")
    assert stamped["old"] == "2026-11-22 10:00 UTC"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC \(full, commit \S+\)", stamped["new"])
    assert benchmarks.commit().split("+")[0] in stamped["new"]


def test_provenance_groups_parts_by_commit_newest_first():
    results = {
        "cnn": {"_meta": {"date": "2026-12-05 01:00 UTC", "commit": "bbb"},
                "sections": {"vgg": "2026-12-05 01:00 UTC (full, commit bbb)", "resnet": "2026-12-05 01:00 UTC",
                             "lenet5": "2026-11-22 13:48 UTC (quick)"}},
        "gnn": {"_meta": {"date": "2026-12-04 09:00 UTC", "commit": "aaa"},
                "sections": {"gcn": "2026-12-04 09:00 UTC (full, commit aaa)"}},
        "edge": {"_meta": {"date": "2026-12-03 08:00 UTC", "commit": "ccc"}},
    }
    rows = [r for r in render._provenance(results) if r.startswith("| ") and "---" not in r][1:]
    assert rows[0] == "| bbb | 2026-12-05 01:00 UTC | cnn: resnet, cnn: vgg |"  # same run as the file's _meta
    assert rows[1] == "| aaa | 2026-12-04 09:00 UTC | gnn: gcn |"
    assert rows[2] == "| ccc | 2026-12-03 08:00 UTC | edge: edge |"
    assert rows[3] == "| not recorded | 2026-11-22 13:48 UTC | cnn: lenet5 (2026-11-22) |"


def test_a_partial_rerun_keeps_the_commit_of_the_parts_it_does_not_rerun(tmp_path, monkeypatch):
    import json

    (tmp_path / "cnn.json").write_text(json.dumps({
        "_meta": {"date": "2026-12-05 01:33 UTC", "commit": "a253637"},
        "sections": {"vgg": "2026-12-05 01:33 UTC (full)", "lenet5": "2026-12-05 01:33 UTC",
                     "resnet": "2026-11-22 13:48 UTC (quick)", "unet": "2026-12-04 10:00 UTC (full, commit fff)"}}))
    monkeypatch.setattr(benchmarks, "RESULTS", tmp_path)
    rerun = benchmarks.sections(benchmarks.previous("cnn"), ["mobilenet_v2"], "full")
    assert rerun["vgg"] == "2026-12-05 01:33 UTC (full, commit a253637)"
    assert rerun["lenet5"] == "2026-12-05 01:33 UTC (commit a253637)"
    assert rerun["resnet"] == "2026-11-22 13:48 UTC (quick)"  # an earlier run's: its commit is not known
    assert rerun["unet"] == "2026-12-04 10:00 UTC (full, commit fff)"
    assert "commit" in rerun["mobilenet_v2"]


def test_each_part_records_how_long_it_took():
    seconds = {}
    with benchmarks.timed(seconds, "gpt"):
        pass
    assert set(seconds) == {"gpt"} and 0 <= seconds["gpt"] < 1
    stamped = benchmarks.sections({}, ["gpt", "usps"], "full", {"gpt": 812.4})
    assert stamped["gpt"].endswith(", 812 s)") and benchmarks.part_seconds(stamped["gpt"]) == 812
    assert benchmarks.part_seconds(stamped["usps"]) is None  # not timed: no seconds claimed
    assert benchmarks.with_commit(stamped["gpt"], {"commit": "zzz"}) == stamped["gpt"]


def test_time_table_lists_parts_and_whole_runs_and_sums_what_is_known():
    results = {
        "rnn": {"_meta": {"date": "2026-12-08 00:46 UTC", "wall_seconds": 300.0, "command": "x"},
                "sections": {"charlm": "2026-12-08 00:16 UTC (commit a, 1554 s)", "forecast": "2026-12-02 10:00 UTC"}},
        "edge": {"_meta": {"date": "2026-12-01 20:18 UTC", "wall_seconds": 403.3,
                           "command": "python -m benchmarks edge"}},
        "demo": {"_meta": {"date": "2026-12-04 22:31 UTC", "wall_seconds": 50.0,
                           "command": "TFMODELS_BENCH_ONLY=first python -m benchmarks demo"}},
    }
    rows = [r for r in render._times(results) if r.startswith("| ") and "---" not in r][1:]
    assert rows[:4] == ["| rnn | charlm | 1554 | 2026-12-08 00:16 UTC |",
                        "| rnn | forecast | not recorded | 2026-12-02 10:00 UTC |",
                        "| edge | (whole run) | 403 | 2026-12-01 20:18 UTC |",
                        "| demo | (whole run) | not recorded | 2026-12-04 22:31 UTC |"]  # a partial run's time
    assert rows[4] == "| **all** | 2 parts not recorded | **1957** (33 min) | |"


def test_commit_is_asked_once_per_run(monkeypatch):
    first = benchmarks.commit()
    monkeypatch.setattr(benchmarks.subprocess, "run", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    assert benchmarks.commit() == first  # a commit made while a run goes on does not restamp its parts

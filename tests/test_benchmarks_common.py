"""benchmarks/_common.py: the timing, memory, machine-header and table helpers."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "_common.py"
_spec = importlib.util.spec_from_file_location("bench_common", _PATH)
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)

# Two logical CPUs in the shape Linux writes them; the second block repeats the first.
CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 fma avx2 avx512f avx512_bf16 amx_bf16 amx_tile avx512vnni

processor\t: 1
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse2 fma avx2 avx512f avx512_bf16 amx_bf16 amx_tile avx512vnni
"""


def test_cpu_info_reads_model_and_only_the_listed_flags(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text(CPUINFO)
    info = common.cpu_info(f)
    assert info["model"] == "Intel(R) Xeon(R) Platinum 8480+"
    # In CPU_FLAGS order; sse2/fpu/avx512vnni are not among the reported flags.
    assert info["flags"] == ("fma", "avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def test_cpu_info_avx2_only_machine_reports_no_bf16(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("model name\t: AMD EPYC 7B12\nflags\t\t: fpu fma avx2 sse4_2\n")
    assert common.cpu_info(f)["flags"] == ("fma", "avx2")


def test_cpu_info_without_proc_falls_back(tmp_path):
    info = common.cpu_info(tmp_path / "missing")
    assert info["flags"] == ()
    assert isinstance(info["model"], str)


def test_machine_header_names_cpu_flags_libraries_and_load(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("model name\t: Test CPU\nflags\t\t: avx2 fma\n")
    header = common.machine_header(f)
    lines = header.splitlines()
    assert all(line.startswith("# ") for line in lines)
    assert "Test CPU" in lines[0] and "flags: fma, avx2" in lines[0]
    assert "numpy " in header and "torch " in header
    assert "load average" in lines[-1]


def test_machine_header_says_when_no_listed_flag_is_present(tmp_path):
    f = tmp_path / "cpuinfo"
    f.write_text("model name\t: Old CPU\nflags\t\t: fpu sse2\n")
    assert "flags: none of fma, avx2" in common.machine_header(f)


def test_best_time_warms_up_and_keeps_the_fastest(monkeypatch):
    calls = []
    # perf_counter readings: each timed call takes (end - start) of consecutive pairs.
    clock = iter([0.0, 5.0, 10.0, 12.0, 20.0, 23.0])
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    t, out = common.best_time(lambda: calls.append(1) or len(calls), repeat=3, warmup=2)
    assert t == 2.0  # the runs took 5, 2 and 3 s
    assert len(calls) == 5 and out == 5  # 2 warm-ups + 3 timed; the last result comes back


def test_best_rate_is_items_over_best_time(monkeypatch):
    clock = iter([0.0, 4.0, 10.0, 12.0])
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(clock))
    rate, _ = common.best_rate(lambda: None, n=10, repeat=2)
    assert rate == pytest.approx(5.0)


def test_peak_rss_is_plausible():
    # A running Python with numpy and pytest holds more than 10 MiB and less than a TiB.
    assert 10 < common.peak_rss_mib() < 2**20


def test_print_table_is_markdown(capsys):
    common.print_table(["method", "images/s", "ratio"],
                       [("ours", 10, common.ratio(1.0, 2.5)), ("peer", 4, "1.00x")])
    assert capsys.readouterr().out.splitlines() == [
        "| method | images/s | ratio |",
        "|---|---:|---:|",
        "| ours | 10 | 2.50x |",
        "| peer | 4 | 1.00x |",
    ]

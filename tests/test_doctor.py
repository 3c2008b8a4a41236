"""`dl-suite doctor`: versions, devices, memory and optional parts, each missing one with its cost."""

import importlib.util
import platform

import keras

from dl_suite import doctor
from dl_suite.cli.main import main


def test_doctor_reports_versions_devices_and_missing_parts(monkeypatch, capsys):
    fake = ("dl_suite_no_such_module", "no-such-dist", "the imaginary widget")
    monkeypatch.setattr(doctor, "OPTIONAL", doctor.OPTIONAL + (fake,))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert f"  Python           {platform.python_version()} " in out
    assert f"  Keras            {keras.__version__}" in lines
    assert f"  Keras backend    {keras.backend.backend()}" in lines
    assert any(line.startswith("  RAM ") and "GiB of" in line for line in lines)
    assert "  no-such-dist             MISSING, disables: the imaginary widget" in lines
    jax_line = next(line for line in lines if line.startswith("  jax "))
    assert ("ok (" in jax_line) == (importlib.util.find_spec("jax") is not None)
    start = lines.index("GPUs visible to the backend")
    visible = doctor.gpus(keras.backend.backend())
    expected = f"  {visible[0]}" if visible else "  none: training and inference run on the CPU"
    assert lines[start + 1] == expected


def test_doctor_says_whether_bfloat16_is_native(monkeypatch, capsys):
    monkeypatch.setattr("dl_suite.precision.has_gpu", lambda: False)
    for flags, expected in (({"avx2", "avx512_bf16"}, "native: the CPU has avx512_bf16; "
                             "mixed_bfloat16_if_native trains in bfloat16 here"),
                            ({"avx2", "fma"}, "emulated (slow): the CPU has no AVX512-BF16 or "
                             "AMX-BF16 (or does not list its flags); mixed_bfloat16_if_native "
                             "trains in float32 here")):
        monkeypatch.setattr("dl_suite.io.provenance_files.cpu_flags", lambda flags=flags: frozenset(flags))
        assert main(["doctor"]) == 0
        lines = capsys.readouterr().out.splitlines()
        start = lines.index("Compute")
        assert lines[start + 1].startswith("  CPU              ") and "logical cores" in lines[start + 1]
        assert lines[start + 2] == f"  bfloat16         {expected}"


def test_doctor_exit_code_names_a_missing_required_package(monkeypatch, capsys):
    monkeypatch.setattr(doctor, "REQUIRED", (("dl_suite_no_such_module", "needed-dist", "everything"),))
    monkeypatch.setattr(doctor, "gpus", lambda backend: ["NVIDIA H200 (140000 MiB free of 143771 MiB)"])
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "  NVIDIA H200 (140000 MiB free of 143771 MiB)" in out.splitlines()
    assert "Missing required package(s): needed-dist." in out

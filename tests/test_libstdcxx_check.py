"""A program must load the libstdc++ its compiler linked it against (libtorch shares it)."""

import shutil
import subprocess

import pytest

from libtorch_bench.libstdcxx_check import OVERRIDE, loaded_libstdcxx, mismatch

pytestmark = pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++")


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prog")
    (folder / "main.cpp").write_text('#include <iostream>\nint main() { std::cout << "ok\\n"; }\n')
    subprocess.run(["g++", "-o", str(folder / "prog"), str(folder / "main.cpp")], check=True)
    return folder / "prog"


def test_the_system_compiler_and_loader_agree(program):
    assert mismatch(program, "g++") == ""


def test_a_compiler_with_its_own_libstdcxx_is_named_with_the_fix(program, tmp_path):
    real = subprocess.run(["g++", "-print-file-name=libstdc++.so.6"], capture_output=True, text=True).stdout.strip()
    own = tmp_path / "opt-gcc" / "lib64"
    own.mkdir(parents=True)
    shutil.copy(real, own / "libstdc++.so.6")
    compiler = tmp_path / "g++"
    compiler.write_text(f"#!/bin/sh\necho {own / 'libstdc++.so.6'}\n")
    compiler.chmod(0o755)
    problem = mismatch(program, str(compiler))
    assert str(own / "libstdc++.so.6") in problem
    assert "CXX=/usr/bin/g++" in problem and OVERRIDE in problem


def test_ldd_output_is_read():
    out = (
        "\tlinux-vdso.so.1 (0x00007ffc)\n\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x7f)\n"
        "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f)\n"
    )
    assert loaded_libstdcxx(out).name.startswith("libstdc++.so.6")
    assert loaded_libstdcxx("\tlibstdc++.so.6 => not found\n") is None
    assert loaded_libstdcxx("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") is None

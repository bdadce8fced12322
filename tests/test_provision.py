"""Provisioning: the wheel table, unknown versions, hash checks, unpacking and local folders."""

import json
import zipfile
from pathlib import Path

import pytest

import provision
from libtorch_source import UnknownVersionError, Wheel, check_versions, read_wheel_table, source_kind
from provision import ProvisionError

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "workflow" / "resources" / "torch_wheels.tsv"


def test_wheel_table_has_the_baseline_and_wellformed_hashes():
    wheels = read_wheel_table(TABLE)
    assert "1.8.1" in wheels
    for w in wheels.values():
        assert len(w.sha256) == 64 and all(c in "0123456789abcdef" for c in w.sha256)
        assert w.filename.startswith(f"torch-{w.version}-") and w.filename.endswith(".whl")


def test_unknown_version_names_known_ones_and_the_fix():
    wheels = read_wheel_table(TABLE)
    with pytest.raises(UnknownVersionError) as err:
        source_kind("9.9.9", wheels, {})
    message = str(err.value)
    assert "9.9.9" in message and "1.8.1" in message and "torch_wheels.tsv" in message
    assert "libtorch.local" in message


def test_local_path_that_does_not_exist_is_refused(tmp_path):
    with pytest.raises(UnknownVersionError, match="does not exist"):
        check_versions(["mine"], {}, {"mine": str(tmp_path / "nowhere")})


def fake_wheel(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def test_sha256_mismatch_is_refused_and_the_file_removed(tmp_path):
    wheel_file = fake_wheel(tmp_path / "torch-0.0.1-x.whl", {"torch/lib/a.so": b"abc"})
    entry = Wheel("0.0.1", "3.9", "manylinux1_x86_64", wheel_file.name, "0" * 64, 3)
    with pytest.raises(ProvisionError, match="sha256 mismatch"):
        provision.verify_wheel(wheel_file, entry)
    assert not wheel_file.exists()


def test_unpack_keeps_only_lib_include_share_and_detects_damage(tmp_path):
    wheel_file = fake_wheel(
        tmp_path / "w.whl",
        {"torch/lib/libx.so": b"x" * 10, "torch/include/a.h": b"//", "torch/share/c.cmake": b"#",
         "torch/__init__.py": b"", "torch-1.dist-info/METADATA": b""},
    )
    dest = tmp_path / "cache" / "libtorch" / "0.0.1"
    provision.unpack_wheel(wheel_file, dest, "f" * 64)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        ".unpacked.json", "include/a.h", "lib/libx.so", "share/c.cmake"]
    assert provision.unpacked_ok(dest)
    (dest / "lib" / "libx.so").write_bytes(b"short")  # a damaged file
    assert not provision.unpacked_ok(dest)
    provision.unpack_wheel(wheel_file, dest, "f" * 64)  # redone
    assert provision.unpacked_ok(dest)
    (dest / provision.UNPACK_MARKER).unlink()  # an unpack that never finished
    assert not provision.unpacked_ok(dest)


def test_interrupted_unpack_leftovers_are_replaced(tmp_path):
    wheel_file = fake_wheel(tmp_path / "w.whl", {"torch/lib/libx.so": b"x"})
    dest = tmp_path / "libtorch" / "v"
    leftover = dest.with_name("v.partial") / "torch" / "lib"
    leftover.mkdir(parents=True)
    (leftover / "junk").write_text("half")
    provision.unpack_wheel(wheel_file, dest, "a" * 64)
    assert provision.unpacked_ok(dest) and not dest.with_name("v.partial").exists()


def installed_as_local_folder(tmp_path):
    """A pre-extracted libtorch folder: the installed torch's lib/ and include/, linked."""
    root, _ = provision.installed_torch_root()
    folder = tmp_path / "my-libtorch"
    folder.mkdir()
    for sub in ("lib", "include"):
        (folder / sub).symlink_to(root / sub)
    return folder


def test_a_pre_extracted_folder_is_used_as_is(tmp_path):
    import torch

    folder = installed_as_local_folder(tmp_path)
    manifest = provision.provision("mine", {"local": {"mine": str(folder)}, "cache_dir": str(tmp_path / "c")}, {})
    assert manifest["source"] == "local"
    assert manifest["version"] == torch.__version__.split("+")[0]
    assert manifest["cxx11_abi"] == torch._C._GLIBCXX_USE_CXX11_ABI
    assert manifest["cxx_standard"] == 17
    assert not (tmp_path / "c").exists()  # nothing downloaded or unpacked


def test_a_folder_that_is_not_libtorch_is_refused(tmp_path):
    with pytest.raises(ProvisionError, match="not a libtorch folder"):
        provision.describe_libtorch(tmp_path)


def test_installed_torch_needs_no_download(tmp_path):
    manifest = provision.provision("installed", {"local": {}, "cache_dir": str(tmp_path / "c")}, {})
    assert manifest["source"] == "installed" and not (tmp_path / "c").exists()
    json.dumps(manifest)  # the manifest is what the build rule reads


def test_download_failure_names_version_and_offline_fix(tmp_path):
    wheels = read_wheel_table(TABLE)
    cfg = {"local": {}, "cache_dir": str(tmp_path), "index_url": "http://127.0.0.1:9/simple"}
    with pytest.raises(ProvisionError) as err:
        provision.provision("1.8.1", cfg, wheels, log=open(tmp_path / "log", "w"))
    assert "1.8.1" in str(err.value) and "libtorch.local" in str(err.value)
    assert not list((tmp_path / "wheels").glob("*.whl"))

"""Provisioning: the wheel tables, unknown versions, hash checks, unpacking, local folders and
the nvidia-* wheels beside the CUDA builds (those libtorch_cpu.so needs, and the whole CUDA
stack where libtorch.cuda_stack fetches it)."""

import json
import zipfile
from pathlib import Path

import pytest
import yaml

from libtorch_bench import cuda_stack, nvidia_libs, provision, wheel_cache
from libtorch_bench.cuda_stack_requirements import META_PACKAGES, walk_stack
from libtorch_bench.libtorch_source import (
    NvidiaWheel,
    UnknownVersionError,
    Wheel,
    check_versions,
    read_nvidia_table,
    read_table_rows,
    read_wheel_table,
    source_kind,
)
from libtorch_bench.provision import ProvisionError

REPO = Path(__file__).resolve().parent.parent
TABLE = REPO / "workflow" / "resources" / "torch_wheels.tsv"


def test_wheel_table_has_every_release_line_with_its_hash_and_size():
    wheels = read_wheel_table(TABLE)
    lines = {tuple(int(p) for p in v.split(".")[:2]) for v in wheels}
    assert {(1, m) for m in range(8, 14)} | {(2, m) for m in range(0, 16)} <= lines  # 1.8 to 2.15
    for w in wheels.values():
        assert len(w.sha256) == 64 and all(c in "0123456789abcdef" for c in w.sha256)
        assert w.filename.startswith(f"torch-{w.version}-") and w.filename.endswith(".whl")
        assert w.size_bytes > 100e6 and w.platform in w.filename
    all_versions = yaml.safe_load((REPO / "config" / "versions-all.yaml").read_text())["libtorch"]["versions"]
    assert set(all_versions) == set(wheels) | {"installed"}  # versions-all.yaml names them all


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
        wheel_cache.verify_wheel(wheel_file, entry)
    assert not wheel_file.exists()


def test_unpack_keeps_only_lib_include_share_and_detects_damage(tmp_path):
    wheel_file = fake_wheel(
        tmp_path / "w.whl",
        {
            "torch/lib/libx.so": b"x" * 10,
            "torch/include/a.h": b"//",
            "torch/share/c.cmake": b"#",
            "torch/__init__.py": b"",
            "torch-1.dist-info/METADATA": b"",
        },
    )
    dest = tmp_path / "cache" / "libtorch" / "0.0.1"
    provision.unpack_wheel(wheel_file, dest, "f" * 64)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == [
        ".unpacked.json",
        "include/a.h",
        "lib/libx.so",
        "share/c.cmake",
    ]
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


# -- nvidia-* wheels beside the CUDA builds' libtorch -------------------------------------------

NVIDIA_TABLE = REPO / "workflow" / "resources" / "nvidia_wheels.tsv"
# As `readelf -d torch/lib/libtorch_cpu.so` prints it for 2.1.2 and 2.5.1 (one entry of the RPATH).
CUDART_RPATH = "$ORIGIN/../../nvidia/cuda_runtime/lib"


def test_nvidia_table_pins_what_the_cuda_builds_need_and_nothing_for_the_others():
    nvidia = read_nvidia_table(NVIDIA_TABLE)
    torch_versions = read_wheel_table(TABLE)
    for version, wheels in nvidia.items():
        assert version in torch_versions
        for w in wheels:
            assert len(w.sha256) == 64 and all(c in "0123456789abcdef" for c in w.sha256)
            assert w.filename.startswith(f"{w.package.replace('-', '_')}-{w.version}-") and w.filename.endswith(".whl")
            # Unpacked under <cache>/libtorch/<version>/: it must stay there (cuSPARSELt 0.6 keeps cusparselt/).
            assert not Path(w.folder).is_absolute() and ".." not in Path(w.folder).parts and w.size_bytes > 0
            assert w.needed_by in ("cpu", "cuda")
    cpu = {v: {(w.package, w.folder) for w in wheels if w.needed_by == "cpu"} for v, wheels in nvidia.items()}
    for version in ("2.1.2", "2.5.1"):
        assert cpu[version] == {
            ("nvidia-cuda-runtime-cu12", "nvidia/cuda_runtime"),
            ("nvidia-cuda-cupti-cu12", "nvidia/cuda_cupti"),
        }
    for version in ("2.11.0", "2.15.0"):  # CUDA 13 builds: both in one folder
        assert cpu[version] == {("nvidia-cuda-runtime", "nvidia/cu13"), ("nvidia-cuda-cupti", "nvidia/cu13")}
    assert not {v for v in torch_versions if v.startswith("1.")} & set(nvidia)  # 1.x bundle their CUDA


def fake_nvidia_wheel(wheel_dir, package, folder, library, needed_by="cpu", extra=None):
    """An nvidia-* wheel holding <folder>/lib/<library>, in the cache's wheels/ (so nothing is
    downloaded), and the table entry that matches it."""
    name = f"{package.replace('-', '_')}-0.1-py3-none-manylinux1_x86_64.whl"
    wheel = fake_wheel(wheel_dir / name, {f"{folder}/lib/{library}": b"c" * 5, **(extra or {})})
    size = wheel.stat().st_size
    return NvidiaWheel(
        "0.0.1", package, "0.1", "manylinux1_x86_64", name, provision.sha256_of(wheel), size, folder, needed_by
    )


def fake_cuda_build(tmp_path):
    """A torch wheel and the nvidia wheel it needs, with a table entry that matches it."""
    torch_wheel = fake_wheel(
        tmp_path / "torch-0.0.1-x.whl", {"torch/lib/libtorch_cpu.so": b"t" * 7, "torch/include/a.h": b"//"}
    )
    wheel_dir = tmp_path / "cache" / "wheels"
    wheel_dir.mkdir(parents=True)
    extra = {"nvidia/__init__.py": b"", "nvidia/cuda_runtime/include/cuda.h": b"//"}
    entry = fake_nvidia_wheel(
        wheel_dir, "nvidia-cuda-runtime-cu12", "nvidia/cuda_runtime", "libcudart.so.12", "cpu", extra
    )
    cfg = {"local": {}, "cache_dir": str(tmp_path / "cache"), "index_url": "http://127.0.0.1:9/simple"}
    return torch_wheel, entry, cfg


def test_a_needed_nvidia_wheel_is_unpacked_where_the_torch_rpath_looks(tmp_path):
    torch_wheel, entry, cfg = fake_cuda_build(tmp_path)
    root, _, pins = provision.provision_wheel("0.0.1", cfg, None, torch_wheel, [entry], open(tmp_path / "log", "w"))
    assert root == tmp_path / "cache" / "libtorch" / "0.0.1" / "torch"  # the manifest's root
    cudart = Path(CUDART_RPATH.replace("$ORIGIN", str(root / "lib"))) / "libcudart.so.12"
    assert cudart.is_file() and cudart.stat().st_mode & 0o111
    nvidia_dir = root.parent / "nvidia" / "cuda_runtime"
    assert sorted(p.relative_to(nvidia_dir).as_posix() for p in nvidia_dir.rglob("*") if p.is_file()) == [
        ".unpacked.json",
        "lib/libcudart.so.12",
    ]  # lib/ only: nothing compiles against CUDA
    assert pins == ["nvidia-cuda-runtime-cu12==0.1"]
    assert not (tmp_path / "cache" / "wheels" / entry.filename).exists()  # keep_wheels is off
    # Unpacked once: a second run needs neither wheel (the index is unreachable).
    torch_wheel.unlink()
    assert provision.provision_wheel("0.0.1", cfg, None, None, [entry], open(tmp_path / "log", "w"))[0] == root


def test_an_nvidia_wheel_with_another_hash_is_refused_and_removed(tmp_path):
    torch_wheel, entry, cfg = fake_cuda_build(tmp_path)
    wrong = NvidiaWheel(**{**entry.__dict__, "sha256": "0" * 64})
    with pytest.raises(ProvisionError) as err:
        provision.provision_wheel("0.0.1", cfg, None, torch_wheel, [wrong], open(tmp_path / "log", "w"))
    message = str(err.value)
    assert "sha256 mismatch" in message and entry.filename in message and "libtorch 0.0.1" in message
    assert "nvidia_wheels.tsv" in message
    assert not (tmp_path / "cache" / "wheels" / entry.filename).exists()
    assert not (tmp_path / "cache" / "libtorch" / "0.0.1" / "nvidia" / "cuda_runtime").exists()


def test_an_nvidia_wheel_that_cannot_be_downloaded_names_the_offline_fix(tmp_path):
    torch_wheel, entry, cfg = fake_cuda_build(tmp_path)
    (tmp_path / "cache" / "wheels" / entry.filename).unlink()
    with pytest.raises(ProvisionError) as err:
        provision.provision_wheel("0.0.1", cfg, None, torch_wheel, [entry], open(tmp_path / "log", "w"))
    message = str(err.value)
    assert "could not download" in message and "nvidia-cuda-runtime-cu12==0.1" in message
    assert str(tmp_path / "cache" / "wheels") in message


def test_a_version_that_needs_no_nvidia_wheel_fetches_none(tmp_path):
    torch_wheel, _, cfg = fake_cuda_build(tmp_path)
    needed = read_nvidia_table(NVIDIA_TABLE).get("1.8.1", [])
    root, _, pins = provision.provision_wheel("1.8.1", cfg, None, torch_wheel, needed, open(tmp_path / "log", "w"))
    assert pins == [] and not (root.parent / "nvidia").exists()


def test_a_cache_in_the_old_flat_layout_is_moved_not_unpacked_again(tmp_path):
    torch_wheel, _, cfg = fake_cuda_build(tmp_path)
    version_dir = tmp_path / "cache" / "libtorch" / "0.0.1"
    provision.unpack_wheel(torch_wheel, version_dir, "f" * 64)  # how caches were laid out before
    torch_wheel.unlink()  # so a new unpack would fail
    root, digest, _ = provision.provision_wheel("0.0.1", cfg, None, None, [], open(tmp_path / "log", "w"))
    assert root == version_dir / "torch" and digest == "f" * 64 and provision.unpacked_ok(root)
    assert sorted(p.name for p in version_dir.iterdir()) == ["torch"]


def library_needing_a_missing_one(lib_dir, name):
    """lib_dir/name, a shared library that NEEDs libnvfake.so.12, which is not there."""
    import subprocess

    work = lib_dir.parent
    (work / "empty.c").write_text("int nvfake(void) { return 0; }\n")
    cc = ["cc", "-shared", "-fPIC", str(work / "empty.c")]
    subprocess.run([*cc, "-Wl,-soname,libnvfake.so.12", "-o", str(work / "libnvfake.so.12")], check=True)
    lib_dir.mkdir(exist_ok=True)
    subprocess.run([*cc, "-Wl,--no-as-needed", str(work / "libnvfake.so.12"), "-o", str(lib_dir / name)], check=True)
    (work / "libnvfake.so.12").unlink()


def test_a_library_the_loader_cannot_find_is_named(tmp_path):
    """A libtorch_cpu.so that NEEDs a library that is not there, as 2.1.2's did before the nvidia wheels."""
    library_needing_a_missing_one(tmp_path / "lib", "libtorch_cpu.so")
    assert "libnvfake.so.12" in nvidia_libs.unresolved_libraries(tmp_path / "lib")


def test_wheels_that_share_a_folder_are_merged_not_replaced(tmp_path):
    """The CUDA 13 runtime and CUPTI wheels both keep their libraries in nvidia/cu13/lib."""
    wheel_dir = tmp_path / "cache" / "wheels"
    wheel_dir.mkdir(parents=True)
    entries = [
        fake_nvidia_wheel(wheel_dir, package, "nvidia/cu13", lib)
        for package, lib in (("nvidia-cuda-runtime", "libcudart.so.13"), ("nvidia-cuda-cupti", "libcupti.so.13"))
    ]
    version_dir = tmp_path / "cache" / "libtorch" / "0.0.1"
    nvidia_libs.provision_nvidia_wheels(entries, version_dir, wheel_dir, "http://127.0.0.1:9/simple")
    lib = version_dir / "nvidia" / "cu13" / "lib"
    assert sorted(p.name for p in lib.iterdir()) == ["libcudart.so.13", "libcupti.so.13"]
    # both stay unpacked: a second provisioning needs neither wheel (the index is unreachable)
    nvidia_libs.provision_nvidia_wheels(entries, version_dir, wheel_dir, "http://127.0.0.1:9/simple")
    assert sorted(p.name for p in lib.iterdir()) == ["libcudart.so.13", "libcupti.so.13"]


def test_a_full_disk_names_the_cache_and_leaves_nothing_to_trust(tmp_path, monkeypatch):
    import errno

    wheel_file = fake_wheel(tmp_path / "w.whl", {"torch/lib/libc10.so": b"x" * 10, "torch/include/a.h": b"//"})
    dest = tmp_path / "cache" / "libtorch" / "v" / "torch"

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "extract", full)
    with pytest.raises(ProvisionError) as err:
        wheel_cache.unpack_wheel(wheel_file, dest, "f" * 64)
    assert str(dest) in str(err.value) and "full" in str(err.value) and "clean-cache" in str(err.value)
    assert not wheel_cache.unpacked_ok(dest) and not dest.with_name("torch.partial").exists()


def test_clean_cache_keeps_only_the_configured_releases(tmp_path):
    from libtorch_bench.cache import configured, reclaim

    root = tmp_path / "cache"
    for version in ("1.8.1", "2.1.2", "2.15.0"):
        (root / "libtorch" / version / "torch" / "lib").mkdir(parents=True)
        (root / "libtorch" / version / "torch" / "lib" / "libc10.so").write_bytes(b"x" * 100)
    (root / "libtorch" / "2.1.2" / "nvidia" / "cublas" / "lib").mkdir(parents=True)  # its CUDA stack goes with it
    (root / "libtorch" / "2.1.2" / "nvidia" / "cublas" / "lib" / "libcublas.so.12").write_bytes(b"x" * 50)
    (root / "wheels").mkdir()
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"libtorch": {"versions": ["1.8.1", "installed"], "cache_dir": str(root)}}))
    versions, found = configured([str(config)])
    assert found == root and versions == ["1.8.1", "installed"]
    assert {p.name: size for p, size in reclaim(root, set(versions), dry_run=True)} == {
        "2.1.2": 150,
        "2.15.0": 100,
        "wheels": 0,
    }
    assert sorted(p.name for p in (root / "libtorch").iterdir()) == ["1.8.1", "2.1.2", "2.15.0"]  # a dry run
    reclaim(root, set(versions))
    assert sorted(p.name for p in (root / "libtorch").iterdir()) == ["1.8.1"] and not (root / "wheels").exists()


# -- the whole CUDA stack (libtorch.cuda_stack) -------------------------------------------------

REQUIREMENTS = REPO / "workflow" / "resources" / "torch_requirements.tsv"


def test_the_stack_table_answers_each_releases_recorded_requirements():
    """Every 2.x release tables exactly the nvidia-* wheels that its torch wheel's Requires-Dist
    leads to on Linux x86_64 (torch_requirements.tsv, as read from the index), one per package,
    each at a version its requirements allow."""
    torch_wheels = read_wheel_table(TABLE)
    nvidia = read_nvidia_table(NVIDIA_TABLE)
    recorded = read_table_rows(REQUIREMENTS)
    releases = [v for v in torch_wheels if not v.startswith("1.")]
    assert set(nvidia) == set(releases) == {r["torch_version"] for r in recorded}
    for version in releases:
        rows = [r for r in recorded if r["torch_version"] == version]
        tabled = {w.package: w.version for w in nvidia[version]}
        assert len(tabled) == len(nvidia[version]), f"{version}: a package tabled twice"
        versions = {**{r["package"]: r["version"] for r in rows}, **tabled}  # cuda-toolkit: as recorded

        def lines(package, at, rows=rows):
            return [r["requirement"] for r in rows if (r["package"], r["version"]) == (package, at)]

        def pick(name, _, versions=versions):
            return versions[name]  # a KeyError names a required package the table lacks

        reached, _ = walk_stack(version, torch_wheels[version].python_version, lines, pick)
        assert {p: v for p, v in reached.items() if p not in META_PACKAGES} == tabled, version
        assert {w.needed_by for w in nvidia[version]} == {"cpu", "cuda"}
    # What a Requires-Dist of torch alone would miss: 2.1.2's cuSPARSE needs nvJitLink; the CUDA
    # 13 builds name cuBLAS only through cuda-toolkit[cublas].
    assert "nvidia-nvjitlink-cu12" in {w.package for w in nvidia["2.1.2"]}
    assert {"nvidia-cublas", "nvidia-cusparse"} <= {w.package for w in nvidia["2.13.0"]}


@pytest.mark.parametrize(
    "mode, devices, gpu, fetch",
    [
        ("auto", ["cpu", "cuda"], True, True),
        ("auto", ["cpu", "cuda"], False, False),  # this machine's default run
        ("auto", ["cuda:1"], True, True),
        ("auto", ["cpu"], True, False),
        ("always", ["cpu"], False, True),
        ("never", ["cuda"], True, False),
    ],
)
def test_the_stack_is_fetched_where_a_cuda_device_is_configured_and_the_node_has_a_gpu(mode, devices, gpu, fetch):
    asked = []

    def probe():
        asked.append(True)
        return gpu

    fetched, why = cuda_stack.fetch_cuda_stack(mode, devices, probe)
    assert fetched is fetch and mode in why
    assert bool(asked) == (mode == "auto" and cuda_stack.wants_cuda(devices))  # the node is asked only then


def test_a_node_has_a_gpu_when_nvidia_smi_lists_one_or_the_driver_loads(tmp_path, monkeypatch):
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: GPU-0)'\n")
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    libraries = []
    monkeypatch.setattr(cuda_stack.ctypes, "CDLL", lambda name: libraries.append(name) or object())
    assert cuda_stack.node_has_gpu() and libraries == []
    smi.write_text("#!/bin/sh\necho 'No devices were found'\nexit 6\n")  # a driver without a GPU
    assert cuda_stack.node_has_gpu() and libraries == ["libcuda.so.1"]

    def no_driver(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(cuda_stack.ctypes, "CDLL", no_driver)
    assert not cuda_stack.node_has_gpu()


def fake_cuda_stack(tmp_path):
    """fake_cuda_build's torch wheel with a release table of its runtime (cpu) and cuBLAS (cuda)."""
    torch_wheel, runtime, cfg = fake_cuda_build(tmp_path)
    wheel_dir = tmp_path / "cache" / "wheels"
    cublas = fake_nvidia_wheel(wheel_dir, "nvidia-cublas-cu12", "nvidia/cublas", "libcublas.so.12", "cuda")
    return torch_wheel, {"0.0.1": [runtime, cublas]}, {**cfg, "local": {"0.0.1": str(torch_wheel)}}


@pytest.mark.parametrize("mode, devices", [("auto", ["cpu"]), ("never", ["cuda"]), ("always", ["cpu"])])
def test_the_default_run_fetches_what_libtorch_cpu_needs_and_the_stack_only_when_asked(tmp_path, mode, devices):
    _, nvidia, cfg = fake_cuda_stack(tmp_path)
    cfg = {**cfg, "cuda_stack": mode}
    with pytest.raises(ProvisionError, match="not a libtorch folder"):  # a fake torch: stops after unpacking
        provision.provision("0.0.1", cfg, {}, open(tmp_path / "log", "w"), nvidia, devices)
    nvidia_dir = tmp_path / "cache" / "libtorch" / "0.0.1" / "nvidia"
    assert (nvidia_dir / "cuda_runtime" / "lib" / "libcudart.so.12").is_file()
    assert (nvidia_dir / "cublas" / "lib" / "libcublas.so.12").is_file() is (mode == "always")
    assert ("CUDA stack fetched" in (tmp_path / "log").read_text()) is (mode == "always")


def write_tables(folder, nvidia):
    """A torch table with no rows (the torch wheel is libtorch.local's) and an nvidia table of these rows."""
    import csv
    import dataclasses

    folder.mkdir()
    (folder / "torch.tsv").write_text("version\tpython_version\tplatform\tfilename\tsha256\tsize_bytes\n")
    rows = [dataclasses.asdict(w) for wheels in nvidia.values() for w in wheels]
    with open(folder / "nvidia.tsv", "w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]), delimiter="\t", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return folder / "torch.tsv", folder / "nvidia.tsv"


@pytest.mark.parametrize("damage", ["corrupted", "cut short"])
def test_a_damaged_stack_wheel_fails_its_release_with_the_cause_and_the_fix(tmp_path, damage):
    _, nvidia, cfg = fake_cuda_stack(tmp_path)
    cublas = nvidia["0.0.1"][1]
    wheel = tmp_path / "cache" / "wheels" / cublas.filename
    data = wheel.read_bytes()
    middle = len(data) // 2
    flipped = data[:middle] + bytes([data[middle] ^ 1]) + data[middle + 1 :]
    wheel.write_bytes(data[:middle] if damage == "cut short" else flipped)
    torch_table, nvidia_table = write_tables(tmp_path / "tables", nvidia)
    cfg = {**cfg, "cuda_stack": "always"}
    manifest = provision.manifest_for("0.0.1", cfg, torch_table, nvidia_table, open(tmp_path / "log", "w"), ["cuda"])
    assert manifest["status"] == "failed"  # recorded: the other releases go on
    reason = manifest["reason"]
    assert "sha256 mismatch" in reason and cublas.filename in reason and "libtorch 0.0.1" in reason
    assert "cuda_stack: never" in reason and "nvidia_wheels.tsv" in reason  # the fixes
    assert not wheel.exists()  # the next run downloads it again
    assert not (tmp_path / "cache" / "libtorch" / "0.0.1" / "nvidia" / "cublas").exists()  # nothing half-unpacked


def test_a_full_disk_while_unpacking_the_stack_fails_its_release_and_keeps_nothing_of_it(tmp_path, monkeypatch):
    import errno

    _, nvidia, cfg = fake_cuda_stack(tmp_path)
    extract = zipfile.ZipFile.extract

    def full_on_cublas(self, member, *args, **kwargs):
        if "cublas" in member.filename:
            raise OSError(errno.ENOSPC, "No space left on device")
        return extract(self, member, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "extract", full_on_cublas)
    with pytest.raises(ProvisionError) as err:
        provision.provision("0.0.1", {**cfg, "cuda_stack": "always"}, {}, open(tmp_path / "log", "w"), nvidia)
    assert "full" in str(err.value) and "cuda_stack" in str(err.value)
    nvidia_dir = tmp_path / "cache" / "libtorch" / "0.0.1" / "nvidia"
    assert sorted(p.name for p in nvidia_dir.iterdir()) == ["cuda_runtime"]  # no cublas, no cublas.partial
    assert wheel_cache.unpacked_ok(nvidia_dir / "cuda_runtime")


def test_a_library_that_libtorch_cuda_still_misses_is_named_once_the_stack_is_fetched(tmp_path):
    lib = tmp_path / "torch" / "lib"
    (tmp_path / "torch").mkdir()
    library_needing_a_missing_one(lib, "libtorch_cuda.so")
    provision.check_libraries_resolve("0.0.1", lib, cuda=False)  # without the stack, only the CUDA cells miss it
    with pytest.raises(ProvisionError) as err:
        provision.check_libraries_resolve("0.0.1", lib, cuda=True)
    message = str(err.value)
    assert "libtorch_cuda.so" in message and "libnvfake.so.12" in message and "libtorch 0.0.1" in message
    assert "pin_nvidia_wheels" in message and "cuda_stack: never" in message

"""Which nvidia-* wheels make up a torch release's CUDA stack: the packages reached from the
torch wheel's Requires-Dist, on Linux x86_64, through nvidia-* packages and the cuda-toolkit
meta-package (the CUDA 13 builds take the toolkit's libraries through its extras,
`cuda-toolkit[cublas,cudart,...]`). A requirement only an nvidia-* package states is followed
too: 2.1.2's cuSPARSE needs nvJitLink, which torch does not name.

The walk is the same whether the requirements come from the index (pin_nvidia_wheels.py, which
picks the versions) or from the recorded workflow/resources/torch_requirements.tsv (the test,
which takes them from nvidia_wheels.tsv)."""

from collections import deque

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

META_PACKAGES = ("cuda-toolkit",)  # followed, but they hold no library: not fetched
# What libtorch_cpu.so itself needs (libcudart, libcupti): fetched on every run. The rest of
# the stack only libtorch_cuda.so needs, fetched by libtorch.cuda_stack.
CPU_PACKAGES = ("nvidia-cuda-runtime", "nvidia-cuda-cupti")


class StackConflict(ValueError):
    pass


def in_stack(name):
    name = canonicalize_name(name)
    return name.startswith("nvidia-") or name in META_PACKAGES


def needed_by(package):
    """'cpu' for the wheels libtorch_cpu.so needs to load, 'cuda' for the rest of the stack."""
    base = canonicalize_name(package).removesuffix("-cu11").removesuffix("-cu12").removesuffix("-cu13")
    return "cpu" if base in CPU_PACKAGES else "cuda"


def linux_x86_64(python_version, extra=""):
    """The marker environment of a Linux x86_64 CPython of this version (e.g. '3.11')."""
    return {
        **default_environment(),
        "os_name": "posix",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "implementation_name": "cpython",
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
        "extra": extra,
    }


def applies(requirement, python_version, extras=()):
    """Whether pip would install this requirement on Linux x86_64 for a package installed
    with these extras (a marker without `extra` holds for every one of them)."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate(linux_x86_64(python_version, e)) for e in ("", *extras))


def walk_stack(torch_version, python_version, requirements_of, pick):
    """Breadth first from torch: torch's own pins come before what a dependency asks for.

    requirements_of(package, version) -> its Requires-Dist lines; pick(package, specifier) ->
    the version to take. Returns ({package: version} of every stack package reached, the
    [(package, version, line)] stack lines of each package visited, whether they apply or not).
    A version that another requirement then rules out raises StackConflict."""
    versions = {"torch": torch_version}
    lines, visited = [], set()
    queue = deque([("torch", frozenset())])
    while queue:
        package, extras = queue.popleft()
        if (package, extras) in visited:
            continue
        first_visit = not any(p == package for p, _ in visited)
        visited.add((package, extras))
        for line in requirements_of(package, versions[package]):
            requirement = Requirement(line)
            if not in_stack(requirement.name):
                continue
            if first_visit:
                lines.append((package, versions[package], line))
            if not applies(requirement, python_version, extras):
                continue
            name = canonicalize_name(requirement.name)
            if name not in versions:
                versions[name] = pick(name, requirement.specifier)
            if not requirement.specifier.contains(versions[name], prereleases=True):
                raise StackConflict(
                    f"torch {torch_version}: {package} {versions[package]} requires {line!r}, "
                    f"but {name} {versions[name]} was taken"
                )
            queue.append((name, frozenset(requirement.extras)))
    del versions["torch"]
    return versions, lines

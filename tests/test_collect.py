"""Collecting a matrix's artifacts (release.collect, release.wheels): wheel patterns, the
expected set from `wheels` or `[tool.cibuildwheel]`, the checks against the tag, and an
index whose simple page lags behind the uploads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import test_ci
from conftest import both
from indexes import listed_files
from packaging.version import Version

from release.collect import CollectError, collect
from release.wheels import Expected, compare, expand, expected, from_cibuildwheel

pytestmark = pytest.mark.cached_samples

tagged = test_ci.tagged  # the fixture: a tagged sample project, its index behind a proxy


def test_brace_expansion() -> None:
    assert expand("cp3{10..12}-*") == ["cp310-*", "cp311-*", "cp312-*"]
    assert expand("*-{manylinux,musllinux}_*_x86_64") == [
        "*-manylinux_*_x86_64", "*-musllinux_*_x86_64"]
    with pytest.raises(ValueError, match="neither a range"):
        expand("cp{3}-x")
    with pytest.raises(ValueError, match="unbalanced"):
        expand("cp3{10-x")


def test_compare_lists_missing_patterns_and_extra_wheels() -> None:
    wheels = ["x-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
              "x-1.0-cp312-cp312-win_amd64.whl", "x-1.0-cp312-cp312-win32.whl"]
    result = compare(wheels, ["cp31{2,3}-manylinux_*_x86_64", "*-win_amd64"])
    assert result.missing == ["cp313-manylinux_*_x86_64"]
    assert result.extra == ["x-1.0-cp312-cp312-win32.whl"]
    assert result.matched["*-win_amd64"] == ["x-1.0-cp312-cp312-win_amd64.whl"]
    assert compare(wheels[:1], ["cp312-abi3-manylinux_*_x86_64"]).missing == [
        "cp312-abi3-manylinux_*_x86_64"]


def test_the_expected_set_from_cibuildwheel_only_when_unambiguous() -> None:
    derived = from_cibuildwheel({
        "build": "cp3{11,12}-manylinux_x86_64 cp312-macosx_arm64 cp312-win_amd64 cp313t-win_amd64",
        "skip": "cp311-*", "windows": {"archs": ["x86"]}})
    assert derived.patterns == ("cp312-manylinux_*_x86_64", "cp312-macosx_*_arm64")
    assert "build" in derived.source
    vague = from_cibuildwheel({"build": "cp3*-*"})
    assert vague.patterns == ()
    assert "wildcards" in vague.source
    assert from_cibuildwheel({"skip": "pp*"}).patterns == ()
    assert expected(["*-win_amd64"], {"tool": {"cibuildwheel": {"build": "cp312-win32"}}}
                    ).patterns == ("*-win_amd64",)
    assert expected(None, {"tool": {"cibuildwheel": {"build": "cp313t-win32"}}}).patterns == (
        "cp313-cp313t-win32",)


BUILD = "cp3{11,12}-manylinux_x86_64 cp312-manylinux_aarch64 cp312-macosx_arm64 cp312-win_amd64"


@pytest.mark.parametrize(("table", "patterns", "used"), [
    # a platform's own `build` replaces the top-level one there, and only there
    ({"build": BUILD, "windows": {"build": "cp313-win_amd64 cp313-win32"}},
     ("cp311-manylinux_*_x86_64", "cp312-manylinux_*_x86_64", "cp312-manylinux_*_aarch64",
      "cp312-macosx_*_arm64", "cp313-win_amd64", "cp313-win32"), "build, windows.build"),
    # ... and so does its `skip` (replaced, not added to)
    ({"build": BUILD, "skip": "cp311-* *-win*", "linux": {"skip": "*_aarch64"}},
     ("cp311-manylinux_*_x86_64", "cp312-manylinux_*_x86_64", "cp312-macosx_*_arm64"),
     "build, linux.skip, skip"),
    # ... and its `archs`; `all` keeps every architecture
    ({"build": BUILD, "archs": ["x86_64"], "linux": {"archs": "aarch64"},
      "windows": {"archs": "all"}},
     ("cp312-manylinux_*_aarch64", "cp312-win_amd64"), "build, linux.archs, archs"),
    # a platform's `build` names only its own identifiers
    ({"linux": {"build": "cp312-manylinux_x86_64 cp312-win_amd64"},
      "build": "cp312-macosx_arm64 cp312-win_amd64"},
     ("cp312-manylinux_*_x86_64", "cp312-macosx_*_arm64", "cp312-win_amd64"),
     "linux.build, build"),
    # a platform skipped whole needs no `build`; platforms only built on request none
    ({"linux": {"build": "cp312-manylinux_x86_64"}, "skip": "*-win* *-macosx_*"},
     ("cp312-manylinux_*_x86_64",), "linux.build"),
    # an override that sets no selecting option changes no wheel
    ({"build": "cp312-win_amd64", "overrides": [{"select": "cp312-*", "before-all": "true"}]},
     ("cp312-win_amd64",), "build"),
    # the example of docs/configuration.md
    ({"build": "cp3{12,13}-manylinux_{x86_64,aarch64} cp3{12,13}-macosx_arm64",
      "skip": "cp313-macosx_*", "linux": {"archs": ["x86_64"]},
      "windows": {"build": "cp313-win_amd64"}},
     ("cp312-manylinux_*_x86_64", "cp313-manylinux_*_x86_64", "cp312-macosx_*_arm64",
      "cp313-win_amd64"), "build, linux.archs, skip, windows.build"),
    # wheels of the platforms whose tags carry a version
    ({"build": "cp313-ios_arm64_iphoneos cp313-android_arm64_v8a cp312-pyodide_wasm32"},
     ("cp313-ios_*_arm64_iphoneos", "cp313-android_*_arm64_v8a", "cp312-pyodide_*_wasm32"),
     "build"),
], ids=["build", "skip", "archs", "own-identifiers", "skipped-platform", "override",
        "docs-example", "versioned-tags"])
def test_the_expected_set_reads_each_platforms_options(
        table: dict[str, object], patterns: tuple[str, ...], used: str) -> None:
    derived = from_cibuildwheel(table)
    assert derived.patterns == patterns, derived.source
    assert derived.source == f"derived from [tool.cibuildwheel] ({used})"


def test_the_derived_set_keeps_the_pythons_of_requires_python() -> None:
    pyproject = {"project": {"requires-python": ">=3.11"},
                 "tool": {"cibuildwheel": {"build": "cp3{10..12}-win_amd64 cp311t-win_amd64"}}}
    derived = expected(None, pyproject)
    assert derived.patterns == ("cp311-win_amd64", "cp312-win_amd64", "cp311-cp311t-win_amd64")
    assert derived.source.endswith("and requires-python = '>=3.11'")
    assert from_cibuildwheel({"build": "cp310-win_amd64"}, ">=3.11").patterns == ()


def test_the_versioned_identifier_patterns_match_real_wheels() -> None:
    derived = from_cibuildwheel({"build": "cp313-ios_arm64_iphoneos cp313-android_x86_64"})
    wheels = ["x-1.0-cp313-cp313-ios_13_0_arm64_iphoneos.whl",
              "x-1.0-cp313-cp313-android_24_x86_64.whl"]
    assert compare(wheels, derived.patterns).missing == []


@pytest.mark.parametrize(("table", "environ", "says"), [
    ({"build": BUILD, "linux": {"archs": "auto"}}, {},
     "[tool.cibuildwheel.linux] archs = 'auto' leaves the Linux architectures to the machine"),
    ({"build": BUILD, "archs": ["native"]}, {},
     "[tool.cibuildwheel] archs = 'native' leaves the Linux architectures"),
    ({"build": BUILD, "overrides": [{"select": "cp311-*", "skip": "*"}]}, {},
     "[[tool.cibuildwheel.overrides]] with select = 'cp311-*' sets `skip`, which cibuildwheel "
     "does not take from an override"),
    ({"build": BUILD, "macos": {"build": "cp312-macosx_*"}}, {},
     "[tool.cibuildwheel.macos] build = 'cp312-macosx_*' uses wildcards (cp312-macosx_*): "
     "the macOS wheels"),
    ({"linux": {"build": "cp312-manylinux_x86_64"}}, {},
     "no `build` for macOS (neither [tool.cibuildwheel.macos] nor [tool.cibuildwheel]"),
    ({"build": BUILD}, {"CIBW_SKIP": ""},
     "the environment sets CIBW_SKIP (= ''), which cibuildwheel takes over"),
    ({"build": BUILD}, {"CIBW_ARCHS_LINUX": "aarch64"}, "CIBW_ARCHS_LINUX"),
    ({"build": BUILD}, {"CIBW_PROJECT_REQUIRES_PYTHON": ">=3.12"},
     "CIBW_PROJECT_REQUIRES_PYTHON"),
], ids=["platform-archs-auto", "archs-native", "override-skip", "platform-wildcards",
        "platform-without-build", "env-skip", "env-platform-archs", "env-requires-python"])
def test_no_set_is_derived_where_cibuildwheel_would_decide_more(
        table: dict[str, object], environ: dict[str, str], says: str) -> None:
    derived = expected(None, {"tool": {"cibuildwheel": table}}, environ)
    assert derived.patterns == ()
    assert says in derived.source
    # without the ambiguity the same table (or an environment without CIBW_*) derives a set
    assert expected(None, {"tool": {"cibuildwheel": {"build": BUILD}}}, {"PATH": "/bin"}
                    ).patterns


METADATA = """\
Metadata-Version: 2.1
Name: rp-tiny
Version: 0.1.0
Summary: tiny
Requires-Python: >=3.8
Description-Content-Type: text/markdown

rp-tiny
"""


def write_sdist(path: Path, metadata: str = METADATA) -> Path:
    import io
    import tarfile

    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, text in (("PKG-INFO", metadata), ("README.md", "rp-tiny\n")):
            data = text.encode()
            info = tarfile.TarInfo(f"rp_tiny-0.1.0/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def write_wheel(where: Path, tags: str, metadata: str = METADATA) -> Path:
    """A wheel of rp-tiny 0.1.0 for ``tags`` (python-abi-platform), its metadata ``metadata``."""
    import zipfile

    where.mkdir(parents=True, exist_ok=True)
    path = where / f"rp_tiny-0.1.0-{tags}.whl"
    info = "rp_tiny-0.1.0.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("rp_tiny/__init__.py", "")
        wheel.writestr(f"{info}/METADATA", metadata)
        wheel.writestr(f"{info}/WHEEL",
                       f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tags}\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


def jobs(tmp_path: Path, *platforms: str) -> list[Path]:
    """The artifact directories of an sdist job and one wheel job per platform."""
    write_sdist(tmp_path / "sdist-job" / "rp_tiny-0.1.0.tar.gz")
    out = [tmp_path / "sdist-job"]
    for platform in platforms:
        write_wheel(tmp_path / f"wheels-{platform}", f"cp312-cp312-{platform}")
        out.append(tmp_path / f"wheels-{platform}")
    return out


def test_collect_gathers_checks_and_copies(tmp_path: Path) -> None:
    sources = jobs(tmp_path, "manylinux_2_17_x86_64", "win_amd64", "win32")
    dest = tmp_path / "dist"
    done = collect(sources, "rp-tiny", Version("0.1.0"), dest,
                   Expected(("*-manylinux_*_x86_64", "*-win_amd64"), "[tool.release] wheels"))
    assert sorted(done.files) == sorted(p.name for p in dest.iterdir())
    assert len(done.files) == 4
    assert any("win32" in w and "unexpected" in w for w in done.warnings)


def test_a_missing_wheel_stops_and_names_it(tmp_path: Path) -> None:
    sources = jobs(tmp_path, "manylinux_2_17_x86_64")
    dest = tmp_path / "dist"
    with pytest.raises(CollectError) as caught:
        collect(sources, "rp-tiny", Version("0.1.0"), dest,
                Expected(("*-manylinux_*_x86_64", "*-macosx_*_arm64"), "[tool.release] wheels"))
    assert "*-macosx_*_arm64" in caught.value.message
    assert "manylinux" not in caught.value.message.split("no wheel matches")[1].split("\n")[0]
    assert not dest.exists(), "nothing is copied from an incomplete release"


def test_the_wrong_version_and_a_same_name_conflict_are_refused(tmp_path: Path) -> None:
    sources = jobs(tmp_path, "win_amd64")
    with pytest.raises(CollectError, match=r"the tag 9\.9"):
        collect(sources, "rp-tiny", Version("9.9"), tmp_path / "d1", Expected((), ""))
    other = write_sdist(tmp_path / "other-job" / "rp_tiny-0.1.0.tar.gz",
                        METADATA.replace("tiny\n", "other\n"))
    with pytest.raises(CollectError, match="different contents"):
        collect([*sources, other.parent], "rp-tiny", Version("0.1.0"), tmp_path / "d2",
                Expected((), ""))


def test_a_wheel_whose_metadata_differs_from_the_sdist_is_refused(tmp_path: Path) -> None:
    sources = jobs(tmp_path)
    wheel = write_wheel(tmp_path / "wheel-job", "cp312-cp312-win_amd64",
                        METADATA.replace("Summary", "Requires-Dist: evil\nSummary"))
    with pytest.raises(CollectError, match="differs from the sdist's: Requires-Dist"):
        collect([*sources, wheel.parent], "rp-tiny", Version("0.1.0"), tmp_path / "d",
                Expected((), ""))
    done = collect(jobs(tmp_path / "ok", "win_amd64"), "rp-tiny", Version("0.1.0"),
                   tmp_path / "ok-dist", Expected((), ""))
    assert len(done.files) == 2
    assert any("no expected set" in w for w in done.warnings)


def test_a_simple_page_that_lags_behind_the_uploads_is_no_false_failure(
        tagged: Callable[..., test_ci.Tagged]) -> None:
    t = tagged()
    t.proxy.serve_stale_pages(3.0)
    checkout = t.checkout("job")
    result = t.ci(checkout)
    assert result.code == 0, both(result)
    stale = [r for r in t.proxy.seen if r.fault == "stale"]
    assert stale, "the index never served a stale page: the test tests nothing"
    reads = [r for r in t.proxy.seen[t.seen_at_setup:] if r.method == "GET"
             and "/packages/" not in r.path]
    assert reads
    assert all(r.cache_control == "no-cache" for r in reads), reads
    assert sorted(listed_files(t.upstream, test_ci.PROJECT)) == sorted(t.names)
    accepted = [r.filename for r in t.proxy.uploads if r.upstream_status == 200]
    assert accepted == [t.names[1], t.names[0]], "each file once, the wheel first"


@pytest.mark.usefixtures("utc", "shared_uv_cache", "no_ambient_credentials")
def test_status_lists_the_expected_wheels_per_target(project: Path, pypiserver) -> None:
    import json

    from conftest import PublishTo, assert_exit, configure_publish, publish_env, run_release

    target = PublishTo("local", pypiserver)
    configure_publish(project, target)
    env = publish_env(target)
    assert_exit(run_release(project, "run", "--yes", env=env), 0)
    env["RELEASE_PIPELINE_WHEELS"] = '["py3-none-any", "cp3{12,13}-win_amd64"]'
    result = run_release(project, "status", "--json", env=env)
    assert_exit(result, 1)
    rows = {(i["where"], i["item"]): i["state"] for i in json.loads(result.stdout)["items"]}
    assert rows[("local", "wheel py3-none-any")] == "present"
    assert rows[("local", "wheel cp312-win_amd64")] == "missing"
    assert rows[("local", "wheel cp313-win_amd64")] == "missing"
    env["RELEASE_PIPELINE_WHEELS"] = '["py3-none-any"]'
    assert_exit(run_release(project, "status", env=env), 0)


@pytest.mark.parametrize(("value", "says"), [
    ('"cp312-*"', "must be a list of strings"),
    ('["cp3{1}-manylinux_*_x86_64"]', "neither a range"),
    ('["manylinux_x86_64"]', "PYTHON-PLATFORM"),
    ('["cp3{10..12-x"]', "unbalanced"),
])
def test_a_bad_wheels_value_is_a_clear_error(project: Path, value: str, says: str) -> None:
    from conftest import run_release

    result = run_release(project, "-c", f"wheels={value}", "config")
    assert result.code == 2, both(result)
    assert "wheels" in result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr

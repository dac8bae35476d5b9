"""Artifacts: sha256 and library versions are verified before anything is unpickled."""

from __future__ import annotations

import pickle

import pytest

from ml import registry


@pytest.fixture()
def saved(tmp_path):
    bundle = {"model_version": "v-test", "model": {"weights": [1.0, 2.0]}, "threshold": 0.4}
    path = tmp_path / "v-test" / registry.ARTIFACT_NAME
    sha = registry.save_artifact(bundle, path)
    return bundle, path, sha


def test_round_trip(saved):
    bundle, path, sha = saved
    assert len(sha) == 64 and sha == registry.sha256_bytes(path.read_bytes())
    assert registry.verify_and_load(path, sha, registry.library_versions()) == bundle
    assert not list(path.parent.glob("*.tmp"))  # written atomically


def test_tampered_artifact_is_refused(saved):
    _, path, sha = saved
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    path.write_bytes(bytes(payload))
    with pytest.raises(registry.ArtifactIntegrityError, match="sha256"):
        registry.verify_and_load(path, sha, registry.library_versions(), "v-test")


def test_replaced_artifact_is_not_unpickled(saved, tmp_path):
    """A swapped-in pickle that would run code on load is refused before it is loaded."""
    _, path, sha = saved
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(registry.ArtifactIntegrityError):
        registry.verify_and_load(path, sha, registry.library_versions())
    assert not marker.exists()


def test_missing_artifact_is_refused(saved):
    _, path, sha = saved
    path.unlink()
    with pytest.raises(registry.ArtifactIntegrityError, match="missing"):
        registry.verify_and_load(path, sha, registry.library_versions())


@pytest.mark.parametrize("library", ["scikit-learn", "numpy", "python"])
def test_library_version_mismatch_is_refused(saved, library):
    _, path, sha = saved
    recorded = registry.library_versions()
    recorded[library] = "0.0.1"
    with pytest.raises(registry.LibraryVersionMismatch, match=f"{library} 0.0.1"):
        registry.verify_and_load(path, sha, recorded, "v-test")


def test_library_versions_cover_what_pickles_depend_on():
    versions = registry.library_versions()
    import sklearn

    assert versions["scikit-learn"] == sklearn.__version__
    assert {"python", "numpy", "scipy", "pandas", "joblib"} <= set(versions)

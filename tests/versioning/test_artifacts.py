import hashlib
import json
import multiprocessing
import ntpath
import os
import posixpath
import random
import signal
import stat
import sys
import threading
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fsspec  # in the test extra: a missing fsspec must fail, not skip
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlkit.errors import ConfigurationError, DataError, IntegrityError, NotFoundError
from mlkit.versioning import (
    FsspecArtifactStore,
    LocalArtifactStore,
    StoreCheck,
    check_key,
    check_name,
)

CHUNK = 1 << 20
HAS_FORK = "fork" in multiprocessing.get_all_start_methods()


def key_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rel_of(key):
    hexdigest = key.removeprefix("sha256:")
    return f"sha256/{hexdigest[:2]}/{hexdigest[2:]}"


class Backend:
    """A store plus raw access to the files behind it, to damage them on purpose."""

    def __init__(self, store, fs, root):
        self.store = store
        self.fs = fs
        self.root = root

    def path(self, rel):
        return f"{self.root}/{rel}"

    def write(self, rel, data):
        path = self.path(rel)
        self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        if self.fs.exists(path) and self.fs.protocol[0] == "file":
            os.chmod(path, 0o644)
        self.fs.pipe_file(path, data)

    def read(self, rel):
        return self.fs.cat_file(self.path(rel))

    def exists(self, rel):
        return self.fs.exists(self.path(rel))

    def files(self, top):
        return sorted(
            p.removeprefix(self.root + "/") for p in self.fs.find(self.path(top), withdirs=False)
        )


@pytest.fixture(params=["local", "fsspec-memory", "fsspec-path", "fsspec-file-url"])
def backend(request, tmp_path):
    local = fsspec.filesystem("file")
    root = (tmp_path / "store").as_posix()
    if request.param == "local":
        yield Backend(LocalArtifactStore(tmp_path / "store"), local, root)
    elif request.param == "fsspec-path":
        yield Backend(FsspecArtifactStore(root), local, root)
    elif request.param == "fsspec-file-url":
        yield Backend(FsspecArtifactStore(f"file://{root}"), local, root)
    else:
        name = uuid.uuid4().hex
        memory = fsspec.filesystem("memory")
        yield Backend(FsspecArtifactStore(f"memory://{name}"), memory, f"/{name}")
        if memory.exists(f"/{name}"):
            memory.rm(f"/{name}", recursive=True)


@pytest.fixture
def store(backend):
    return backend.store


# -- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"hello", bytes(range(256)) * 100])
def test_put_get_round_trip(store, data):
    """get returns exactly what put stored, under the sha256 of the bytes."""
    key = store.put(data)
    assert key == key_of(data)
    assert store.get(key) == data
    assert store.exists(key)
    assert store.size(key) == len(data)
    assert list(store.keys()) == [key]


def test_put_accepts_bytearray_and_memoryview(store):
    """Bytes-like inputs are stored as their bytes."""
    assert store.put(bytearray(b"abc")) == store.put(memoryview(b"abc")) == key_of(b"abc")


@pytest.mark.parametrize("data", ["text", 1, None, [b"a"]])
def test_put_rejects_non_bytes(store, data):
    """Only bytes can be stored; a str would have an ambiguous encoding."""
    with pytest.raises(DataError, match="expected bytes"):
        store.put(data)


def test_layout_is_content_addressed_with_fan_out(backend):
    """An artifact lives at sha256/<hex[:2]>/<hex[2:]>, nothing is left in tmp/."""
    key = backend.store.put(b"layout")
    hexdigest = key.removeprefix("sha256:")
    assert backend.files("sha256") == [f"sha256/{hexdigest[:2]}/{hexdigest[2:]}"]
    assert backend.files("tmp") == []


def test_putting_the_same_bytes_twice_is_a_no_op(backend):
    """Dedup: the second put neither rewrites the artifact nor leaves a temp file."""
    store = backend.store
    key = store.put(b"same")
    before = backend.fs.info(backend.path(rel_of(key)))
    assert store.put(b"same") == key
    after = backend.fs.info(backend.path(rel_of(key)))
    assert before == after
    assert backend.files("sha256") == [rel_of(key)]
    assert backend.files("tmp") == []


def test_keys_are_sorted_and_complete(store):
    blobs = [f"blob {i}".encode() for i in range(20)]
    keys = [store.put(b) for b in blobs]
    assert list(store.keys()) == sorted(keys)


def test_put_file_streams_a_file_larger_than_the_chunk(store, tmp_path):
    """put_file stores files of several chunks (plus a ragged tail) exactly."""
    data = random.Random(0).randbytes(2 * CHUNK + CHUNK // 2 + 7)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    key = store.put_file(source)
    assert key == key_of(data)
    assert store.get(key) == data
    assert store.put_file(source) == key  # dedup through put_file too
    assert store.put(data) == key


def test_put_file_and_get_file_use_constant_memory(tmp_path):
    """A 24 MiB file goes in and out with a few MiB of Python allocations at most."""
    store = LocalArtifactStore(tmp_path / "store")
    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        for i in range(24):
            out.write(bytes([i]) * CHUNK)
    tracemalloc.start()
    try:
        key = store.put_file(source)
        store.get_file(key, tmp_path / "copy.bin")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * CHUNK
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()


def test_put_file_of_a_missing_file_raises_not_found(store, tmp_path):
    with pytest.raises(NotFoundError, match=r"no file at .*nope"):
        store.put_file(tmp_path / "nope")


def test_get_file_round_trip_creates_parents_and_replaces_dest(store, tmp_path):
    key = store.put(b"payload")
    dest = tmp_path / "out" / "deep" / "model.bin"
    assert store.get_file(key, dest) == dest
    assert dest.read_bytes() == b"payload"
    dest.write_bytes(b"old content")
    store.get_file(key, str(dest))
    assert dest.read_bytes() == b"payload"
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.bin"]


def test_get_file_refuses_a_directory_as_dest(store, tmp_path):
    key = store.put(b"payload")
    with pytest.raises(ConfigurationError, match="is a directory"):
        store.get_file(key, tmp_path)


def test_missing_key_raises_not_found(store, tmp_path):
    """A well-formed key that is not stored is a NotFoundError (a LookupError)."""
    key = key_of(b"never stored")
    assert not store.exists(key)
    for call in (
        lambda: store.get(key),
        lambda: store.get_file(key, tmp_path / "dest"),
        lambda: store.size(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(NotFoundError, match=key):
            call()
    assert not (tmp_path / "dest").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".mlkit-")] == []


def test_delete_removes_the_artifact(store):
    key = store.put(b"bye")
    store.delete(key)
    assert not store.exists(key)
    assert list(store.keys()) == []
    assert store.put(b"bye") == key
    assert store.get(key) == b"bye"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_local_artifacts_are_read_only(tmp_path):
    store = LocalArtifactStore(tmp_path)
    key = store.put(b"frozen")
    mode = (tmp_path / rel_of(key)).stat().st_mode
    assert stat.S_IMODE(mode) & 0o222 == 0


def test_local_and_fsspec_stores_share_one_layout(tmp_path):
    """A folder written by FsspecArtifactStore is readable by LocalArtifactStore and back."""
    via_fsspec = FsspecArtifactStore(str(tmp_path))
    local = LocalArtifactStore(tmp_path)
    assert local.get(via_fsspec.put(b"one")) == b"one"
    assert via_fsspec.get(local.put(b"two")) == b"two"
    assert list(local.keys()) == list(via_fsspec.keys())


def test_repr_names_the_location(tmp_path):
    assert repr(LocalArtifactStore(tmp_path)) == f"LocalArtifactStore({str(tmp_path)!r})"
    assert repr(FsspecArtifactStore("memory://x")) == "FsspecArtifactStore('memory://x')"


def test_fsspec_missing_raises_configuration_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "fsspec.core", None)
    with pytest.raises(ConfigurationError, match=r'pip install "mlkit\[fsspec\]"'):
        FsspecArtifactStore("memory://x")


# -- integrity ------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["flip", "truncate", "replace"])
def test_tampered_artifact_raises_integrity_error_on_get(backend, damage):
    """get rehashes what it returns; the error names the key and the actual hash."""
    data = b"the registered model" * 1000
    key = backend.store.put(data)
    bad = {
        "flip": bytes([data[0] ^ 1]) + data[1:],
        "truncate": data[: len(data) // 2],
        "replace": b"malicious pickle",
    }[damage]
    backend.write(rel_of(key), bad)
    with pytest.raises(IntegrityError) as caught:
        backend.store.get(key)
    error = caught.value
    assert key in str(error)
    assert key_of(bad) in str(error)
    assert "tampered" in str(error)
    assert (error.column, error.value, error.expected) == (key, key_of(bad), key)
    assert isinstance(error, OSError)


@pytest.mark.parametrize("dest_exists", [True, False])
def test_tampered_artifact_never_reaches_get_file_dest(backend, tmp_path, dest_exists):
    """get_file verifies before renaming: dest keeps its old content or stays absent."""
    key = backend.store.put(b"good" * 100_000)
    backend.write(rel_of(key), b"evil" * 100_000)
    out = tmp_path / "out"
    out.mkdir()
    dest = out / "model.bin"
    if dest_exists:
        dest.write_bytes(b"previous model")
    with pytest.raises(IntegrityError, match=key):
        backend.store.get_file(key, dest)
    if dest_exists:
        assert dest.read_bytes() == b"previous model"
        assert [p.name for p in out.iterdir()] == ["model.bin"]
    else:
        assert list(out.iterdir()) == []


@pytest.mark.parametrize("how", ["put", "put_file"])
def test_put_heals_a_corrupt_artifact(backend, tmp_path, how):
    """Putting the original bytes again replaces a corrupt copy atomically."""
    data = b"original bytes" * 1000
    key = backend.store.put(data)
    backend.write(rel_of(key), b"rot")
    if how == "put":
        assert backend.store.put(data) == key
    else:
        source = tmp_path / "source.bin"
        source.write_bytes(data)
        assert backend.store.put_file(source) == key
    assert backend.store.get(key) == data
    assert backend.files("tmp") == []
    assert backend.store.verify().ok


def _refuse_to_replace(store, monkeypatch, before=None):
    """Make fs.mv fail like a rename that never replaces (fsspec's local mv on Windows)."""
    mv = store.fs.mv

    def no_replace_mv(source, dest, **kwargs):
        if before is not None:
            before(dest)
        if store.fs.exists(dest):
            raise FileExistsError(dest)
        mv(source, dest, **kwargs)

    monkeypatch.setattr(store.fs, "mv", no_replace_mv)


def test_heal_works_when_renames_cannot_replace(monkeypatch):
    store = FsspecArtifactStore(f"memory://{uuid.uuid4().hex}")
    key = store.put(b"good")
    store.fs.pipe_file(f"{store._root}/{rel_of(key)}", b"bad")
    _refuse_to_replace(store, monkeypatch)
    assert store.put(b"good") == key
    assert store.get(key) == b"good"
    assert store.verify().temp == ()


def test_losing_a_race_to_store_the_same_bytes_is_fine_when_renames_cannot_replace(monkeypatch):
    store = FsspecArtifactStore(f"memory://{uuid.uuid4().hex}")

    def racing_writer_wins(dest):
        if not store.fs.exists(dest):
            store.fs.pipe_file(dest, b"same")

    _refuse_to_replace(store, monkeypatch, before=racing_writer_wins)
    key = store.put(b"same")
    assert store.get(key) == b"same"
    assert store.verify().temp == ()


def test_verify_reports_corrupt_stray_and_temp_files(backend):
    store = backend.store
    good = store.put(b"good")
    bad = store.put(b"bad")
    backend.write(rel_of(bad), b"changed")
    hexdigest = good.removeprefix("sha256:")
    strays = [
        "sha256/README",
        "sha256/zz/notakey",
        f"sha256/{hexdigest[:2]}/{hexdigest[2:-1]}",  # one digit short
        f"sha256/{hexdigest[:2].upper()}/{hexdigest[2:].upper()}",
        f"sha256/{hexdigest[:2]}/x/{hexdigest[2:]}",  # one level too deep
    ]
    for rel in strays:
        backend.write(rel, b"stray")
    backend.write("tmp/123-abc.tmp", b"partial")

    check = store.verify()
    assert isinstance(check, StoreCheck)
    assert check.corrupt == (bad,)
    assert check.checked == 2
    assert set(check.stray) == set(strays)
    assert check.temp == ("tmp/123-abc.tmp",)
    assert check.missing == ()
    assert not check.ok
    assert sorted(store.keys()) == sorted([good, bad])

    store.put(b"bad")
    healed = store.verify()
    assert healed.ok  # stray and temp files are reported, never visible as artifacts
    assert healed.corrupt == ()
    assert healed.stray


def test_verify_given_keys_checks_only_those_and_reports_missing(backend):
    store = backend.store
    good = store.put(b"good")
    bad = store.put(b"bad")
    backend.write(rel_of(bad), b"changed")
    absent = key_of(b"absent")
    check = store.verify(keys=[good, absent])
    assert (check.ok, check.checked, check.corrupt, check.missing) == (False, 1, (), (absent,))
    assert store.verify(keys=[good]).ok
    assert store.verify(keys=[bad]).corrupt == (bad,)


def test_store_check_serialises_to_json_and_back():
    check = StoreCheck(
        ok=False,
        checked=3,
        corrupt=(key_of(b"x"),),
        stray=("sha256/README",),
        temp=("tmp/1-a.tmp",),
        missing=(key_of(b"y"),),
    )
    assert StoreCheck.from_dict(json.loads(json.dumps(check.to_dict()))) == check
    frame = check.to_frame()
    assert list(frame.columns) == ["kind", "item"]
    assert list(frame["kind"]) == ["corrupt", "missing", "stray", "temp"]
    assert repr(check) == "StoreCheck(ok=False, checked=3, corrupt=1, missing=1, stray=1, temp=1)"


def test_clean_temp_removes_only_old_temp_files(backend):
    store = backend.store
    key = store.put(b"keep me")
    backend.write("tmp/1-dead.tmp", b"partial")
    assert store.clean_temp() == 0  # fresh: may belong to a running writer
    assert backend.files("tmp") == ["tmp/1-dead.tmp"]
    assert store.clean_temp(older_than=0) == 1
    assert backend.files("tmp") == []
    assert store.get(key) == b"keep me"


def test_clean_temp_uses_the_modification_time(tmp_path):
    store = LocalArtifactStore(tmp_path)
    (tmp_path / "tmp").mkdir()
    old, new = tmp_path / "tmp" / "1-old.tmp", tmp_path / "tmp" / "2-new.tmp"
    old.write_bytes(b"a")
    new.write_bytes(b"b")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert store.clean_temp() == 1
    assert [p.name for p in (tmp_path / "tmp").iterdir()] == ["2-new.tmp"]
    assert store.clean_temp(older_than=60.0) == 0


@pytest.mark.parametrize("older_than", [-1, float("nan"), "1h"])
def test_clean_temp_rejects_a_bad_age(tmp_path, older_than):
    with pytest.raises(ConfigurationError, match="older_than"):
        LocalArtifactStore(tmp_path).clean_temp(older_than=older_than)


# -- keys and names -------------------------------------------------------------------

ZEROS = "0" * 64
BAD_KEYS = [
    "../../etc/passwd",
    "/etc/passwd",
    "sha256:" + "../" * 21 + "a",
    "sha256:../../../../etc/passwd",
    "sha256:/" + "0" * 63,
    "sha256:" + "0" * 63 + "\x00",
    "sha256:" + "0" * 32 + "\x00" + "0" * 31,
    "sha256:" + "A" * 64,
    "sha256:" + "0" * 63,
    "sha256:" + "0" * 65,
    "sha256:" + ZEROS + "\n",
    "sha256:" + "0" * 31 + "\\" + "0" * 32,
    "sha256:" + "\uff10" * 64,  # fullwidth digits are digits to str.isdigit, not to us
    "SHA256:" + ZEROS,
    "md5:" + "0" * 32,
    " sha256:" + ZEROS,
    "sha256/" + ZEROS,
    ZEROS,
    "",
    None,
    b"sha256:" + ZEROS.encode(),
    123,
    Path("sha256") / ZEROS,
]


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_check_key_rejects_malformed_keys(key):
    with pytest.raises(DataError, match="invalid artifact key") as caught:
        check_key(key)
    assert caught.value.value == key
    assert "64 lowercase hexadecimal" in str(caught.value)


def test_check_key_accepts_exactly_the_key_form():
    key = key_of(b"x")
    assert check_key(key) is key


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_every_method_rejects_malformed_keys(backend, tmp_path, key):
    """No method lets a malformed key reach the file system."""
    store = backend.store
    store.put(b"something")
    calls = [
        lambda: store.get(key),
        lambda: store.get_file(key, tmp_path / "dest"),
        lambda: store.exists(key),
        lambda: store.size(key),
        lambda: store.delete(key),
        lambda: store.verify(keys=[key]),
    ]
    for call in calls:
        with pytest.raises(DataError, match="invalid artifact key"):
            call()
    assert not (tmp_path / "dest").exists()
    assert store.verify().ok


GOOD_NAMES = [
    "plots/roc.png",
    "model",
    "my-model_v2",
    ".hidden",
    "a/b/c.txt",
    "...a",
    "x y",
    "é/ünï.txt",
    "a" * 255,
    "数据/表.csv",
]
BAD_NAMES = [
    "..",
    ".",
    "a/../b",
    "a/./b",
    "../a",
    "/abs",
    "a//b",
    "a/",
    "a\\b",
    "..\\a",
    "x\x00y",
    "models:/x",
    "C:x",
    "",
    "tab\there",
    "new\nline",
    "cr\r",
    "del\x7f",
    "c1\x85",
    "sep\u2028",
    "a" * 256,
    "é" * 128,  # 256 bytes in UTF-8
    ".. ",
    "a/b.",
    "trailing ",
    "\udcff",  # a lone surrogate cannot be a file name
    None,
    b"bytes",
    3,
    Path("a"),
]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_check_name_accepts_safe_relative_names(name):
    assert check_name(name) is name


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_check_name_rejects_unsafe_names(name):
    with pytest.raises(DataError) as caught:
        check_name(name, what="artifact name")
    error = caught.value
    assert str(error).startswith(f"invalid artifact name {name!r}:")
    assert "expected a non-empty relative path" in str(error)
    assert (error.column, error.value) == ("artifact name", name)


NAME_ALPHABET = st.sampled_from(
    ["a", "b", ".", ".", "/", "/", "\\", ":", " ", "\x00", "\n", "é", "\u2028", "C"]
)


def _escapes(join, normpath, root, sep, name):
    joined = normpath(join(root, name))
    return not joined.startswith(root + sep)


@given(st.one_of(st.text(NAME_ALPHABET, max_size=12), st.text(max_size=12)))
def test_check_name_never_accepts_a_name_that_escapes_the_root(name):
    """Whatever check_name accepts stays strictly inside any root it is joined to."""
    try:
        check_name(name)
    except DataError:
        return
    root = os.path.abspath("store")
    assert not _escapes(os.path.join, os.path.normpath, root, os.sep, name)
    assert not _escapes(posixpath.join, posixpath.normpath, "/srv/store", "/", name)
    assert not _escapes(ntpath.join, ntpath.normpath, "C:\\store", "\\", name)


@given(
    st.lists(
        st.text(st.sampled_from("abz09-_."), min_size=1, max_size=8).filter(
            lambda s: not s.endswith(".")
        ),
        min_size=1,
        max_size=4,
    )
)
def test_check_name_accepts_any_path_of_plain_segments(segments):
    name = "/".join(segments)
    assert check_name(name) == name


# -- crash safety and concurrency -----------------------------------------------------


def _make_store(kind, root):
    return LocalArtifactStore(root) if kind == "local" else FsspecArtifactStore(str(root))


def _put_forever(kind, root, seed, base):
    """Child process: store distinct large blobs (put and put_file) until killed."""
    store = _make_store(kind, root)
    rng = random.Random(seed)
    source = Path(root).parent / f"source-{seed}.bin"
    for i in range(1_000_000):
        blob = seed.to_bytes(8, "little") + i.to_bytes(8, "little")
        blob += base[: rng.randrange(CHUNK, len(base))]
        if i % 2:
            store.put(blob)
        else:
            source.write_bytes(blob)
            store.put_file(source)


@pytest.mark.skipif(not HAS_FORK or not hasattr(signal, "SIGKILL"), reason="needs fork+SIGKILL")
@pytest.mark.parametrize(("kind", "seconds"), [("local", 2.0), ("fsspec-path", 1.5)])
def test_sigkill_during_puts_never_leaves_a_partial_artifact(tmp_path, kind, seconds):
    """Writers killed at random moments leave only temp files; every visible key verifies."""
    root = tmp_path / "store"
    base = random.Random(1).randbytes(4 * CHUNK)
    rng = random.Random(2)
    context = multiprocessing.get_context("fork")
    kills = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        child = context.Process(target=_put_forever, args=(kind, root, kills, base))
        child.start()
        time.sleep(rng.uniform(0.002, 0.06))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        assert child.exitcode == -signal.SIGKILL
        kills += 1
    store = _make_store(kind, root)
    check = store.verify()
    assert kills >= 10
    assert check.ok
    assert check.corrupt == ()
    assert check.stray == ()
    keys = list(store.keys())
    assert check.checked == len(keys) > 0
    assert check.temp, "no kill landed during a write; the test proves nothing"
    for key in keys:
        assert hashlib.sha256(store.get(key)).hexdigest() == key.removeprefix("sha256:")
    assert store.clean_temp(older_than=0) == len(check.temp)
    assert store.verify().temp == ()
    assert list((root / "tmp").iterdir()) == []


def _put_together(kind, root, index, barrier, shared, queue):
    """Child process: after the barrier, put shared and own blobs, report the keys."""
    try:
        store = _make_store(kind, root)
        source = Path(root).parent / f"shared-{index}.bin"
        barrier.wait(timeout=30)
        keys = []
        for blob in shared:
            keys.append(store.put(blob))
            keys.append(store.put(blob + index.to_bytes(4, "little")))
            source.write_bytes(blob)
            keys.append(store.put_file(source))
        queue.put((index, keys))
    except BaseException as error:  # the parent asserts on what went wrong
        queue.put((index, repr(error)))


@pytest.mark.skipif(not HAS_FORK, reason="needs fork")
@pytest.mark.parametrize("kind", ["local", "fsspec-path"])
def test_processes_putting_same_and_different_blobs_at_once_all_succeed(tmp_path, kind):
    """Concurrent writers of identical bytes (one copy corrupt beforehand) all succeed."""
    root = tmp_path / "store"
    rng = random.Random(3)
    shared = [rng.randbytes(CHUNK + i) for i in range(4)]
    store = _make_store(kind, root)
    corrupt = store.put(shared[0])
    path = root / rel_of(corrupt)
    path.chmod(0o644)
    path.write_bytes(b"rot")
    context = multiprocessing.get_context("fork")
    n = 6
    barrier, queue = context.Barrier(n), context.Queue()
    children = [
        context.Process(target=_put_together, args=(kind, root, i, barrier, shared, queue))
        for i in range(n)
    ]
    for child in children:
        child.start()
    results = dict(queue.get(timeout=60) for _ in children)
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    expected = {key_of(b) for b in shared}
    for index, keys in results.items():
        assert isinstance(keys, list), keys
        assert keys[0::3] == keys[2::3] == [key_of(b) for b in shared]
        assert keys[1::3] == [key_of(b + index.to_bytes(4, "little")) for b in shared]
        expected.update(keys)
    assert set(store.keys()) == expected
    check = store.verify()
    assert (check.ok, check.checked, check.temp, check.stray) == (True, len(expected), (), ())
    assert store.get(corrupt) == shared[0]


@pytest.mark.parametrize("kind", ["local", "memory"])
def test_threads_putting_and_reading_at_once_all_succeed(tmp_path, kind):
    """Threads share one store object: puts, dedup and verified reads interleave safely."""
    if kind == "local":
        store = LocalArtifactStore(tmp_path)
    else:
        store = FsspecArtifactStore(f"memory://{uuid.uuid4().hex}")
    blobs = [bytes([i]) * (CHUNK // 4 + i) for i in range(6)]
    start = threading.Barrier(8)

    def work(index):
        start.wait(timeout=30)
        keys = []
        for blob in blobs:
            keys.append(store.put(blob))
            keys.append(store.put(blob + bytes([index])))
            assert store.get(keys[-2]) == blob
        return keys

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert all(keys[0::2] == [key_of(b) for b in blobs] for keys in results)
    check = store.verify()
    assert check.ok
    assert check.checked == len(blobs) * 9
    assert check.temp == ()

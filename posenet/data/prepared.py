"""Prepared datasets: one HDF5 file per dataset and split (``docs/prepared_format.md``)."""

from __future__ import annotations

import contextlib
import os

import h5py
import numpy as np

from posenet.io import atomic_path

FORMAT, VERSION, LAYOUT, NUM_JOINTS = "posenet-prepared", 1, "model17", 17

_VLEN_BYTES = h5py.vlen_dtype(np.uint8)
_VLEN_STR = h5py.string_dtype("utf-8")

#: name -> (dtype, per-sample shape, fill value used when a chunk omits it)
FIELDS: dict[str, tuple[object, tuple[int, ...], object]] = {
    "joints2d": (np.float32, (NUM_JOINTS, 3), np.nan),
    "valid2d": (np.bool_, (NUM_JOINTS,), False),
    "joints3d": (np.float32, (NUM_JOINTS, 3), np.nan),
    "valid3d": (np.bool_, (NUM_JOINTS,), False),
    "bbox": (np.float32, (4,), np.nan),
    "head_box": (np.float32, (4,), np.nan),  # MPII's head rectangle, for PCKh
    "action": (np.int16, (), -1),
    "sequence": (np.int32, (), -1),
    "frame": (np.int32, (), -1),
    "camera": (np.int16, (), -1),
    "frame_ref": (_VLEN_STR, (), ""),
    "crop": (np.float32, (3,), np.nan),  # x0, y0, scale: crop = (source - xy0) * scale
}
REQUIRED = ("joints2d", "valid2d")
CAMERA_FIELDS = {"f": (2,), "c": (2,), "k": (3,), "p": (2,), "R": (3, 3), "T": (3,)}


class PreparedWriter:
    """Write a prepared file: ``with PreparedWriter(path, "lspet", "train") as w: w.append(...)``.
    ``action_classes``: names indexed by ``action``; ``source``: where the data came
    from; ``embed_images``: create the variable-length ``image`` dataset; ``cameras``:
    dict of the ``CAMERA_FIELDS`` arrays (C, ...); ``attrs``: extra file attributes;
    ``compression``: e.g. "gzip" or None; ``chunk``: samples per HDF5 chunk.
    A file without any valid 2D or 3D joint is refused (ValueError, nothing written: a
    wrong --source or a reader that matched nothing) unless ``allow_empty``.
    """

    def __init__(self, path, dataset: str, split: str, *, action_classes=(), source: str = "",
                 embed_images: bool = False, cameras: dict | None = None,
                 attrs: dict | None = None, compression: str | None = "gzip",
                 chunk: int = 256, allow_empty: bool = False):  # fmt: skip
        self.path = os.fspath(path)
        self.dataset, self.split, self.source = str(dataset), str(split), str(source)
        self.action_classes, self.embed_images = [str(a) for a in action_classes], embed_images
        self.cameras = _check_cameras(cameras) if cameras else None
        self.attrs = dict(attrs or {})
        self.compression, self.chunk = compression, max(1, int(chunk))
        self.num_samples, self._ctx, self._h5 = 0, None, None
        self.allow_empty, self.valid_joints = bool(allow_empty), 0

    def __enter__(self) -> PreparedWriter:
        self._ctx = atomic_path(self.path)
        tmp = self._ctx.__enter__()
        try:
            self._h5 = h5py.File(tmp, "w")
            self._create()
        except BaseException:
            self._abort()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._abort(exc_type, exc, tb)
            return False
        if not self.valid_joints and not self.allow_empty:
            self._abort()
            raise ValueError(f"no valid joint in any of the {self.num_samples} samples for "
                             f"{self.path}: nothing written (is the source folder right?)")
        try:
            self._h5.attrs["num_samples"] = self.num_samples
            self._h5.close()
        except BaseException:
            self._abort()
            raise
        self._ctx.__exit__(None, None, None)
        return False

    def _abort(self, *exc_info) -> None:
        """Close and delete the temporary file (atomic_path re-raises what it is given)."""
        with contextlib.suppress(BaseException):
            self._h5.close()
        with contextlib.suppress(BaseException):
            self._ctx.__exit__(*(exc_info or (RuntimeError, RuntimeError("aborted"), None)))
        self._h5 = None

    def _create(self) -> None:
        h5, a = self._h5, self._h5.attrs
        a["format"], a["version"] = FORMAT, VERSION
        a["dataset"], a["split"], a["layout"] = self.dataset, self.split, LAYOUT
        a["num_samples"], a["source"] = 0, self.source
        a["action_classes"] = np.array(self.action_classes, dtype=_VLEN_STR)  # may be empty
        for key, value in self.attrs.items():
            self.set_attr(key, value)
        fields = dict(FIELDS)
        if self.embed_images:
            fields["image"] = (_VLEN_BYTES, (), None)
        for name, (dtype, shape, _) in fields.items():
            h5.create_dataset(
                name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype,
                chunks=(self.chunk, *shape), compression=self.compression,
            )  # fmt: skip
        if self.cameras is not None:
            group = h5.create_group("cameras")
            for key, arr in self.cameras.items():
                group.create_dataset(key, data=arr)

    def set_attr(self, key: str, value) -> None:
        """Set a file attribute while writing (lists of str become string arrays)."""
        if self._h5 is None:
            raise ValueError("PreparedWriter.set_attr outside its 'with' block")
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            value = np.array(value, dtype=_VLEN_STR)
        self._h5.attrs[key] = value

    def append(self, **arrays) -> int:
        """Append a chunk of n samples; returns n.

        ``joints2d`` (n, 17, 3) and ``valid2d`` (n, 17) are required; any other field of
        ``FIELDS`` (and ``image``, a sequence of bytes, when embedding) may be given,
        omitted ones are filled with their "none" value.  ValueError on a bad shape.
        """
        if self._h5 is None:
            raise ValueError("PreparedWriter.append outside its 'with' block")
        unknown = set(arrays) - set(FIELDS) - {"image"}
        if unknown:
            raise ValueError(f"unknown prepared field(s) {sorted(unknown)}; known: {list(FIELDS)}")
        if any(name not in arrays for name in REQUIRED):
            raise ValueError(f"append needs {REQUIRED}")
        n = int(np.shape(arrays["joints2d"])[0])
        data = {name: _checked(name, arrays[name], n, shape, dtype) if name in arrays
                else _filled(n, shape, dtype, fill)
                for name, (dtype, shape, fill) in FIELDS.items()}  # fmt: skip
        if "image" in arrays:
            if not self.embed_images:
                raise ValueError("'image' given but the writer was made with embed_images=False")
            data["image"] = _image_array(list(arrays["image"]), n)
        elif self.embed_images:
            raise ValueError("embed_images=True: every append needs 'image'")
        if self.cameras is not None:
            cam = data["camera"]
            if ((cam < -1) | (cam >= len(self.cameras["f"]))).any():
                raise ValueError(f"camera indices outside -1..{len(self.cameras['f']) - 1}")
        start = self.num_samples
        for name, values in data.items():
            self._h5[name].resize(start + n, axis=0)
            if n:  # write_direct: slicing would stack equal-length images into a 2D array
                self._h5[name].write_direct(np.ascontiguousarray(values), dest_sel=np.s_[start:])
        self.num_samples += n
        self.valid_joints += int(np.count_nonzero(data["valid2d"]))
        self.valid_joints += int(np.count_nonzero(data["valid3d"]))
        return n


def _filled(n, shape, dtype, fill) -> np.ndarray:
    return np.full((n, *shape), fill, dtype=object if dtype is _VLEN_STR else dtype)


def _checked(name, value, n, shape, dtype) -> np.ndarray:
    if dtype is _VLEN_STR:
        items = [str(v) for v in np.asarray(value, dtype=object).reshape(-1)]
        if len(items) != n or np.ndim(value) != 1:
            raise ValueError(f"{name}: expected {n} strings, got shape {np.shape(value)}")
        return np.array(items, dtype=object)
    arr = np.asarray(value)
    if arr.shape != (n, *shape):
        raise ValueError(f"{name}: expected shape {(n, *shape)}, got {arr.shape}")
    want = np.dtype(dtype)
    if arr.dtype.kind not in {"b": "b", "i": "iu", "f": "fiu"}[want.kind]:
        raise ValueError(f"{name}: expected {want} (or a compatible dtype), got {arr.dtype}")
    if want.kind in "iu" and arr.size:
        info = np.iinfo(want)
        if arr.min() < info.min or arr.max() > info.max:
            raise ValueError(f"{name}: values outside the range of {want}")
    return arr.astype(want, copy=False)


def _image_array(images, n) -> np.ndarray:
    if len(images) != n:
        raise ValueError(f"image: {len(images)} items, expected {n}")
    out = np.empty(n, dtype=object)
    for i, img in enumerate(images):
        if not isinstance(img, bytes | bytearray | np.ndarray):
            raise ValueError(f"image {i}: expected bytes, got {type(img).__name__}")
        out[i] = np.frombuffer(bytes(img), dtype=np.uint8)
    return out


def _check_cameras(cameras: dict) -> dict:
    out, count = {}, None
    for key, shape in CAMERA_FIELDS.items():
        if key not in cameras:
            raise ValueError(f"cameras: missing {key!r} (need {list(CAMERA_FIELDS)})")
        arr = np.asarray(cameras[key], dtype=np.float64)
        count = arr.shape[0] if count is None and arr.ndim else count
        if arr.shape != (count, *shape):
            raise ValueError(f"cameras[{key!r}]: expected shape {(count, *shape)}, got {arr.shape}")
        out[key] = arr
    return out


class PreparedDataset:
    """Read a prepared file lazily: the h5py handle opens on first access, and re-opens after
    pickling (dropped by ``__getstate__``) or a fork, so worker processes can share a file."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self._h5 = self._pid = None
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"prepared file {self.path} not found")
        self._file()  # validate now, naming the file; reopened lazily on first access
        self.close()

    def _file(self) -> h5py.File:
        if self._h5 is None or self._pid != os.getpid():
            try:
                h5 = h5py.File(self.path, "r")
            except OSError as e:
                raise ValueError(f"{self.path}: not an HDF5 file ({e})") from e
            fmt, version = h5.attrs.get("format"), h5.attrs.get("version")
            if fmt != FORMAT or version != VERSION:
                h5.close()
                raise ValueError(f"{self.path}: not a {FORMAT} v{VERSION} file ({fmt}, {version})")
            problem = _structure_problem(h5)
            if problem:
                h5.close()
                raise ValueError(f"{self.path}: {problem}; prepare it again with "
                                 "`posenet prepare`")
            self._h5, self._pid = h5, os.getpid()
        return self._h5

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_h5": None, "_pid": None}

    def __len__(self) -> int:
        return int(self._file().attrs["num_samples"])

    @property
    def attrs(self) -> dict:
        """File attributes as plain Python values (strings decoded, lists for arrays)."""
        return {key: _plain(value) for key, value in self._file().attrs.items()}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(k for k, v in self._file().items() if isinstance(v, h5py.Dataset))

    def cameras(self) -> dict[str, np.ndarray] | None:
        h5 = self._file()
        return {k: h5["cameras"][k][()] for k in h5["cameras"]} if "cameras" in h5 else None

    def sample(self, i) -> dict:
        """Every per-sample field of sample ``i``; ``image`` as bytes, ``frame_ref`` as str."""
        n, i = len(self), int(i)
        if not -n <= i < n:
            raise IndexError(f"sample {i} outside 0..{n - 1} of {self.path}")
        i %= n
        return {name: _decode(name, self._file()[name][i]) for name in self.names}

    def arrays(self, name: str, indices=None) -> np.ndarray:
        """Field ``name`` at ``indices`` (any order, repeats allowed; None = all)."""
        if name not in self.names:
            raise KeyError(f"{self.path} has no field {name!r}; has {list(self.names)}")
        ds = self._file()[name]
        if indices is None:
            out = ds[()]
        else:
            idx = np.asarray(indices, dtype=np.int64).reshape(-1)
            n = len(self)
            if idx.size and (idx.min() < -n or idx.max() >= n):
                raise IndexError(f"indices outside 0..{n - 1} of {self.path}")
            uniq, inverse = np.unique(idx % max(n, 1), return_inverse=True)
            out = (ds[uniq] if uniq.size else ds[0:0])[inverse]
        if name == "frame_ref":
            out = np.array([_decode(name, v) for v in out], dtype=object)
        return out

    def sequences(self) -> dict[int, np.ndarray]:
        """Sequence id -> indices of its samples, ordered by ``frame``."""
        seq, frame = self.arrays("sequence"), self.arrays("frame")
        order = np.lexsort((frame, seq))
        ids, starts = np.unique(seq[order], return_index=True)
        return {int(s): part for s, part in zip(ids, np.split(order, starts[1:]), strict=True)}

    def close(self) -> None:
        if self._h5 is not None and self._pid == os.getpid():
            self._h5.close()
        self._h5 = self._pid = None


def _structure_problem(h5) -> str | None:
    """What makes an opened file unreadable as a prepared file (a field missing, of the
    wrong shape or length: hand-edited or written by another tool), or None."""
    n = h5.attrs.get("num_samples")
    if n is None:
        return "no num_samples attribute"
    missing = [name for name in FIELDS if not isinstance(h5.get(name), h5py.Dataset)]
    if missing:
        return f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    for name, (_, shape, _) in FIELDS.items():
        ds = h5[name]
        if ds.shape != (int(n), *shape):
            return f"field {name} has shape {ds.shape}, expected {(int(n), *shape)}"
    return None


def _plain(value):
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value.decode() if isinstance(value, bytes) else value


def _decode(name, value):
    if name == "frame_ref":
        return value.decode() if isinstance(value, bytes) else str(value)
    if name == "image":
        return np.asarray(value, dtype=np.uint8).tobytes()
    return value


class PreparedFileError(ValueError):
    """A prepared file that cannot be opened; the message names it and ``posenet prepare``."""


def open_prepared(path) -> PreparedDataset:
    """The prepared file at ``path``; PreparedFileError naming it and ``posenet prepare``."""
    try:
        return PreparedDataset(path)
    except (FileNotFoundError, ValueError, OSError) as err:
        raise PreparedFileError(f"{err}; make it with `posenet prepare` "
                                "(see docs/prepared_format.md)") from None

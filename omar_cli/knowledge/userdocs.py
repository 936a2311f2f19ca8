"""The user's own documents (PDF, Markdown, plain text), chunked into knowledge entries.

A technician adds the official ACS150 manual once; its pages then answer questions with a
citation that matches the printed page ("manual p. 130"). The built-in knowledge is never
touched: everything lives under the ``root`` passed in (``<user data dir>/knowledge``)::

    manifest.json           the documents, the commit point of every change
    files/<sha256>.<ext>    the original bytes, content-addressed
    chunks/<docid>.json     the document's chunks, one JSON file per document

Writes are atomic (temp file, fsync, ``os.replace``) and read-modify-write of the manifest
runs under an inter-process file lock. ``pypdf`` is imported only when a PDF is read.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from filelock import FileLock, Timeout

from omar_cli.atomic import atomic_write_bytes
from omar_cli.errors import InputError, NotFoundError, StoreError, UsageError
from omar_cli.i18n import N_, _
from omar_cli.knowledge.model import Entry, LangText, Source

DocKind = Literal["pdf", "markdown", "text"]
PageCallback = Callable[[int, int], None]
Clock = Callable[[], datetime]
_Section = tuple[str | None, str | None, str]  # page, heading, raw text

SUFFIXES: dict[str, DocKind] = {
    ".pdf": "pdf",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
}
CHUNK_MIN, CHUNK_MAX, OVERLAP_MAX = 800, 1200, 200
_SCHEMA = 1  # bump when the stored shape or the entries built from it change
_ID_LEN = 10
_PREFIX_MIN = 4
_HINT_TYPES = N_("supported: PDF with a text layer, Markdown (.md), plain text (.txt)")
_HINT_STORE = N_("check the permissions and free space of the folder, then try again")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\u00ad": ""})
_HYPHEN_BREAK = re.compile(r"(?<=[^\W\d_])-[ \t]*\n[ \t]*(?=[a-zà-ÿ])")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_ACS150 = re.compile(r"acs[ -]?150", re.IGNORECASE)


@dataclass(frozen=True)
class UserDoc:
    id: str  # first hex digits of sha256, longer only on a clash
    title: str
    filename: str
    sha256: str
    kind: DocKind
    pages: int  # PDF pages, Markdown sections, or text pages (form feeds)
    chunks: int
    added_at: str  # ISO 8601, UTC
    drive: str = "user"  # "ACS150" when the document names the drive, else "user"


@dataclass(frozen=True)
class Chunk:
    id: str  # entry id, e.g. "doc-3fa9c0d1e2-p130-2"
    page: str | None  # printed page label, Markdown section number, or None
    heading: str | None  # Markdown heading
    text: str
    #: where the chunk starts, counted in paragraphs of its section (from 1); None in
    #: documents stored before it was kept
    paragraph: int | None = None


# -- text normalisation and chunking ---------------------------------------------------


def normalise(text: str) -> list[str]:
    """Paragraphs of ``text``: ligatures and line-broken words joined, whitespace collapsed."""
    text = _HYPHEN_BREAK.sub("", text.translate(_LIGATURES).replace("\r\n", "\n"))
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n[ \t]*\n", text))
    return [p for p in paragraphs if p]


def _pieces(paragraph: str) -> Iterator[str]:
    """Split an over-long paragraph at sentence ends, and an over-long sentence at words."""
    if len(paragraph) <= CHUNK_MAX:
        yield paragraph
        return
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > CHUNK_MAX:
            cut = sentence.rfind(" ", CHUNK_MIN, CHUNK_MAX)
            cut = cut if cut > 0 else CHUNK_MAX
            yield sentence[:cut]
            sentence = sentence[cut:].lstrip()
        if sentence:
            yield sentence


def _tail(chunk: str) -> str:
    """The overlap carried into the next chunk: the last sentence, if short enough."""
    last = _SENTENCE_END.split(chunk)[-1]
    if len(last) <= OVERLAP_MAX and last != chunk:
        return last
    cut = chunk.find(" ", len(chunk) - OVERLAP_MAX)
    return chunk[cut + 1 :] if cut > 0 else ""


def split_text(text: str) -> list[str]:
    """Chunks of about CHUNK_MIN..CHUNK_MAX characters on paragraph/sentence boundaries."""
    chunks: list[str] = []
    current = ""
    for paragraph in normalise(text):
        for n, piece in enumerate(_pieces(paragraph)):
            glue = " " if n else "\n\n"
            if not current:
                current = piece
            elif len(current) < CHUNK_MIN and len(current) + len(glue) + len(piece) <= CHUNK_MAX:
                current = f"{current}{glue}{piece}"
            else:
                chunks.append(current)
                tail = _tail(current)
                fits = tail and len(tail) + 1 + len(piece) <= CHUNK_MAX
                current = f"{tail} {piece}" if fits else piece
    if current:
        chunks.append(current)
    return chunks


# -- readers ------------------------------------------------------------------------------


def _decode(data: bytes, file: Path) -> str:
    if b"\x00" in data[:4096]:
        raise InputError(
            _("{file}: looks like a binary file, not text").format(file=file),
            hint=_(_HINT_TYPES),
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_text(data: bytes, file: Path) -> list[_Section]:
    pages = _decode(data, file).split("\f")
    if len(pages) == 1:
        return [(None, None, pages[0])]
    return [(str(n), None, text) for n, text in enumerate(pages, start=1)]


def _read_markdown(data: bytes, file: Path) -> list[_Section]:
    """Sections by ATX heading; the "page" is the section number, e.g. "2.1"."""
    sections: list[_Section] = []
    counters = [0] * 6
    page: str | None = None
    heading: str | None = None
    lines: list[str] = []
    in_fence = False
    for line in _decode(data, file).splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            lines.append(line)
            continue
        sections.append((page, heading, "\n".join(lines)))
        level = len(match.group(1))
        counters[level - 1] += 1
        counters[level:] = [0] * (6 - level)
        top = next(i for i, c in enumerate(counters) if c)
        page = ".".join(str(c) for c in counters[top:level])
        heading, lines = match.group(2).strip(), []
    sections.append((page, heading, "\n".join(lines)))
    return sections


def _read_pdf(data: bytes, file: Path, on_page: PageCallback | None) -> list[_Section]:
    """Text of every page, labelled as the document prints it (pypdf page labels)."""
    if b"%PDF-" not in data[:1024]:
        raise InputError(
            _("{file}: not a PDF file (no PDF header)").format(file=file), hint=_(_HINT_TYPES)
        )
    import logging

    from pypdf import PdfReader  # imported here: start-up speed matters

    # pypdf logs repairs of damaged files to stderr; our own error says what matters
    logging.getLogger("pypdf").setLevel(logging.ERROR)

    with _pdf_errors(file):
        reader = PdfReader(io.BytesIO(data))
        locked = reader.is_encrypted and not reader.decrypt("")
    if locked:
        raise InputError(
            _("{file}: PDF is encrypted and needs a password").format(file=file),
            hint=_("save an unprotected copy (print to PDF) and add that"),
        )
    with _pdf_errors(file):
        labels = list(reader.page_labels)
        pages = list(reader.pages)
    sections: list[_Section] = []
    for index, page in enumerate(pages):
        with _pdf_errors(file):
            text = page.extract_text() or ""
        label = labels[index] if index < len(labels) else ""
        sections.append((label or str(index + 1), None, text))
        if on_page is not None:
            on_page(index + 1, len(pages))
    return sections


@contextmanager
def _pdf_errors(file: Path) -> Iterator[None]:
    """pypdf raises many exception types on damaged files; all of them mean "unreadable"."""
    try:
        yield
    except Exception as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            _("{file}: PDF cannot be read ({detail})").format(file=file, detail=detail),
            hint=_("the file may be damaged or truncated; download it again"),
        ) from exc


# -- the library ----------------------------------------------------------------------------


class UserLibrary:
    """The user's documents under ``root``; cheap to build, creates folders on first write."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        lock_timeout: float = 10.0,
    ) -> None:
        self.root = root
        self.manifest_path = root / "manifest.json"
        self._clock = clock
        self._lock_timeout = lock_timeout

    def add(
        self, file: Path, *, title: str | None = None, on_page: PageCallback | None = None
    ) -> UserDoc:
        """Add ``file``; adding the same content again returns the document already there."""
        if file.is_dir():
            raise InputError(_("{file} is a directory").format(file=file), hint=_(_HINT_TYPES))
        kind = SUFFIXES.get(file.suffix.lower())
        if kind is None:
            message = _("{file}: unsupported file type {suffix}")
            raise InputError(
                message.format(file=file, suffix=repr(file.suffix)), hint=_(_HINT_TYPES)
            )
        data = _read_input(file)
        sha = hashlib.sha256(data).hexdigest()
        for existing in self.list():
            if existing.sha256 == sha:
                return existing
        sections = _sections(kind, data, file, on_page)
        pages = sum(1 for _, _, text in sections if normalise(text))
        title = " ".join((title or file.stem).split()) or file.name
        with self._locked():
            docs = self.list()
            for existing in docs:
                if existing.sha256 == sha:
                    return existing
            doc_id = _new_id(sha, {d.id for d in docs})
            chunks = _chunks(doc_id, sections)
            named = any(_ACS150.search(s) for s in (title, file.name, *(c.text for c in chunks)))
            doc = UserDoc(
                id=doc_id,
                title=title,
                filename=file.name,
                sha256=sha,
                kind=kind,
                pages=pages,
                chunks=len(chunks),
                added_at=self._clock().astimezone(UTC).isoformat(timespec="seconds"),
                drive="ACS150" if named else "user",
            )
            self._write(self.root / "files" / f"{sha}{file.suffix.lower()}", data)
            payload = {"schema": _SCHEMA, "doc": doc_id, "chunks": [asdict(c) for c in chunks]}
            self._write(self._chunks_path(doc_id), _dump(payload))
            self._write_manifest([*docs, doc])
        return doc

    def list(self) -> list[UserDoc]:
        """Documents in the order they were added."""
        raw = self._load_json(self.manifest_path)
        if raw is None:
            return []
        try:
            if raw.get("schema") != _SCHEMA:
                raise ValueError(f"unknown schema {raw.get('schema')!r}")
            return [UserDoc(**item) for item in raw["documents"]]
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise _corrupt(self.manifest_path, exc) from exc

    def find(self, ref: str) -> UserDoc:
        """The document ``ref`` names (as `remove` would), without changing anything."""
        return _resolve(self.list(), ref)

    def remove(self, ref: str) -> UserDoc:
        """Remove a document by id, unique id prefix (4+ characters), file name or title."""
        with self._locked():
            docs = self.list()
            doc = _resolve(docs, ref)
            self._write_manifest([d for d in docs if d.id != doc.id])
            for path in (self._chunks_path(doc.id), self._file_path(doc)):
                with suppress(OSError):  # no longer in the manifest: a stray file is harmless
                    path.unlink(missing_ok=True)
        return doc

    def entries(self) -> builtins.list[Entry]:
        """Every chunk of every document as an Entry of kind "document"."""
        return [_entry(doc, chunk) for doc in self.list() for chunk in self._load_chunks(doc)]

    def fingerprint(self) -> str:
        """Changes whenever a document is added or removed (hash of the manifest bytes)."""
        try:
            data = self.manifest_path.read_bytes()
        except FileNotFoundError:
            data = b""
        except OSError as exc:
            reason = _("cannot read {path}: {reason}")
            reason = reason.format(path=self.manifest_path, reason=exc.strerror)
            raise StoreError(reason, hint=_(_HINT_STORE)) from exc
        return f"userdocs-{_SCHEMA}-{hashlib.sha256(data).hexdigest()[:16]}"

    # -- storage helpers

    def _chunks_path(self, doc_id: str) -> Path:
        return self.root / "chunks" / f"{doc_id}.json"

    def _file_path(self, doc: UserDoc) -> Path:
        return self.root / "files" / f"{doc.sha256}{Path(doc.filename).suffix.lower()}"

    def _load_chunks(self, doc: UserDoc) -> builtins.list[Chunk]:
        path = self._chunks_path(doc.id)
        raw = self._load_json(path)
        if raw is None:
            raise StoreError(
                _("chunks of document {id} are missing: {path}").format(id=doc.id, path=path),
                hint=_("run `omar knowledge remove {id}` and add the file again").format(id=doc.id),
            )
        try:
            return [Chunk(**item) for item in raw["chunks"]]
        except (AttributeError, KeyError, TypeError) as exc:
            raise _corrupt(path, exc) from exc

    def _load_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _corrupt(path, exc) from exc
        except OSError as exc:
            reason = _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror)
            raise StoreError(reason, hint=_(_HINT_STORE)) from exc

    def _write_manifest(self, docs: builtins.list[UserDoc]) -> None:
        payload = {"schema": _SCHEMA, "documents": [asdict(d) for d in docs]}
        self._write(self.manifest_path, _dump(payload))

    def _write(self, path: Path, data: bytes) -> None:
        try:
            atomic_write_bytes(path, data)
        except OSError as exc:
            reason = _("cannot write {path}: {reason}").format(
                path=path, reason=exc.strerror or str(exc)
            )
            raise StoreError(reason, hint=_(_HINT_STORE)) from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock = FileLock(self.root / ".lock", timeout=self._lock_timeout)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except Timeout as exc:
            raise StoreError(
                _("knowledge store {path} is locked by another omar process").format(
                    path=self.root
                ),
                hint=_("wait for the other command to finish, then try again"),
            ) from exc
        except OSError as exc:
            reason = _("cannot use {path}: {reason}").format(path=self.root, reason=exc.strerror)
            raise StoreError(reason, hint=_(_HINT_STORE)) from exc
        try:
            yield
        finally:
            lock.release()


def _read_input(file: Path) -> bytes:
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(
            _("{file}: no such file").format(file=file), hint=_("check the path")
        ) from None
    except OSError as exc:  # a folder, no permission: strerror says which
        reason = (exc.strerror or str(exc)).lower()
        raise InputError(
            _("{file}: cannot read ({reason})").format(file=file, reason=reason),
            hint=_("check the path"),
        ) from None
    if not data.strip():
        raise InputError(_("{file}: file is empty").format(file=file), hint=_(_HINT_TYPES))
    return data


def _sections(
    kind: DocKind, data: bytes, file: Path, on_page: PageCallback | None
) -> list[_Section]:
    """The document's sections; refuses a document without any text."""
    if kind == "pdf":
        sections = _read_pdf(data, file, on_page)
    else:
        sections = (_read_markdown if kind == "markdown" else _read_text)(data, file)
    if any(normalise(text) for _, _, text in sections):
        return sections
    if kind == "pdf":
        raise InputError(
            _("{file}: PDF has no text layer (scanned or blank); OCR not supported").format(
                file=file
            ),
            hint=_("run it through an OCR tool first, or add its text as a .txt file"),
        )
    raise InputError(_("{file}: no text found").format(file=file), hint=_(_HINT_TYPES))


def _chunks(doc_id: str, sections: list[_Section]) -> list[Chunk]:
    """Chunk every section; ids stay unique even when a page label repeats."""
    seen: dict[str, int] = {}
    chunks = []
    for page, heading, raw in sections:
        slug = _slug(page)
        paragraphs = normalise(raw)
        cursor = 0
        for text in split_text(raw):
            seen[slug] = seen.get(slug, 0) + 1
            cursor = _paragraph_of(text, paragraphs, cursor)
            ident = f"doc-{doc_id}-{slug}-{seen[slug]}"
            chunks.append(Chunk(ident, page, heading, text, paragraph=cursor + 1))
    return chunks


def _paragraph_of(chunk: str, paragraphs: list[str], cursor: int) -> int:
    """Index of the paragraph ``chunk`` starts in, searching from ``cursor`` on (chunks come
    in order; an overlap carried from the previous chunk counts where it was written)."""
    start = chunk[:40]
    for index in range(cursor, len(paragraphs)):
        if start in paragraphs[index]:
            return index
    return cursor


def _slug(page: str | None) -> str:
    if page is None:
        return "c"
    return "p" + ("-".join(re.findall(r"[a-z0-9]+", page.lower())) or "x")


def _new_id(sha: str, taken: set[str]) -> str:
    length = _ID_LEN
    while sha[:length] in taken and length < len(sha):
        length += 1
    return sha[:length]


def _resolve(docs: list[UserDoc], ref: str) -> UserDoc:
    key = ref.strip().casefold()
    name = Path(ref.strip()).name.casefold()
    for matches in (
        [d for d in docs if d.id == key],
        [d for d in docs if name in (d.filename.casefold(), d.title.casefold())],
        [d for d in docs if len(key) >= _PREFIX_MIN and d.id.startswith(key)],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(d.id for d in matches)
            message = _("{ref} matches several documents: {ids}").format(ref=repr(ref), ids=ids)
            raise UsageError(message, hint=_("use the id"))
    raise NotFoundError(
        _("no document matches {ref}").format(ref=repr(ref)),
        hint=_("see `omar knowledge list` for ids and names"),
    )


def _entry(doc: UserDoc, chunk: Chunk) -> Entry:
    text = LangText(title=_title(doc, chunk), text=chunk.text)
    return Entry(
        id=chunk.id,
        kind="document",
        name=doc.title,
        lang={"es": text, "en": text},
        confidence="user",
        sources=(_source(doc, chunk),),
    )


def _title(doc: UserDoc, chunk: Chunk) -> str:
    if chunk.heading:
        return f"{doc.title} § {chunk.page} {chunk.heading}"
    if chunk.page and doc.kind != "markdown":
        return f"{doc.title} p. {chunk.page}"
    return doc.title


def _source(doc: UserDoc, chunk: Chunk) -> Source:
    """A PDF (or a text split by form feeds) is cited by page; Markdown by its section
    ("§ 1.2 Wiring"), and text without pages by paragraph ("¶ 4"): a section number is no
    page, and "p. 1.2" sends the reader looking for a page that does not exist."""
    if chunk.page and doc.kind != "markdown":
        return Source(doc=doc.title, page=chunk.page, drive=doc.drive)
    if chunk.heading:
        where = f"§ {chunk.page} {chunk.heading}"
    elif chunk.paragraph is not None:
        where = f"¶ {chunk.paragraph}"
    else:
        return Source(doc=doc.title, drive=doc.drive)
    return Source(doc=doc.title, drive=doc.drive, section=where)


def _corrupt(path: Path, exc: Exception) -> StoreError:
    return StoreError(
        _("corrupt knowledge store file {path} ({detail})").format(
            path=path, detail=" ".join(str(exc).split())
        ),
        hint=_("move it aside and add your documents again; OMAR will not overwrite it"),
    )


def _dump(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")

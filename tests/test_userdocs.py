"""Users' own documents: PDFs generated here with fpdf2, Markdown and text, in tmp_path."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from filelock import FileLock
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from omar_cli import i18n
from omar_cli.errors import InputError, NotFoundError, StoreError, UsageError
from omar_cli.knowledge import userdocs
from omar_cli.knowledge.model import KINDS, Entry
from omar_cli.knowledge.userdocs import CHUNK_MAX, UserDoc, UserLibrary, split_text


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """These tests read the English wording of the messages (the msgids)."""
    i18n.set_language("en")
    yield
    i18n.set_language(None)


FAULT_TEXT = (
    "F0001 OVERCURRENT. Output current has exceeded the trip level. "
    "Check the motor load and the acceleration time (2202)."
)
SENTENCE = "The drive checks the DC bus voltage before it starts the motor again. "


def make_pdf(path: Path, pages: list[str], *, labels: bool = False) -> Path:
    """A PDF with one text block per page; with labels: i, ii, then 129, 130, ..."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for index, text in enumerate(pages):
        pdf.add_page()
        if labels and index == 0:
            pdf.set_page_label(label_style="r")
        if labels and index == 2:
            pdf.set_page_label(label_style="D", label_start=129)
        if text:
            pdf.multi_cell(0, 5, text)
    path.write_bytes(bytes(pdf.output()))
    return path


def encrypt(source: Path, target: Path, user_password: str) -> Path:
    writer = PdfWriter(clone_from=source)
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    target.write_bytes(buffer.getvalue())
    return target


def ticking_clock() -> Callable[[], datetime]:
    """A clock that advances one minute per call: deterministic, ordered timestamps."""
    minutes = itertools.count()
    start = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return lambda: start + timedelta(minutes=next(minutes))


@pytest.fixture
def lib(tmp_path: Path) -> UserLibrary:
    return UserLibrary(tmp_path / "data" / "knowledge", clock=ticking_clock(), lock_timeout=0.05)


@pytest.fixture
def manual(tmp_path: Path) -> Path:
    pages = ["Safety instructions. Read them first.", "", "Start-up.", FAULT_TEXT]
    return make_pdf(tmp_path / "acs150_manual.pdf", pages, labels=True)


def by_id(entries: list[Entry]) -> dict[str, Entry]:
    return {entry.id: entry for entry in entries}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- PDFs -----------------------------------------------------------------------------------


def test_pdf_chunks_cite_the_printed_page_labels(lib: UserLibrary, manual: Path) -> None:
    doc = lib.add(manual, title="ACS150 manual")
    entries = by_id(lib.entries())
    assert doc.kind == "pdf" and doc.pages == 3 and doc.chunks == 3  # blank page ii skipped
    assert doc.drive == "ACS150" and doc.id == doc.sha256[:10]
    assert [e.sources[0].page for e in entries.values()] == ["i", "129", "130"]
    fault = entries[f"doc-{doc.id}-p130-1"]
    assert "F0001 OVERCURRENT" in fault.lang["en"].text
    assert fault.lang["en"].title == "ACS150 manual p. 130"
    assert fault.sources[0].label() == "ACS150 manual, p. 130"


def test_pdf_without_labels_uses_one_based_index(lib: UserLibrary, tmp_path: Path) -> None:
    doc = lib.add(make_pdf(tmp_path / "notes.pdf", ["first page", FAULT_TEXT]))
    pages = {e.sources[0].page: e.lang["en"].text for e in lib.entries()}
    assert pages == {"1": "first page", "2": FAULT_TEXT}
    assert doc.title == "notes" and doc.drive == "user"


def test_repeated_page_labels_keep_entry_ids_unique(lib: UserLibrary, tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for text in ("part A first", "part A second", "part B first"):
        pdf.add_page()
        if text.endswith("first"):
            pdf.set_page_label(label_style="D", label_start=1)  # each part restarts at 1
        pdf.multi_cell(0, 5, text)
    (tmp_path / "parts.pdf").write_bytes(bytes(pdf.output()))
    doc = lib.add(tmp_path / "parts.pdf")
    cited = [(e.id, e.sources[0].page) for e in lib.entries()]
    assert cited == [
        (f"doc-{doc.id}-p1-1", "1"),
        (f"doc-{doc.id}-p2-1", "2"),
        (f"doc-{doc.id}-p1-2", "1"),
    ]


def test_pdf_progress_callback_sees_every_page(lib: UserLibrary, manual: Path) -> None:
    calls: list[tuple[int, int]] = []
    lib.add(manual, on_page=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_long_pdf_page_is_split_with_overlap(lib: UserLibrary, tmp_path: Path) -> None:
    long_page = " ".join(f"Step {n}: the drive checks the DC bus voltage again." for n in range(50))
    doc = lib.add(make_pdf(tmp_path / "long.pdf", ["intro", long_page]))
    texts = [e.lang["en"].text for e in lib.entries() if e.sources[0].page == "2"]
    assert len(texts) == 4 and doc.chunks == 5
    assert all(800 <= len(t) <= CHUNK_MAX for t in texts[:-1])
    assert [e.id.rsplit("-", 1)[1] for e in lib.entries()][1:] == ["1", "2", "3", "4"]
    for before, after in itertools.pairwise(texts):  # the last sentence is carried over
        assert after.startswith(before.rsplit(". ", 1)[-1])


def test_encrypted_pdf_is_refused(lib: UserLibrary, manual: Path, tmp_path: Path) -> None:
    locked = encrypt(manual, tmp_path / "locked.pdf", user_password="secret")
    with pytest.raises(InputError, match="encrypted and needs a password") as info:
        lib.add(locked)
    assert info.value.hint and "\n" not in info.value.message


def test_pdf_with_only_an_owner_password_is_readable(
    lib: UserLibrary, manual: Path, tmp_path: Path
) -> None:
    doc = lib.add(encrypt(manual, tmp_path / "restricted.pdf", user_password=""))
    assert doc.chunks == 3


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("fake.pdf", b"<html>not a pdf</html>", "not a PDF file"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "PDF cannot be read"),
        ("empty.txt", b"  \n", "file is empty"),
        ("binary.txt", b"\x00\x01\x02abc", "binary file"),
        ("manual.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
        ("headings.md", b"# Only\n## headings\n", "no text found"),
    ],
)
def test_bad_files_are_input_errors(
    lib: UserLibrary, tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        lib.add(path)
    assert "\n" not in info.value.message and info.value.hint
    assert not lib.root.exists()  # nothing written for a refused file


def test_truncated_pdf_is_an_input_error(lib: UserLibrary, manual: Path) -> None:
    data = manual.read_bytes()
    manual.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="PDF cannot be read"):
        lib.add(manual)


def test_blank_pdf_says_ocr_is_not_supported(lib: UserLibrary, tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a drawing, no text: like a scanned page
    (tmp_path / "scan.pdf").write_bytes(bytes(pdf.output()))
    with pytest.raises(InputError, match=r"no text layer.*OCR not supported"):
        lib.add(tmp_path / "scan.pdf")


def test_missing_file_and_folder(lib: UserLibrary, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no such file"):  # exit 3, like any unknown name
        lib.add(tmp_path / "nope.pdf")
    (tmp_path / "folder.txt").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        lib.add(tmp_path / "folder.txt")


# -- Markdown and text ----------------------------------------------------------------------

MARKDOWN = """Preamble before any heading.

# Faults

Fault codes as the panel shows them.

## F0001 Overcurrent

Check the motor cables and the
acceleration time.

```
# not a heading: inside a code block
```

## F0002 Overvoltage

Check the deceleration ramp.

# Parameters

Parameter 2202 sets the acceleration time.
"""


def test_markdown_is_split_by_headings(lib: UserLibrary, tmp_path: Path) -> None:
    doc = lib.add(write(tmp_path / "notes.md", MARKDOWN), title="Shop notes")
    entries = lib.entries()
    sections = [(e.sources[0].label(), e.lang["en"].title) for e in entries]
    # cited by section, never as a page ("p. 1.2" is no page of the document)
    assert sections == [
        ("Shop notes, ¶ 1 [user]", "Shop notes"),
        ("Shop notes, § 1 Faults [user]", "Shop notes § 1 Faults"),
        ("Shop notes, § 1.1 F0001 Overcurrent [user]", "Shop notes § 1.1 F0001 Overcurrent"),
        ("Shop notes, § 1.2 F0002 Overvoltage [user]", "Shop notes § 1.2 F0002 Overvoltage"),
        ("Shop notes, § 2 Parameters [user]", "Shop notes § 2 Parameters"),
    ]
    assert all(e.sources[0].page is None for e in entries)
    assert "# not a heading" in entries[2].lang["en"].text
    assert entries[2].id == f"doc-{doc.id}-p1-1-1"
    assert doc.kind == "markdown" and doc.pages == 5


def test_text_is_dehyphenated_and_split_by_form_feeds(lib: UserLibrary, tmp_path: Path) -> None:
    text = "Page one: the motor over-\ncurrent trips\nthe drive.\n\nSecond paragraph.\fPage two."
    doc = lib.add(write(tmp_path / "export.txt", text))
    entries = lib.entries()
    assert doc.kind == "text" and doc.pages == 2
    assert entries[0].lang["en"].text == (
        "Page one: the motor overcurrent trips the drive.\n\nSecond paragraph."
    )
    assert [(e.id, e.sources[0].page) for e in entries] == [
        (f"doc-{doc.id}-p1-1", "1"),
        (f"doc-{doc.id}-p2-1", "2"),
    ]


def test_text_without_pages_has_no_page(lib: UserLibrary, tmp_path: Path) -> None:
    text = "\n\n".join(SENTENCE * 6 for _ in range(8))  # eight paragraphs of ~430 characters
    doc = lib.add(write(tmp_path / "log.txt", text))
    entries = lib.entries()
    assert doc.chunks == len(entries) >= 3
    assert all(e.sources[0].page is None and e.lang["en"].title == "log" for e in entries)
    assert all(len(e.lang["en"].text) <= CHUNK_MAX for e in entries)
    assert entries[0].id == f"doc-{doc.id}-c-1"


def test_split_text_keeps_every_sentence_and_the_size_range() -> None:
    sentences = [f"Sentence number {n} about the drive and its motor." for n in range(120)]
    chunks = split_text(" ".join(sentences))
    assert all(len(c) <= CHUNK_MAX for c in chunks)
    assert all(len(c) >= 800 for c in chunks[:-1])
    joined = " ".join(chunks)
    assert all(s in joined for s in sentences)
    assert split_text("word " * 600)  # a run-on "sentence" is cut at words
    assert all(len(c) <= CHUNK_MAX for c in split_text("x" * 5000))


# -- the library ----------------------------------------------------------------------------


def test_add_is_idempotent_on_content(lib: UserLibrary, manual: Path, tmp_path: Path) -> None:
    first = lib.add(manual)
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(manual.read_bytes())
    assert lib.add(copy, title="other") == first
    assert lib.list() == [first]
    stored = lib.root / "files" / f"{first.sha256}.pdf"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == first.sha256


def test_list_keeps_order_and_survives_a_new_instance(
    lib: UserLibrary, manual: Path, tmp_path: Path
) -> None:
    a = lib.add(manual)
    b = lib.add(write(tmp_path / "b.txt", "hello"))
    assert lib.list() == [a, b]
    assert a.added_at == "2026-01-02T03:04:05+00:00" and b.added_at > a.added_at
    assert UserLibrary(lib.root).list() == [a, b]


@pytest.mark.parametrize("ref", ["id", "prefix", "ACS150 manual", "acs150_manual.pdf"])
def test_remove_by_id_prefix_title_or_filename(
    lib: UserLibrary, manual: Path, tmp_path: Path, ref: str
) -> None:
    doc = lib.add(manual, title="ACS150 manual")
    other = lib.add(write(tmp_path / "other.txt", "other"))
    key = {"id": doc.id, "prefix": doc.id[:5]}.get(ref, ref)
    assert lib.remove(key) == doc
    assert lib.list() == [other]
    assert all(e.name != "ACS150 manual" for e in lib.entries())
    assert not (lib.root / "chunks" / f"{doc.id}.json").exists()
    assert not (lib.root / "files" / f"{doc.sha256}.pdf").exists()


def test_remove_unknown_or_ambiguous(lib: UserLibrary, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no document matches 'nothing'"):
        lib.remove("nothing")
    lib.add(write(tmp_path / "a.txt", "one"), title="Same")
    lib.add(write(tmp_path / "b.txt", "two"), title="Same")
    with pytest.raises(UsageError, match="matches several documents"):
        lib.remove("same")
    with pytest.raises(NotFoundError):
        lib.remove(lib.list()[0].id[:3])  # prefixes shorter than 4 are not accepted


def colliding_texts() -> tuple[str, str]:
    """Two texts whose sha256 share the first four hex digits (found in a few hundred tries)."""
    seen: dict[str, str] = {}
    for n in itertools.count():
        text = f"note {n}"
        prefix = hashlib.sha256(text.encode()).hexdigest()[:4]
        if prefix in seen:
            return seen[prefix], text
        seen[prefix] = text
    raise AssertionError("unreachable")


def test_ambiguous_id_prefix(lib: UserLibrary, tmp_path: Path) -> None:
    first, second = colliding_texts()
    doc = lib.add(write(tmp_path / "a.txt", first))
    lib.add(write(tmp_path / "b.txt", second))
    with pytest.raises(UsageError, match="matches several"):
        lib.remove(doc.id[:4])
    assert lib.remove(doc.id[:10]) == doc


def test_entries_are_valid_document_entries(lib: UserLibrary, manual: Path, tmp_path: Path) -> None:
    lib.add(manual, title="ACS150 manual")
    lib.add(write(tmp_path / "notes.md", MARKDOWN))
    entries = lib.entries()
    assert len({e.id for e in entries}) == len(entries) == 8
    for entry in entries:
        assert entry.kind == "document" and entry.kind in KINDS
        assert entry.confidence == "user" and not entry.needs_verification
        assert entry.lang["es"] == entry.lang["en"] and entry.lang["en"].text
        assert entry.lang["en"].keywords == () and len(entry.sources) == 1
        assert entry.sources[0].doc == entry.name
        assert entry.id.startswith("doc-") and entry.id == entry.id.lower()


def test_fingerprint_changes_on_add_and_remove(
    lib: UserLibrary, manual: Path, tmp_path: Path
) -> None:
    empty = lib.fingerprint()
    assert not lib.root.exists()  # reading never creates folders
    doc = lib.add(manual)
    added = lib.fingerprint()
    assert added != empty
    lib.add(manual)
    assert lib.fingerprint() == added == UserLibrary(lib.root).fingerprint()
    lib.add(write(tmp_path / "x.txt", "x"))
    assert lib.fingerprint() not in (empty, added)
    lib.remove(doc.id)
    assert lib.fingerprint() not in (empty, added)


# -- storage failures -----------------------------------------------------------------------


def test_manifest_survives_a_crash_during_write(
    lib: UserLibrary, manual: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = lib.add(manual)
    before = lib.manifest_path.read_bytes()
    real_replace = os.replace

    def crash_on_manifest(src: str, dst: str | Path) -> None:
        if Path(dst).name == "manifest.json":
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_manifest)
    with pytest.raises(StoreError, match=r"cannot write .*manifest\.json: No space left"):
        lib.add(write(tmp_path / "new.txt", "new document"))
    with pytest.raises(StoreError):
        lib.remove(doc.id)
    assert lib.manifest_path.read_bytes() == before
    assert lib.list() == [doc]
    assert not list(lib.root.glob(".manifest.json.*"))  # no temp file left behind


def test_corrupt_manifest_is_reported_and_not_overwritten(
    lib: UserLibrary, manual: Path, tmp_path: Path
) -> None:
    lib.root.mkdir(parents=True)
    lib.manifest_path.write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match=r"corrupt .*manifest\.json") as info:
        lib.list()
    assert "\n" not in info.value.message and info.value.hint
    with pytest.raises(StoreError, match=r"manifest\.json"):
        lib.add(manual)
    assert lib.manifest_path.read_text(encoding="utf-8") == "{not json"


@pytest.mark.parametrize("manifest", [[], {"schema": 1}, {"schema": 1, "documents": [{}]}])
def test_manifest_of_the_wrong_shape_is_corrupt(lib: UserLibrary, manifest: object) -> None:
    lib.root.mkdir(parents=True)
    lib.manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(StoreError, match="corrupt"):
        lib.list()


def test_missing_chunks_file_is_a_store_error(lib: UserLibrary, manual: Path) -> None:
    doc = lib.add(manual)
    (lib.root / "chunks" / f"{doc.id}.json").unlink()
    with pytest.raises(StoreError, match=f"chunks of document {doc.id} are missing"):
        lib.entries()


@pytest.fixture
def held_lock(lib: UserLibrary) -> Iterator[None]:
    lib.root.mkdir(parents=True)
    with FileLock(lib.root / ".lock"):
        yield


@pytest.mark.usefixtures("held_lock")
def test_locked_store_is_a_store_error(lib: UserLibrary, manual: Path) -> None:
    with pytest.raises(StoreError, match="locked by another omar process"):
        lib.add(manual)


def test_userdoc_round_trips_through_the_manifest(lib: UserLibrary, manual: Path) -> None:
    doc = lib.add(manual)
    raw = json.loads(lib.manifest_path.read_text(encoding="utf-8"))
    assert raw["schema"] == 1 and UserDoc(**raw["documents"][0]) == doc
    assert PdfReader(lib.root / "files" / f"{doc.sha256}.pdf").page_labels[3] == "130"


def test_import_does_not_load_pypdf() -> None:
    code = "import sys, omar_cli.knowledge.userdocs; print('pypdf' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
    assert userdocs.__name__  # the module under test is the one imported above

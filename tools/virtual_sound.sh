#!/usr/bin/env bash
# A virtual sound card for the real recording test (tests/test_record_sound.py): PulseAudio
# with a 16 kHz mono null sink whose monitor is the default source, so PortAudio (through
# ALSA's pulse plug-in) records whatever is played into the sink, e.g. espeak-ng.
# Needs: libportaudio2 pulseaudio (pulseaudio-utils for pactl/pacat) espeak-ng.
# Idempotent: a server already running with the sink is left as it is.
set -euo pipefail

command -v pulseaudio >/dev/null || { echo "virtual_sound: pulseaudio is not installed" >&2; exit 1; }
if ! pactl info >/dev/null 2>&1; then
  # as root pulseaudio warns ("running in system mode"?) but runs; it must never exit idle
  pulseaudio -D --exit-idle-time=-1 --log-target=stderr 2>/dev/null || true
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
fi
pactl info >/dev/null 2>&1 || { echo "virtual_sound: the PulseAudio server did not start" >&2; exit 1; }

if ! pactl list short sinks | grep -q '^[0-9]*\svsink\s'; then
  pactl load-module module-null-sink sink_name=vsink rate=16000 channels=1 >/dev/null
fi
pactl set-default-sink vsink
pactl set-default-source vsink.monitor

# A silent, low-latency stream kept playing into the sink, so a new capture stream gets
# frames at once instead of waiting for the sink to wake up.
if ! pgrep -f 'pacat --playback --device=vsink' >/dev/null 2>&1; then
  nohup sh -c 'exec pacat --playback --device=vsink --rate=16000 --channels=1 --format=s16le --latency-msec=20 < /dev/zero' >/dev/null 2>&1 &
fi
echo "virtual_sound: vsink ready (default sink vsink, default source vsink.monitor)"

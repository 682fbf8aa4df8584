"""Transcript exports (WebVTT, SRT, JSON, RTTM): parsed back, times checked, through the library and `callqa export`."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from callqa.cli import app
from callqa.report.export import CueOptions, clock, cues, export, rttm_uri, to_rttm, to_srt, to_vtt
from callqa.report.view import call_view
from callqa.store import Store

import report_helpers as rh

runner = CliRunner()
TIMING = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([.,])(\d{3}) --> (\d{2}):(\d{2}):(\d{2})([.,])(\d{3})$")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return rh.report_db(tmp_path_factory)


@pytest.fixture(scope="module")
def views(db):
    with Store(db.path).connect_read() as con:
        return {cid: call_view(con, cid, db.path) for cid in (rh.GOOD, rh.BAD)}


def _seconds(h, m, s, ms) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_cues(text: str, *, sep: str):
    """[(start, end, [lines])] of a VTT (sep '.') or SRT (sep ',') document; strict about the layout."""
    blocks = [b for b in text.strip("\n").split("\n\n") if b]
    if sep == ".":
        assert blocks[0].startswith("WEBVTT"), blocks[0]
        blocks = blocks[1:]
    out = []
    for n, block in enumerate(blocks, 1):
        lines = block.split("\n")
        assert lines[0] == str(n), block
        m = TIMING.match(lines[1])
        assert m and m.group(4) == sep and m.group(9) == sep, lines[1]
        start, end = _seconds(*m.group(1, 2, 3, 5)), _seconds(*m.group(6, 7, 8, 10))
        assert end >= start
        assert 1 <= len(lines[2:]) <= 2 and all(line.strip() for line in lines[2:]), block
        out.append((start, end, lines[2:]))
    return out


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _turn_at(view, start: float, end: float):
    hits = [t for t in view["turns"] if t["start"] - 1e-3 <= start and end <= t["end"] + 1e-3]
    assert hits, (start, end)
    return hits


@pytest.mark.parametrize("call", [rh.GOOD, rh.BAD])
def test_vtt_parses_back_to_the_turns(views, call):
    view = views[call]
    parsed = parse_cues(to_vtt(view), sep=".")
    texts: dict[int, list[str]] = {}
    for start, end, lines in parsed:
        m = re.match(r"^<v ([^>]+)>(.*)$", lines[0])
        assert m, lines[0]
        voice, text = m.group(1), " ".join([m.group(2), *lines[1:]])
        assert "<" not in text.replace("&lt;", "")  # every '<' of the text is escaped
        turns = [t for t in _turn_at(view, start, end) if t["role"] == voice]
        assert turns, (voice, start, end)
        texts.setdefault(turns[0]["index"], []).append(_unescape(text))
    assert {i: " ".join(parts) for i, parts in texts.items()} == {t["index"]: t["text"] for t in view["turns"]}
    assert [c[0] for c in parsed] == sorted(c[0] for c in parsed)


def test_vtt_escapes_markup_and_keeps_redaction_tokens(views):
    vtt = to_vtt(views[rh.BAD])
    assert rh.HOSTILE_WORD not in vtt and "&lt;i&gt;really&lt;/i&gt;" in vtt
    assert "[CARD_NUMBER]" in vtt


def test_srt_parses_back_with_speaker_labels(views):
    view = views[rh.GOOD]
    parsed = parse_cues(to_srt(view), sep=",")
    assert len(parsed) == len(cues(view))
    joined: dict[int, list[str]] = {}
    for start, end, lines in parsed:
        role, _, text = " ".join(lines).partition(": ")
        (turn,) = [t for t in _turn_at(view, start, end) if t["role"] == role]
        joined.setdefault(turn["index"], []).append(text)
    assert {i: " ".join(p) for i, p in joined.items()} == {t["index"]: t["text"] for t in view["turns"]}


def test_cues_overlap_where_the_speech_does(views):
    view = views[rh.GOOD]
    overlap = view["metrics"]["overlaps"][0]
    spoken = [c for c in cues(view) if c.start < overlap["end_s"] and c.end > overlap["start_s"]]
    assert {c.speaker for c in spoken} == {"agent", "customer"}


def _long_turn_view(words):
    return {"call_id": "e" * 64, "source": "x.wav", "turns": [{
        "index": 0, "speaker": "S1", "role": "unknown", "start": words[0][1], "end": words[-1][2], "text": "",
        "words": [{"text": w, "start": a, "end": b, "probability": 0.9} for w, a, b in words]}]}


def test_long_turns_are_cut_into_subtitle_cues():
    words = [(f"word{k:02d}", k * 0.4, k * 0.4 + 0.3) for k in range(40)]
    words[20] = ("word20", 8.0 + 3.0, 8.0 + 3.3)  # a 3 s pause before word 20
    words = [(w, a + (3.0 if k > 20 else 0.0), b + (3.0 if k > 20 else 0.0)) for k, (w, a, b) in enumerate(words)]
    opts = CueOptions()
    got = cues(_long_turn_view(words), opts)
    assert " ".join(c.text for c in got) == " ".join(w for w, _, _ in words)
    assert all(len(c.text) <= opts.max_chars and c.end - c.start <= opts.max_cue_s for c in got)
    assert any(c.text.startswith("word20") for c in got)          # the pause starts a cue
    assert {c.speaker for c in got} == {"S1"}                     # unknown role: the diarization label


def test_cue_separator_in_text_cannot_end_a_cue():
    view = _long_turn_view([("a", 0.0, 0.3), ("-->", 0.4, 0.7), ("b", 0.8, 1.0)])
    for text, sep in ((to_vtt(view), "."), (to_srt(view), ",")):
        (cue,) = parse_cues(text, sep=sep)
        assert "-->" not in " ".join(cue[2])


@pytest.mark.parametrize("seconds, vtt, srt", [
    (0.0, "00:00:00.000", "00:00:00,000"),
    (1.2345, "00:00:01.234", "00:00:01,234"),
    (59.9996, "00:01:00.000", "00:01:00,000"),
    (3661.5, "01:01:01.500", "01:01:01,500"),
    (-0.2, "00:00:00.000", "00:00:00,000"),
])
def test_clock(seconds, vtt, srt):
    assert clock(seconds) == vtt and clock(seconds, decimal=",") == srt


def test_rttm_lines(views):
    view = views[rh.BAD]
    lines = to_rttm(view).splitlines()
    assert len(lines) == len(view["turns"])
    assert rttm_uri(view) == "b2b2b2_call"                         # "b2b2b2 call.flac": no spaces in a field
    for line, turn in zip(lines, sorted(view["turns"], key=lambda t: t["start"])):
        f = line.split(" ")
        assert len(f) == 10 and f[0] == "SPEAKER" and f[1] == "b2b2b2_call" and f[2] == "1"
        assert f[5] == f[6] == f[8] == f[9] == "<NA>"
        assert float(f[3]) == pytest.approx(turn["start"], abs=5e-4)
        assert float(f[3]) + float(f[4]) == pytest.approx(turn["end"], abs=1e-3)
        assert f[7] == turn["speaker"]
    roles = [line.split(" ")[7] for line in to_rttm(view, speakers="role").splitlines()]
    assert roles == [t["role"] for t in sorted(view["turns"], key=lambda t: t["start"])]
    with pytest.raises(ValueError, match="label, role"):
        to_rttm(view, speakers="name")


def test_json_export_is_the_show_document(db):
    shown = runner.invoke(app, ["show", rh.GOOD[:10], "--db", str(db.path), "--format", "json"])
    exported = runner.invoke(app, ["export", rh.GOOD[:10], "--db", str(db.path), "--format", "json"])
    assert shown.exit_code == 0 and exported.exit_code == 0, exported.output
    assert exported.stdout == shown.stdout
    doc = json.loads(exported.stdout)
    assert doc["call_id"] == rh.GOOD and doc["evaluation"]["score"] == 100.0


def test_export_command_writes_files_and_checks_its_options(db, tmp_path):
    out = tmp_path / "sub" / "call.vtt"
    result = runner.invoke(app, ["export", rh.GOOD[:8], "--db", str(db.path), "--format", "vtt", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("WEBVTT")
    result = runner.invoke(app, ["export", rh.BAD[:8], "--db", str(db.path), "-f", "rttm", "--speakers", "role"])
    assert result.exit_code == 0 and result.stdout.splitlines()[0].split(" ")[7] == "agent"
    bad = runner.invoke(app, ["export", rh.GOOD[:8], "--db", str(db.path), "--format", "docx"])
    assert bad.exit_code == 2 and "vtt, srt, json, rttm" in bad.output
    missing = runner.invoke(app, ["export", "ffff", "--db", str(db.path), "--format", "vtt"])
    assert missing.exit_code == 1


@pytest.mark.parametrize("fmt", ["vtt", "srt", "json", "rttm"])
def test_no_planted_raw_number_reaches_an_export(views, fmt):
    for view in views.values():
        text = export(view, fmt)
        assert not [raw for raw in rh.RAW_FORMS if raw in text], fmt
